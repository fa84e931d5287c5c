# Protecting a directory keeps the restrictions of the mount it is on:
# nosuid, nodev and noexec hold through the patchlayer mount as they did
# on the directory itself (the mount used to be made without them, so a
# protected noexec directory became executable).
. "$(dirname "$0")/lib.sh"

D=/var/tmp/pl-flags
mkdir -p $D && mount -t tmpfs -o nosuid,nodev,noexec tmpfs $D
trap 'umount $D/lib 2>/dev/null || true; umount $D 2>/dev/null || true' EXIT
mkdir $D/lib
printf '#!/bin/sh\necho ran\n' > $D/lib/prog
chmod 4755 $D/lib/prog
mknod $D/lib/null c 1 3

modprobe patchlayer
# the directory as it is: nothing runs, no device opens
expect_rc 126 $D/lib/prog
rc=0; (echo x > $D/lib/null) 2> /dev/null || rc=$?
[ $rc != 0 ] || fail "a device opened on the nodev mount"

expect_rc 0 "$PL" protect $D/lib
expect_eq "$(findmnt -n -o FSTYPE $D/lib)" patchlayer "the mount on $D/lib"
opts=$(findmnt -n -o OPTIONS $D/lib)
for o in nosuid nodev noexec; do
	expect_match "$opts" "(^|,)$o(,|$)" "the patchlayer mount's options"
done
# and they hold: the same refusals through the protected directory
expect_rc 126 $D/lib/prog
rc=0; (echo x > $D/lib/null) 2> /dev/null || rc=$?
[ $rc != 0 ] || fail "a device opened through the protected nodev directory"
expect_rc 0 "$PL" unprotect $D/lib

# a directory on a mount without them is protected without them
mount -o remount,suid,dev,exec $D
expect_rc 0 "$PL" protect $D/lib
opts=$(findmnt -n -o OPTIONS $D/lib)
for o in nosuid nodev noexec; do
	! grep -qE "(^|,)$o(,|$)" <<< "$opts" || fail "$o on the mount of an unrestricted directory: $opts"
done
expect_rc 0 $D/lib/prog
expect_eq "$out" ran "the program through the protected directory"
expect_rc 0 "$PL" unprotect $D/lib

# A loaded layer keeps its bases' filesystem alive: unmounting it, even
# lazily and with the protection gone first, must not leave the layer's
# inodes behind on a dead superblock ("Busy inodes after unmount", then a
# BUG in the next umount).
U=/usr/lib/pl-umount T=/var/tmp/pl-flags-store
mkdir -p $U $T && mount -t tmpfs tmpfs $U
printf 'base' > $U/libbase.so
make_key $T vendor
printf 'replacement' > $T/new
build_layer $T/layer vendor umount-fix 1 "$T/new=$U/libbase.so"
expect_rc 0 "$PL" protect $U
expect_write OK $SYSFS/trust --bytes-from $T/vendor.der
expect_write OK $SYSFS/load $T/layer
expect_write OK $SYSFS/layers/umount-fix/state activate
expect_write OK $SYSFS/layers/umount-fix/state drop
umount -l $U
umount -l $U
expect_write OK $SYSFS/unload umount-fix
mount -t tmpfs tmpfs $U && umount $U	# the next umount
