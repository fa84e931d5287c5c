#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The tables of scripts/bench from the guest's raw lines
"METRIC SETUP SAMPLE VALUE" (and "meta KEY - VALUE").

Absolute numbers are the median of a setup's samples. A ratio A/B is the
median of the ratios of the samples of A and B taken together (same
SAMPLE: back to back, a fraction of a second apart), with the quartiles
of those ratios in brackets: TCG's speed drifts more between rounds than
the setups differ, pairing cancels the drift.

usage: report.py bench.raw
"""
import statistics
import sys
from collections import defaultdict


def quartiles(values):
    if len(values) < 4:
        return min(values), max(values)
    q = statistics.quantiles(values, n=4)
    return q[0], q[2]


def paired(data, a, b):
    """The per-sample ratios a/b of samples taken together."""
    return [data[a][k] / data[b][k] for k in data[a] if k in data[b] and data[b][k]]


def fmt_ratio(ratios):
    if not ratios:
        return "-"
    lo, hi = quartiles(ratios)
    return f"{statistics.median(ratios):.2f} [{lo:.2f}-{hi:.2f}]"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    data = defaultdict(dict)	# (metric, setup) -> {sample: value}
    meta = {}
    for line in open(sys.argv[1]):
        parts = line.split(None, 3)
        if len(parts) < 4:
            continue
        metric, setup, sample, value = parts
        if metric == "meta":
            meta[setup] = value.strip()
        else:
            data[metric, setup][sample] = float(value)

    entries = meta.get("entries", "?")
    nfiles = meta.get("files", "?")
    rounds = len({k.split(".")[0] for k in data.get(("open", "bare"), {})})
    # metric, label, unit, divisor from ns
    rows = [
        ("open", f"open+close, {nfiles} names", "us", 1e3),
        ("stat", f"stat, {nfiles} present names", "us", 1e3),
        ("statneg", f"stat, {nfiles} absent names", "us", 1e3),
        ("readdir", f"readdir, {entries} entries", "us", 1e3),
        ("exec", f"exec, {meta.get('exec_libs', '?')} libraries", "ms", 1e6),
        ("read", "read 64 MiB, cache warm", "ms", 1e6),
        ("readcold", "read 64 MiB, after drop_caches", "ms", 1e6),
    ]
    print(f"patchlayer benchmark: kernel {meta.get('kernel', '?')} under QEMU TCG, "
          f"{meta.get('nproc', '?')} vCPUs, ext4 on virtio-blk")
    print(f"one directory of {entries} entries, bare, under patchlayer and under overlayfs;")
    print(f"{rounds} rounds; medians; ratios > 1.00: patchlayer slower, [quartiles]")
    print()
    head = (f"{'operation (time per op)':<35} {'bare':>8} {'patchlayer':>10} "
            f"{'overlayfs':>9}  {'pl/bare':<17} {'pl/overlayfs':<17} {'n':>3}")
    print(head)
    print("-" * len(head))
    for metric, label, unit, div in rows:
        vals = {s: list(data.get((metric, s), {}).values())
                for s in ("bare", "patchlayer", "overlayfs")}
        if not all(vals.values()):
            continue
        med = {s: statistics.median(v) / div for s, v in vals.items()}
        pl = data[metric, "patchlayer"]
        print(f"{label + ' (' + unit + ')':<35} {med['bare']:>8.2f} {med['patchlayer']:>10.2f} "
              f"{med['overlayfs']:>9.2f}  "
              f"{fmt_ratio(paired(data, (metric, 'patchlayer'), (metric, 'bare'))):<17} "
              f"{fmt_ratio(paired(data, (metric, 'patchlayer'), (metric, 'overlayfs'))):<17} "
              f"{len(pl):>3}")

    if any(s == "pl_active" for (_, s) in data):
        print()
        print("with a layer of 100 files active (100 of the 2000 names redirected to its")
        print("files), against bare measured again alongside")
        print()
        head = (f"{'operation (time per op)':<35} {'bare':>8} {'pl+active':>10}  "
                f"{'active/bare':<17} {'n':>3}")
        print(head)
        print("-" * len(head))
        for metric, label, unit, div in rows:
            a = list(data.get((metric, "pl_active"), {}).values())
            b = list(data.get((metric, "bare_b"), {}).values())
            if not a or not b:
                continue
            print(f"{label + ' (' + unit + ')':<35} {statistics.median(b) / div:>8.2f} "
                  f"{statistics.median(a) / div:>10.2f}  "
                  f"{fmt_ratio(paired(data, (metric, 'pl_active'), (metric, 'bare_b'))):<17} "
                  f"{len(a):>3}")

    keys = sorted({s for (m, s) in data if m == "activate_ns"},
                  key=lambda k: tuple(int(x) for x in k.split("/")))
    if not keys:
        return
    print()
    print("activation of a layer of N files with P sleeping processes (their libc mapped")
    print("from the protected directory); medians")
    print()
    head = (f"{'files':>5} {'procs':>5} {'activate_ns (us)':>16} {'[min-max]':>17} "
            f"{'first new open (us)':>19} {'fork+open (us)':>14} {'procs':>5}")
    print(head)
    print("-" * len(head))
    for k in keys:
        files, procs = k.split("/")
        act = list(data["activate_ns", k].values())
        first = list(data.get(("first_open", k), {"": 0}).values())
        fork = list(data.get(("fork_open", k), {"": 0}).values())
        tries = list(data.get(("first_open_procs", k), {"": 0}).values())
        span = f"[{min(act) / 1e3:.0f}-{max(act) / 1e3:.0f}]"
        print(f"{files:>5} {procs:>5} {statistics.median(act) / 1e3:>16.1f} {span:>17} "
              f"{statistics.median(first) / 1e3:>19.1f} "
              f"{statistics.median(fork) / 1e3:>14.1f} {max(tries):>5.0f}")
    print()
    print("activate_ns: the module's own timing of the activation (sysfs). first new open:")
    print("from the write of \"activate\" returning to the return of the first open that")
    print("yields the layer's file, in a process started (fork, exec) after the write;")
    print("fork+open: the same for a process started before it, the cost of the fork, the")
    print("exec and the open alone (before November 29, fork and open without exec);")
    print("procs: the most processes that took (1: the first one started had the layer)")


if __name__ == "__main__":
    main()
