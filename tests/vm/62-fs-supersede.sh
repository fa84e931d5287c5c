# dpkg -i of a newer package that replaces a targeted base file on a
# protected directory works unchanged and supersedes the layer: the new
# base is served from then on.
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
expect_rc 0 "$PL" protect $S
expect_write OK $SYSFS/layers/demo-fix/state activate
cmp -s $LIB "$T/v1-fixed" || fail "the layer is not served"

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

# removing the package works on the protected directory too
dpkg -r pl-testlib > /dev/null || fail "dpkg -r on a protected directory"
[ ! -e $LIB ] || fail "$LIB left after dpkg -r"
expect_rc 0 "$PL" unprotect $S
