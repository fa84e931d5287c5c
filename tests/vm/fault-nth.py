#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Systematic allocation failures in each patchlayer operation.

usage: fault-nth.py TMPDIR LIBDIR LAYERDIR LAYERNAME TARGET PATCHED-SHA256 CERT

For each operation (trust, load, activate, drop, unload, mount, umount, a
lookup through the mount), makes its 1st, 2nd, 3rd... fault-injection point
fail (/proc/thread-self/fail-nth: only this thread's own calls count, for
failslab and fail_page_alloc alike) until the operation completes without
reaching the Nth point. After each try: the operation either succeeded or
failed with a clean errno, the state is what that outcome says, and the
same operation without faults then succeeds.
"""
import collections, ctypes, errno, os, subprocess, sys

tmp, libdir, layerdir, name, target, patched, cert = sys.argv[1:8]
SYSFS = "/sys/kernel/patchlayer"
libc = ctypes.CDLL(None, use_errno=True)
failnth = os.open("/proc/thread-self/fail-nth", os.O_RDWR)
MAX_STEPS = 3000


def set_nth(n):
    os.pwrite(failnth, str(n).encode(), 0)


def nth_left():
    return int(os.pread(failnth, 32, 0))


def ename(e):
    return errno.errorcode.get(e, str(e))


def sysfs_write(path, data, nth=0):
    """Writes DATA to PATH in one write(2), the Nth fault point failing."""
    fd = os.open(path, os.O_WRONLY)
    try:
        set_nth(nth)
        os.write(fd, data)
        return "OK"
    except OSError as e:
        return ename(e.errno)
    finally:
        left = nth_left() if nth else 1
        set_nth(0)
        os.close(fd)
        sysfs_write.left = left


def mount(nth=0):
    set_nth(nth)
    rc = libc.mount(b"patchlayer", libdir.encode(), b"patchlayer", 0,
                    f"lowerdir={libdir}".encode())
    e = ctypes.get_errno()
    sysfs_write.left = nth_left() if nth else 1
    set_nth(0)
    return "OK" if rc == 0 else ename(e)


def umount(nth=0):
    set_nth(nth)
    rc = libc.umount2(libdir.encode(), 0)
    e = ctypes.get_errno()
    sysfs_write.left = nth_left() if nth else 1
    set_nth(0)
    return "OK" if rc == 0 else ename(e)


# run by a new program: a process forked without exec keeps its parent's
# view of the layers (module/redirect.c, pl_view_time), and this script
# started before any activation
READER = """
import hashlib, os, sys
fd = os.open("/proc/thread-self/fail-nth", os.O_RDWR)
nth = int(sys.argv[2])
os.pwrite(fd, str(nth).encode(), 0)
try:
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    res = hashlib.sha256(data).hexdigest()
except OSError as e:
    res = "errno:%d" % e.errno
left = int(os.pread(fd, 32, 0)) if nth else 1
os.pwrite(fd, b"0", 0)
print(res, left)
"""


def read_target(nth=0):
    """sha256 of TARGET read by a new process (each process sees the layers
    as they were when its program started), its Nth fault point failing."""
    out = subprocess.run([sys.executable, "-c", READER, target, str(nth)],
                         check=True, capture_output=True, text=True).stdout.split()
    sysfs_write.left = int(out[1])
    return ename(int(out[0][6:])) if out[0].startswith("errno:") else out[0]


def fail(msg):
    sys.exit(f"FAIL: {msg}")


def must(what, res):
    if res != "OK":
        fail(f"{what} without faults: {res}")


def state():
    try:
        with open(f"{SYSFS}/layers/{name}/state") as f:
            return f.read().strip()
    except FileNotFoundError:
        return None


def mounted():
    with open(f"{SYSFS}/mounts") as f:
        return libdir in f.read().split()


def layer(word):
    return sysfs_write(f"{SYSFS}/layers/{name}/state", word.encode())


def reload_module():
    subprocess.run(["modprobe", "-r", "patchlayer"], check=True)
    subprocess.run(["modprobe", "patchlayer"], check=True)


# operation: (setup, op(nth) -> result, check(result), cleanup)
def trust_setup():
    reload_module()


def trust_check(res):
    der = open(cert, "rb").read()
    must("trust again", sysfs_write(f"{SYSFS}/trust", der))
    must("load after trust", sysfs_write(f"{SYSFS}/load", layerdir.encode()))
    must("unload", sysfs_write(f"{SYSFS}/unload", name.encode()))


def load_check(res):
    if (res == "OK") != (state() == "loaded"):
        fail(f"load gave {res} but the layer is {state()}")
    if res != "OK":
        must("load", sysfs_write(f"{SYSFS}/load", layerdir.encode()))


def unload_layer():
    if state():
        must("unload", sysfs_write(f"{SYSFS}/unload", name.encode()))


def load_layer():
    if not state():
        must("load", sysfs_write(f"{SYSFS}/load", layerdir.encode()))


def activate_check(res):
    want = "active" if res == "OK" else "loaded"
    if state() != want:
        fail(f"activate gave {res} but the layer is {state()}")
    must("activate", layer("activate"))
    if read_target() != patched:
        fail("the active layer is not served")


def drop_check(res):
    want = "loaded" if res == "OK" else "active"
    if state() != want:
        fail(f"drop gave {res} but the layer is {state()}")
    must("drop", layer("drop"))


def unload_check(res):
    if (res == "OK") != (state() is None):
        fail(f"unload gave {res} but the layer is {state()}")
    load_layer()


def mount_check(res):
    if (res == "OK") != mounted():
        fail(f"mount gave {res} but mounted is {mounted()}")
    if res != "OK":
        must("mount", mount())


def umount_check(res):
    if (res == "OK") == mounted():
        fail(f"umount gave {res} but mounted is {mounted()}")
    if res != "OK":
        must("umount", umount())


def lookup_setup():
    # a new generation: the next open looks the name up again
    must("drop", layer("drop"))
    must("activate", layer("activate"))
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("2")


def lookup_check(res):
    if res not in (patched, "ENOMEM"):
        fail(f"a lookup through the mount gave {res}")
    if read_target() != patched:
        fail("the active layer is not served after a failed lookup")


def nothing(*_):
    pass


der = open(cert, "rb").read()
ops = [
    ("trust", trust_setup, lambda n: sysfs_write(f"{SYSFS}/trust", der, n), trust_check, nothing),
    ("load", unload_layer, lambda n: sysfs_write(f"{SYSFS}/load", layerdir.encode(), n),
     load_check, unload_layer),
    ("unload", load_layer, lambda n: sysfs_write(f"{SYSFS}/unload", name.encode(), n),
     unload_check, nothing),
    ("mount", nothing, mount, mount_check, lambda: must("umount", umount())),
    ("umount", lambda: must("mount", mount()), umount, umount_check, nothing),
    ("activate", lambda: (load_layer(), mounted() or must("mount", mount())),
     lambda n: sysfs_write(f"{SYSFS}/layers/{name}/state", b"activate", n),
     activate_check, lambda: must("drop", layer("drop"))),
    ("drop", lambda: must("activate", layer("activate")),
     lambda n: sysfs_write(f"{SYSFS}/layers/{name}/state", b"drop", n),
     drop_check, nothing),
    ("lookup", lambda: (must("activate", layer("activate")), lookup_setup()),
     read_target, lookup_check, nothing),
]
# what an injected allocation failure may surface as
clean = {"OK", "ENOMEM", patched}
clean_for = {"load": {"EKEYREJECTED"}, "trust": {"EINVAL"}}

total = 0
for opname, setup, op, check, cleanup in ops:
    seen = collections.Counter()
    for n in range(1, MAX_STEPS):
        setup()
        res = op(n)
        left = sysfs_write.left
        if res not in clean | clean_for.get(opname, set()):
            fail(f"{opname} with fault point {n} failing: {res}")
        check(res)
        cleanup()
        seen["ok" if res in ("OK", patched) else res] += 1
        total += 1
        if left != 0:
            break      # completed before reaching the Nth point: all covered
    else:
        fail(f"{opname}: more than {MAX_STEPS} fault points?")
    print(f"  {opname}: {n - 1} fault points, outcomes {dict(seen)}")
print(f"{total} operations with a fault injected")
