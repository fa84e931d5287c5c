# A user's write or fallocate through a protected directory clears the
# setuid and setgid bits of the file it changes, as on the directory
# itself: the real file is reached under the mounter's credentials, whose
# CAP_FSETID must not keep the bits for the user. A file capability goes
# too, though the user could not remove it himself (CAP_SETFCAP). POSIX
# ACLs are set, read and obeyed through the directory (6.2's ACL inode
# operations, the xattr handler before).
. "$(dirname "$0")/lib.sh"

D=/var/tmp/pl-privs
mkdir -p $D && mount -t tmpfs -o mode=0755 tmpfs $D
trap 'umount $D/lib 2>/dev/null || true; umount $D 2>/dev/null || true' EXIT
mkdir $D/lib
for f in written allocated; do
	printf 'x' > $D/lib/$f
	chown 65534:65534 $D/lib/$f
	chmod 6775 $D/lib/$f
done
printf 'x' > $D/lib/capped
chown 65534:65534 $D/lib/capped
setcap cap_net_raw+ep $D/lib/capped
printf 'x' > $D/lib/acl
chmod 600 $D/lib/acl
# acl FILE [UID]: the users named in FILE's access ACL, as "uid:perm"; with
# UID, first sets an ACL that gives UID read and write
acl() {
	python3 - "$@" <<'PY'
import os, struct, sys
name = "system.posix_acl_access"
if len(sys.argv) > 2:
    e = [(1, 6, 0xffffffff), (2, 6, int(sys.argv[2])), (4, 0, 0xffffffff),
         (0x10, 6, 0xffffffff), (0x20, 0, 0xffffffff)]
    os.setxattr(sys.argv[1], name, struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *x) for x in e))
v = os.getxattr(sys.argv[1], name)
print(" ".join("%d:%d" % (i, p) for t, p, i in struct.iter_unpack("<HHI", v[4:]) if t == 2))
PY
}

modprobe patchlayer
expect_rc 0 "$PL" protect $D/lib
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
expect_rc 0 as_nobody sh -c "printf y >> $D/lib/written"
expect_eq "$(stat -c %a $D/lib/written)" 775 "mode after a user's write"
expect_rc 0 as_nobody fallocate -l 65536 $D/lib/allocated
expect_eq "$(stat -c %s $D/lib/allocated)" 65536 "size after fallocate"
expect_eq "$(stat -c %a $D/lib/allocated)" 775 "mode after a user's fallocate"
expect_rc 0 as_nobody sh -c "printf y >> $D/lib/capped"
expect_eq "$(cat $D/lib/capped)" xy "content after a user's write"
expect_eq "$(getcap $D/lib/capped)" "" "capability after a user's write"

expect_rc 2 as_nobody sh -c "printf y >> $D/lib/acl"
expect_eq "$(acl $D/lib/acl 65534)" 65534:6 "ACL set through"
expect_rc 0 as_nobody sh -c "printf y >> $D/lib/acl"
expect_eq "$(cat $D/lib/acl)" xy "content after a write the ACL allows"
# a change of xattr through the directory waits for write access to the
# filesystem underneath, as every change does
mount -o remount,ro $D
expect_rc 1 python3 -c "import os; os.setxattr('$D/lib/written', 'trusted.pl', b'x')"
expect_match "$out" "Read-only file system" "setxattr on a read-only filesystem"
mount -o remount,rw $D
expect_rc 0 "$PL" unprotect $D/lib
expect_eq "$(acl $D/lib/acl)" 65534:6 "ACL of the file underneath"
