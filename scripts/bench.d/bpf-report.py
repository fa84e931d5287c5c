#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Tables of "scripts/bench --bpf" from its raw lines (bench.d/bpf-guest)."""
import statistics
import sys

scan = {}       # (metric, procs, layers) -> [(ns, procs found, answers)]
diffs = {}      # (procs, layers) -> [different entries per round]
dlopen = {}
activate = {}   # procs -> [ns]
idle = []
for line in open(sys.argv[1]):
    f = line.split()
    if not f or f[0].startswith("#"):
        continue
    if f[0] in ("scan_iter", "scan_proc") and len(f) >= 7:
        scan.setdefault((f[0], int(f[1]), int(f[2])), []).append(
            (int(f[4]), int(f[5]), int(f[6])))
    elif f[0] == "scan_diff" and len(f) >= 6:
        diffs.setdefault((int(f[1]), int(f[2])), []).append(int(f[5]))
    elif f[0].startswith("dlopen_") and len(f) >= 3:
        dlopen.setdefault(f[0], []).append(int(f[2]))
    elif f[0] == "activate_ns" and len(f) >= 3:
        activate.setdefault(int(f[1]), []).append(int(f[2]))
    elif f[0] == "daemon_idle" and len(f) >= 8:
        idle.append([int(x) for x in f[1:8]])


def med(samples, i=0):
    return statistics.median(s[i] for s in samples)


print("patchlayer BPF benchmark (medians of %d rounds)" %
      max((len(v) for v in scan.values()), default=0))
print()
if scan:
    print("scan of every process, answering for every active layer at once: the task_vma")
    print("iterator against a C parse of /proc/*/maps, back to back; procs: processes found,")
    print("answers: (process, layer, patched|stale) entries, diff: entries in one answer only")
    print()
    print("%6s %6s %12s %14s %8s %7s %8s %5s" %
          ("procs", "layers", "iterator ms", "/proc parse ms", "speedup", "procs", "answers", "diff"))
    for p, l in sorted({(k[1], k[2]) for k in scan}):
        it, pr = scan.get(("scan_iter", p, l)), scan.get(("scan_proc", p, l))
        if not it or not pr:
            continue
        found = sorted({s[1] for s in it} | {s[1] for s in pr})
        answers = sorted({s[2] for s in it} | {s[2] for s in pr})
        print("%6d %6d %12.2f %14.2f %7.1fx %7s %8s %5d" %
              (p, l, med(it) / 1e6, med(pr) / 1e6, med(pr) / med(it),
               "/".join(map(str, found)), "/".join(map(str, answers)),
               max(diffs.get((p, l), [0]))))
    print()
    for p in sorted({k[1] for k in scan}):
        one, sixteen = scan.get(("scan_iter", p, 1)), scan.get(("scan_iter", p, 16))
        if one and sixteen:
            print("  %d processes: the iterator with 16 layers costs %.2fx that with 1" %
                  (p, med(sixteen) / med(one)))
    print()
if activate:
    print("activation of each of the 16 layers (1 file each), the module's activate_ns")
    for p in sorted(activate):
        print("  %6d processes: median %7.1f us  [%.1f-%.1f]" %
              (p, statistics.median(activate[p]) / 1e3, min(activate[p]) / 1e3,
               max(activate[p]) / 1e3))
    print()
for p, l, secs, ut, st, wake, hz in idle:
    cpu = (ut + st) / hz
    print("the daemon at rest, %d processes, %d layers active, %d s: %.2f s of CPU "
          "(user %.2f, system %.2f) = %.3f%% of one CPU; %d wake-ups" %
          (p, l, secs, cpu, ut / hz, st / hz, 100.0 * cpu / secs, wake))
if idle:
    print()
print("dlopen+dlclose (RTLD_NOW), mean per pair over 500")
for lib in ("libcap",):
    on, off = "dlopen_%s_on" % lib, "dlopen_%s_off" % lib
    if on in dlopen and off in dlopen:
        a, b = statistics.median(dlopen[on]), statistics.median(dlopen[off])
        print("  %-8s BPF side off %8.1f us, on %8.1f us, overhead %+5.1f%%" %
              (lib, b / 1e3, a / 1e3, (a / b - 1) * 100))
