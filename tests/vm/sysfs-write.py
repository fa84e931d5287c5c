#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Writes to a sysfs file in ONE write(2) and prints OK or the errno name.

usage: sysfs-write.py FILE STRING | FILE --bytes-from SOURCE
"""
import errno
import os
import sys


def main():
    if len(sys.argv) == 4 and sys.argv[2] == "--bytes-from":
        with open(sys.argv[3], "rb") as f:
            data = f.read()
    elif len(sys.argv) == 3:
        data = sys.argv[2].encode()
    else:
        sys.exit(__doc__)
    try:
        fd = os.open(sys.argv[1], os.O_WRONLY)
        try:
            n = os.write(fd, data)
        finally:
            os.close(fd)
    except OSError as e:
        print(errno.errorcode.get(e.errno, str(e.errno)))
        return
    print("OK" if n == len(data) else "SHORT")


main()
