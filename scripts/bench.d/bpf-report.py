#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Tables of "scripts/bench --bpf" from its raw lines (bench.d/bpf-guest)."""
import statistics
import sys

samples = {}
procs = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) < 3 or f[0].startswith("#"):
        continue
    samples.setdefault(f[0], []).append(int(f[2]))
    if len(f) > 3:
        procs.setdefault(f[0], set()).add(int(f[3]))


def med(name):
    return statistics.median(samples[name])


print("patchlayer BPF benchmark (medians of %d rounds)" % len(samples.get("scan_iter", [])))
print()
if "scan_iter" in samples:
    it, pr = med("scan_iter"), med("scan_proc")
    print("scan of every process for mappings of the patched libz")
    print("  task_vma iterator        %10.2f ms  (processes found: %s)" %
          (it / 1e6, sorted(procs.get("scan_iter", []))))
    print("  /proc/*/maps parse (C)   %10.2f ms  (processes found: %s)" %
          (pr / 1e6, sorted(procs.get("scan_proc", []))))
    print("  speedup                  %10.1fx" % (pr / it))
    print()
print("dlopen+dlclose (RTLD_NOW), mean per pair over 500")
for lib in ("libcap",):
    on, off = "dlopen_%s_on" % lib, "dlopen_%s_off" % lib
    if on in samples and off in samples:
        a, b = med(on), med(off)
        print("  %-8s BPF side off %8.1f us, on %8.1f us, overhead %+5.1f%%" %
              (lib, b / 1e3, a / 1e3, (a / b - 1) * 100))
