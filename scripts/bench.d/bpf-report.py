#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Tables of "scripts/bench --bpf" from its raw lines (bench.d/bpf-guest)."""
import statistics
import sys

scan = {}       # (metric, procs, layers) -> [(ns, procs found, answers)]
diffs = {}      # (procs, layers) -> [(lists' different entries, iterator's) per round]
walked = {}     # (procs, layers) -> [(processes walked, all walked) per round]
dlopen = {}
activate = {}   # procs -> [ns]
settled = {}    # procs -> [ns], all of them asleep (from November 29, 2026)
cycles = {}     # procs -> [ns], one layer activated and dropped 100 times
idle = []
for line in open(sys.argv[1]):
    f = line.split()
    if not f or f[0].startswith("#"):
        continue
    if f[0] in ("scan_lists", "scan_iter", "scan_proc") and len(f) >= 7:
        scan.setdefault((f[0], int(f[1]), int(f[2])), []).append(
            (int(f[4]), int(f[5]), int(f[6])))
    elif f[0] == "scan_diff" and len(f) >= 7:
        diffs.setdefault((int(f[1]), int(f[2])), []).append((int(f[5]), int(f[6])))
    elif f[0] == "scan_diff" and len(f) >= 6:
        # before the lists: the iterator's alone
        diffs.setdefault((int(f[1]), int(f[2])), []).append((0, int(f[5])))
    elif f[0] == "scan_walked" and len(f) >= 7:
        walked.setdefault((int(f[1]), int(f[2])), []).append((int(f[5]), int(f[6])))
    elif f[0].startswith("dlopen_") and len(f) >= 3:
        dlopen.setdefault(f[0], []).append(int(f[2]))
    elif f[0] == "activate_ns" and len(f) >= 3:
        activate.setdefault(int(f[1]), []).append(int(f[2]))
    elif f[0] == "activate_settled_ns" and len(f) >= 3:
        settled.setdefault(int(f[1]), []).append(int(f[2]))
    elif f[0] == "activate_cycle_ns" and len(f) >= 3:
        cycles.setdefault(int(f[1]), []).append(int(f[2]))
    elif f[0] == "daemon_idle" and len(f) >= 8:
        # the major faults: from November 29, 2026
        idle.append([int(x) for x in f[1:9]] + ([] if len(f) >= 9 else [-1]))


def med(samples, i=0):
    return statistics.median(s[i] for s in samples)


print("patchlayer BPF benchmark (medians of %d rounds)" %
      max((len(v) for v in scan.values()), default=0))
print()
if scan:
    print("scan of every process, answering for every active layer at once, back to back:")
    print("lists: from the per-process lists the BPF side keeps (one visit per process;")
    print("walked: processes whose mappings it walked, max of the rounds; 'all': one pass over")
    print("every mapping), iterator: the task_vma iterator over every mapping (usage --rescan),")
    print("and a C parse of /proc/*/maps; speedup: the parse's time over each; procs: processes")
    print("found, answers: (process, layer, patched|stale) entries, diff: entries in one answer")
    print("and not the parse's (lists/iterator)")
    print()
    print("%6s %6s %9s %6s %11s %10s %7s %7s %7s %8s %5s" %
          ("procs", "layers", "lists ms", "walked", "iterator ms", "/proc ms",
           "lists", "iter", "procs", "answers", "diff"))
    for p, l in sorted({(k[1], k[2]) for k in scan}):
        li = scan.get(("scan_lists", p, l))
        it, pr = scan.get(("scan_iter", p, l)), scan.get(("scan_proc", p, l))
        if not it or not pr:
            continue
        runs = [s for s in (li, it, pr) if s]
        found = sorted(set().union(*({s[1] for s in r} for r in runs)))
        answers = sorted(set().union(*({s[2] for s in r} for r in runs)))
        w = walked.get((p, l), [])
        wtxt = "all" if any(x[1] for x in w) else str(max((x[0] for x in w), default=0))
        d = diffs.get((p, l), [(0, 0)])
        print("%6d %6d %9s %6s %11.2f %10.2f %7s %6.1fx %7s %8s %5s" %
              (p, l, "%.2f" % (med(li) / 1e6) if li else "-", wtxt if li else "-",
               med(it) / 1e6, med(pr) / 1e6,
               "%.1fx" % (med(pr) / med(li)) if li else "-", med(pr) / med(it),
               "/".join(map(str, found)), "/".join(map(str, answers)),
               "%d/%d" % (max(x[0] for x in d), max(x[1] for x in d))))
    print()
    for p in sorted({k[1] for k in scan}):
        for m, name in (("scan_lists", "the lists' scan"), ("scan_iter", "the iterator")):
            one, sixteen = scan.get((m, p, 1)), scan.get((m, p, 16))
            if one and sixteen:
                print("  %d processes: %s with 16 layers costs %.2fx that with 1" %
                      (p, name, med(sixteen) / med(one)))
    print()
if activate:
    print("activation of each of the 16 layers (1 file each), the module's activate_ns")
    print("(wall time): right after half the processes were spawned, then again with")
    print("all of them present and asleep (settled)")
    for p in sorted(activate):
        print("  %6d processes: median %7.1f us  [%.1f-%.1f]" %
              (p, statistics.median(activate[p]) / 1e3, min(activate[p]) / 1e3,
               max(activate[p]) / 1e3))
    for p in sorted(settled):
        print("  %6d settled:   median %7.1f us  [%.1f-%.1f]" %
              (p, statistics.median(settled[p]) / 1e3, min(settled[p]) / 1e3,
               max(settled[p]) / 1e3))
    for p in sorted(cycles):
        q = statistics.quantiles(cycles[p], n=4)
        print("  %6d, one layer activated %d times: median %7.1f us, quartiles %.1f-%.1f" %
              (p, len(cycles[p]), statistics.median(cycles[p]) / 1e3, q[0] / 1e3, q[2] / 1e3))
    print()
for p, l, secs, ut, st, wake, hz, majflt in idle:
    cpu = (ut + st) / hz
    print("the daemon at rest, %d processes, %d layers active, %d s: %.2f s of CPU "
          "(user %.2f, system %.2f) = %.3f%% of one CPU; %d wake-ups%s" %
          (p, l, secs, cpu, ut / hz, st / hz, 100.0 * cpu / secs, wake,
           "" if majflt < 0 else ", %d major faults" % majflt))
if idle:
    print()
print("dlopen+dlclose (RTLD_NOW), mean per pair over 500")
for lib in ("libcap",):
    on, off = "dlopen_%s_on" % lib, "dlopen_%s_off" % lib
    if on in dlopen and off in dlopen:
        a, b = statistics.median(dlopen[on]), statistics.median(dlopen[off])
        print("  %-8s BPF side off %8.1f us, on %8.1f us, overhead %+5.1f%%" %
              (lib, b / 1e3, a / 1e3, (a / b - 1) * 100))
