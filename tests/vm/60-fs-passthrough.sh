# The patchlayer filesystem over a directory is the directory: listing,
# stat, readlink, xattrs, statfs, exec and mmap; every change passes
# through; bad mount options and stacking get clear errors.
. "$(dirname "$0")/lib.sh"

S=/usr/lib/pl-test
make_libdir $S
python3 -c 'import os; os.setxattr("/usr/lib/pl-test/README", "trusted.pl", b"x")'
modprobe patchlayer
before=$(snapshot $S)
lib_before=$(snapshot $LIBDIR)
statfs_before=$(stat -f -c '%t %b %f %S' $LIBDIR)

expect_rc 0 "$PL" protect $S
expect_rc 0 "$PL" protect $LIBDIR
expect_eq "$(cat $SYSFS/mounts)" "$S
$LIBDIR" "mounts"
expect_eq "$(findmnt -n -o FSTYPE $S)" patchlayer "fstype"
expect_rc 0 "$PL" protect $S	# twice is harmless
expect_match "$out" "already protected" "protect twice"

expect_eq "$(snapshot $S)" "$before" "scratch directory listing"
expect_eq "$(snapshot $LIBDIR)" "$lib_before" "$LIBDIR listing"
expect_eq "$(stat -f -c '%t %b %f %S' $LIBDIR)" "$statfs_before" "statfs"
expect_eq "$(readlink $S/libdemo.so.1)" libdemo.so.1.0 "readlink"
expect_eq "$(python3 -c 'import os; print(os.getxattr("/usr/lib/pl-test/README", "trusted.pl"))')" "b'x'" "getxattr"
cmp $ZLIB $S/libdemo.so.1.0 || fail "read differs"

# programs run with every library served through the mount
out=$(python3 -c 'import zlib, ssl; print(zlib.ZLIB_RUNTIME_VERSION)')
expect_eq "$out" 1.2.13 "python3 with zlib"
python3 -c 'import zlib, time; time.sleep(60)' &
py=$!
sleep 2
expect_eq "$(maps_ino $py libz.so)" "$(stat -c %i $ZLIB)" "the mapping of libz"
kill $py

# changes pass through to the directory underneath
cd $S
echo new > created; mv created renamed; ln renamed hardlink; ln -s renamed symlink
expect_eq "$(stat -c %h renamed)" 2 "nlink after link"
mkdir d; rmdir d; mkdir keep; chmod 600 renamed; truncate -s 2 renamed
python3 -c 'import os; os.setxattr("renamed", "trusted.k", b"v")'
python3 -c 'import os; fd = os.open("renamed", os.O_RDWR); os.pwrite(fd, b"Z", 1); os.fsync(fd); os.close(fd)'
mv -f README hardlink; rm symlink; mkfifo fifo
expect_eq "$(stat -c %h renamed)" 1 "nlink after the link was renamed over"
cd /
during=$(snapshot $S)

expect_rc 1 modprobe -r patchlayer
expect_match "$out" "in use" "unload while mounted"

expect_rc 0 "$PL" unprotect $S
expect_eq "$(findmnt -n -o FSTYPE $S || true)" "" "still mounted"
expect_eq "$(snapshot $S)" "$during" "the lower after the changes"
expect_eq "$(cat $S/renamed)" "nZ" "content written through"
expect_eq "$(stat -c %a $S/renamed)" 600 "mode set through"
expect_eq "$(cat $S/hardlink)" notes "rename over"
expect_eq "$(python3 -c 'import os; print(os.getxattr("/usr/lib/pl-test/renamed", "trusted.k"))')" "b'v'" "setxattr through"
expect_rc 1 "$PL" unprotect $S
expect_match "$out" "not protected" "unprotect twice"

# bad mounts, each with its errno and the kernel's reason
expect_rc 1 "$PL" protect /nonexistent
expect_match "$out" "No such file or directory" "missing directory"
expect_rc 1 "$PL" protect /etc/hostname
expect_match "$out" "Not a directory" "not a directory"
mkdir -p /mnt/nested
rc=0; mount -t patchlayer -o lowerdir=$LIBDIR patchlayer /mnt/nested 2> /tmp/err || rc=$?
[ $rc != 0 ] && grep -q 'Too many levels' /tmp/err || fail "a patchlayer lower was accepted: $(cat /tmp/err)"
dmesg | grep -q "lowerdir $LIBDIR is itself a patchlayer mount" || fail "no reason for the nested mount"
rc=0; mount -t patchlayer patchlayer /mnt/nested 2> /tmp/err || rc=$?
[ $rc != 0 ] && dmesg | grep -q 'lowerdir= is required' || fail "a mount without lowerdir was accepted"
rc=0; mount -t patchlayer -o lowerdir=/etc,colour=blue patchlayer /mnt/nested 2> /tmp/err || rc=$?
[ $rc != 0 ] && dmesg | grep -q "Unknown parameter 'colour'" || fail "an unknown option was accepted"
# the root is overlayfs over 9p: an overlay on it is depth 2, one more is too deep
mkdir -p /tmp/ovl-empty /mnt/ovl
mount -t overlay -o lowerdir=$S:/tmp/ovl-empty overlay /mnt/ovl
expect_rc 1 "$PL" protect /mnt/ovl
expect_match "$out" "stacking depth" "depth limit"
umount /mnt/ovl
expect_rc 0 "$PL" unprotect $LIBDIR
