# dpkg -i of a newer package that replaces a targeted base file on a
# protected directory works unchanged and supersedes the layer: the new
# base is served from then on. Unlinking another hard link of a base
# supersedes nothing; a base replaced through another mount of its
# filesystem supersedes, one changed in place there makes the layer stale.
. "$(dirname "$0")/lib.sh"

T=/var/lib/pl-store
mkdir -p $T && mount -t tmpfs tmpfs $T
S=/usr/lib/pl-test
LIB=$S/libdemo.so.1.0

cp $ZLIB "$T/v1"
patched_zlib "$T/v1-fixed"
cp "$T/v1-fixed" "$T/v2" && printf 'v2' >> "$T/v2"
dpkg -i "$(testlib_deb $T 1.0 "$T/v1" $LIB)" > /dev/null || fail "dpkg -i of version 1.0"
cmp -s $LIB "$T/v1" || fail "version 1.0 not installed"

make_key "$T" vendor
build_layer "$T/demo" vendor demo-fix "1.0 (a)" "$T/v1-fixed=$LIB"
modprobe patchlayer
echo 1 > $TRACEFS/events/patchlayer/patchlayer_state/enable
expect_write OK $SYSFS/trust --bytes-from "$T/vendor.der"
expect_write OK $SYSFS/load "$T/demo"
# another mount of the directory's filesystem, which the protection does not cover
O=/mnt/pl-other
mkdir -p $O && mount --bind $S $O && mount --make-private $O
expect_rc 0 "$PL" protect $S
expect_write OK $SYSFS/layers/demo-fix/state activate
cmp -s $LIB "$T/v1-fixed" || fail "the layer is not served"

# a second name of the base, removed through the protected directory
ln $O/libdemo.so.1.0 $O/libdemo.extra
rm $S/libdemo.extra
settle
expect_eq "$(layer_state demo-fix)" active "after unlinking another link of a base"
cmp -s $LIB "$T/v1-fixed" || fail "the layer is not served after the unlink"

# the regular update arrives: dpkg writes libdemo.so.1.0.dpkg-new and renames it over
v2=$(testlib_deb $T 2.0 "$T/v2" $LIB)
dpkg -i "$v2" > "$T/dpkg.log" 2>&1 || fail "dpkg -i on a protected directory: $(cat "$T/dpkg.log")"
wait_state demo-fix superseded
cmp -s $LIB "$T/v2" || fail "the new base is not served"
expect_eq "$(dpkg-query -W -f '${Version}' pl-testlib)" 2.0 "installed version"
grep -q 'patchlayer_state: layer=demo-fix from=active to=superseded why=a package update replaced a base file' \
	$TRACEFS/trace || fail "no superseded trace"
# superseded is not active: it can be unloaded; it cannot come back on the new base
expect_write ESTALE $SYSFS/layers/demo-fix/state activate
expect_write OK $SYSFS/unload demo-fix

# the same through the other mount: a rename over the base, a change in place
cp $LIB "$T/v2-copy"
build_layer "$T/demo2" vendor demo-fix-2 "2.0 (a)" "$T/v1-fixed=$LIB"
expect_write OK $SYSFS/load "$T/demo2"
expect_write OK $SYSFS/layers/demo-fix-2/state activate
cp "$T/v2-copy" $O/libdemo.so.1.0.new && mv $O/libdemo.so.1.0.new $O/libdemo.so.1.0
wait_state demo-fix-2 superseded
cmp -s $LIB "$T/v2" || fail "the base renamed in through another mount is not served"
expect_write OK $SYSFS/unload demo-fix-2

build_layer "$T/demo3" vendor demo-fix-3 "2.0 (b)" "$T/v1-fixed=$LIB"
expect_write OK $SYSFS/load "$T/demo3"
expect_write OK $SYSFS/layers/demo-fix-3/state activate
# one byte rewritten in place, the mtime put back: only the write tells
mtime=$(stat -c %y $O/libdemo.so.1.0)
printf 'X' | dd of=$O/libdemo.so.1.0 bs=1 seek=100 conv=notrunc status=none
touch -d "$mtime" $O/libdemo.so.1.0
wait_state demo-fix-3 stale
grep -q 'patchlayer_state: layer=demo-fix-3 from=active to=stale why=a base file was changed in place' \
	$TRACEFS/trace || fail "no stale trace"
cmp -s $LIB $O/libdemo.so.1.0 || fail "the changed base is not served"
expect_write OK $SYSFS/unload demo-fix-3
cp "$T/v2" $O/libdemo.so.1.0

# removing the package works on the protected directory too
dpkg -r pl-testlib > /dev/null || fail "dpkg -r on a protected directory"
[ ! -e $LIB ] || fail "$LIB left after dpkg -r"
expect_rc 0 "$PL" unprotect $S
umount $O
