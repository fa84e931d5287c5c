# A user's write or fallocate through a protected directory clears the
# setuid and setgid bits of the file it changes, as on the directory
# itself: the real file is reached under the mounter's credentials, whose
# CAP_FSETID must not keep the bits for the user. A file capability goes
# too, though the user could not remove it himself (CAP_SETFCAP).
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
# a change of xattr through the directory waits for write access to the
# filesystem underneath, as every change does
mount -o remount,ro $D
expect_rc 1 python3 -c "import os; os.setxattr('$D/lib/written', 'trusted.pl', b'x')"
expect_match "$out" "Read-only file system" "setxattr on a read-only filesystem"
mount -o remount,rw $D
expect_rc 0 "$PL" unprotect $D/lib
