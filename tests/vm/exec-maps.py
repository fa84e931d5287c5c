#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""exec-maps.py [PID...]: one line per executable file mapping of each
process (all when none is named), "pid major:minor inode path".

Device and inode are what stat(2) says of the mapped file, through
/proc/PID/map_files, on every kernel: for a name that a layer redirects,
the layer's replacement. /proc/PID/maps is no such witness from 6.8 on,
where it prints the inode of the stacking filesystem (patchlayer,
overlayfs) that served the file, the patchlayer mount's device for a
replacement and a base alike. Under overlayfs (the test VM's root) stat
gives overlayfs's device where the kernel, and so the BPF side, sees the
9p file beneath: the inode number is the same.
"""
import os
import sys


def mappings(pid):
    try:
        with open("/proc/%s/maps" % pid) as f:
            lines = f.readlines()
    except OSError:
        return
    seen = set()
    for line in lines:
        fields = line.split(None, 5)
        if len(fields) < 6 or "x" not in fields[1] or fields[4] == "0":
            continue
        # map_files names a range without the zero padding of maps
        start, end = (int(x, 16) for x in fields[0].split("-"))
        try:
            st = os.stat("/proc/%s/map_files/%x-%x" % (pid, start, end))
        except OSError:
            continue    # gone meanwhile, or not a file
        entry = "%s %02x:%02x %d %s" % (pid, os.major(st.st_dev), os.minor(st.st_dev),
                                        st.st_ino, fields[5].rstrip("\n"))
        if entry not in seen:
            seen.add(entry)
            yield entry


def main():
    pids = sys.argv[1:] or sorted((p for p in os.listdir("/proc") if p.isdigit()), key=int)
    for pid in pids:
        for entry in mappings(pid):
            print(entry)


if __name__ == "__main__":
    main()
