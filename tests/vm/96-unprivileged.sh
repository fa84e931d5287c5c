# An unprivileged user cannot load, unload, trust, lock trust, activate,
# drop, mount or write what it should not, not even through a file that
# root opened for it (the capability is checked at write time), nor from a
# user namespace where it is "root". Every file under /sys/kernel/patchlayer
# has the least mode that works.
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d /var/tmp/pl-test.XXXXXX)
chmod 755 "$T"
S=/usr/lib/pl-unpriv
make_libdir $S
make_key "$T" vendor
patched_zlib "$T/libz.so"
build_layer "$T/zfix" vendor zfix "1" "$T/libz.so=$S/libdemo.so.1.0"
chmod -R a+rX "$T"

modprobe patchlayer
expect_write OK $SYSFS/trust --bytes-from "$T/vendor.der"
expect_write OK $SYSFS/load "$T/zfix"
expect_rc 0 "$PL" protect $S

# the modes: writable only where writing is the interface, by root only
modes=$(cd $SYSFS && find . -path ./layers -prune -o -type f -printf '%m %u %P\n' | sort -k3)
expect_eq "$modes" "444 root generation
200 root load
444 root mounts
200 root trust
644 root trust_locked
200 root unload
444 root version" "modes of $SYSFS"
lmodes=$(cd $SYSFS/layers/zfix && find . -type f -printf '%m %u %P\n' | sort -k3)
expect_eq "$lmodes" "444 root activate_ns
444 root activated_at
444 root files
444 root hits
444 root path
444 root replaces
644 root state
444 root version" "modes of a layer's directory"

nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all "$@"
}
W=$PLVM_ROOT/tests/vm/sysfs-write.py
# opening for writing is refused by the mode
for f in load unload trust trust_locked layers/zfix/state; do
	got=$(nobody python3 $W "$SYSFS/$f" x)
	expect_eq "$got" EACCES "unprivileged write to $f"
done
# a file root opened and handed over: the write itself checks CAP_SYS_ADMIN
python3 - "$T" <<'PY'
import errno, os, sys
tmp = sys.argv[1]
S = "/sys/kernel/patchlayer"
writes = [("load", f"{tmp}/zfix"), ("unload", "zfix"), ("trust_locked", "1"),
          ("layers/zfix/state", "drop"), ("layers/zfix/state", "activate"),
          ("trust", open(f"{tmp}/vendor.der", "rb").read())]
fds = [(f, os.open(f"{S}/{f}", os.O_WRONLY), d) for f, d in writes]
os.setgroups([])
os.setresgid(65534, 65534, 65534)
os.setresuid(65534, 65534, 65534)
for f, fd, data in fds:
    try:
        os.write(fd, data if isinstance(data, bytes) else data.encode())
        sys.exit(f"FAIL: an unprivileged write to {f} through root's fd succeeded")
    except OSError as e:
        if e.errno != errno.EPERM:
            sys.exit(f"FAIL: {f}: {errno.errorcode[e.errno]}, expected EPERM")
print(f"{len(fds)} writes through root's descriptors refused with EPERM")
PY
expect_eq "$(layer_state zfix)" loaded "state after the refused writes"
expect_eq "$(cat $SYSFS/trust_locked)" 0 "trust_locked"

# "root" in a user namespace: no mount, no writes
got=$(nobody unshare -Urm sh -c \
	"mount -t patchlayer -o lowerdir=$S patchlayer $S 2>&1; echo rc=\$?") || true
expect_match "$got" "rc=(32|1)" "mount in a user namespace"
expect_rc 0 [ "$(cat $SYSFS/mounts)" = "$S" ]
got=$(nobody unshare -Ur python3 $W $SYSFS/load "$T/zfix")
expect_eq "$got" EACCES "load from a user namespace"

# through the mount: the replacement and the base stay read-only to nobody
expect_write OK $SYSFS/layers/zfix/state activate
for f in "$S/libdemo.so.1.0" "$T/zfix/files$S/libdemo.so.1.0"; do
	got=$(nobody python3 -c 'import sys
try:
    open(sys.argv[1], "r+b"); print("OK")
except OSError as e:
    print(e.strerror)' "$f")
	[ "$got" != OK ] || fail "nobody opened $f for writing"
done
nobody python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.x", b"1")' \
	"$S/libdemo.so.1.0" 2> /dev/null && fail "nobody set an xattr on a protected library"
got=$(nobody rm -f "$S/libdemo.so.1.0" 2>&1) && fail "nobody removed a protected library"
expect_eq "$(layer_state zfix)" active "state"
# reading is open to all: the status command works unprivileged
expect_rc 0 nobody "$PL" status
expect_write OK $SYSFS/layers/zfix/state drop
expect_write OK $SYSFS/unload zfix
expect_rc 0 "$PL" unprotect $S
module_unload
