# apt-get install --reinstall zlib1g on the protected library directory, a
# zlib layer active: apt and dpkg work unchanged (through the /lib alias
# too), the package's files verify, the layer is superseded by the rename
# over its base, and the same layer loads and activates again afterwards
# since the base it was built for is back.
. "$(dirname "$0")/lib.sh"

T=/var/lib/pl-store
mkdir -p $T && mount -t tmpfs tmpfs $T
deb=$(ls "$PLVM_ROOT"/build/zlib/debs/zlib1g_*_amd64.deb 2> /dev/null | head -n 1)
[ -n "$deb" ] || fail "no zlib1g package in build/zlib/debs: run scripts/zlib-layer on the host"
zv() { python3 -c 'import zlib; print(zlib.ZLIB_RUNTIME_VERSION)'; }

make_key "$T" vendor
patched_zlib "$T/libz.so"
build_layer "$T/zfix" vendor zlib-fix "1.2.13 (a)" "$T/libz.so=$ZLIB"
modprobe patchlayer
echo 1 > $TRACEFS/events/patchlayer/patchlayer_state/enable
expect_write OK $SYSFS/trust --bytes-from "$T/vendor.der"
expect_write OK $SYSFS/load "$T/zfix"
expect_rc 0 "$PL" protect $LIBDIR
expect_write OK $SYSFS/layers/zlib-fix/state activate
expect_eq "$(zv)" "$ZLIB_FIXED_VERSION" "before the reinstall"

# apt, offline: the package apt downloaded on the host, checked again here
# against the lists' hash
cp "$deb" /var/cache/apt/archives/
apt-get install --reinstall --no-download -y -q zlib1g > "$T/apt.log" 2>&1 ||
	fail "apt-get install --reinstall zlib1g: $(cat "$T/apt.log")"
grep -q 'Unpacking zlib1g:amd64 (1:1.2.13.dfsg-1) over (1:1.2.13.dfsg-1)' "$T/apt.log" ||
	fail "apt did not reinstall zlib1g: $(cat "$T/apt.log")"
expect_eq "$(dpkg-query -W -f '${db:Status-Abbrev}' zlib1g:amd64)" "ii " "zlib1g's status"
out=$(dpkg --verify zlib1g:amd64 2>&1) || fail "dpkg --verify zlib1g: $out"
expect_eq "$out" "" "dpkg --verify zlib1g"
grep -qxF $LIBDIR "$SYSFS/mounts" || fail "the directory is no longer protected"

wait_state zlib-fix superseded
grep -q 'patchlayer_state: layer=zlib-fix from=active to=superseded' $TRACEFS/trace ||
	fail "no superseded trace"
expect_eq "$(zv)" 1.2.13 "after the reinstall"
cmp -s $ZLIB /lib/x86_64-linux-gnu/libz.so.1.2.13 || fail "/lib and /usr/lib disagree"

# the base is byte for byte the one the layer was built for: it loads again
expect_write OK $SYSFS/unload zlib-fix
expect_write OK $SYSFS/load "$T/zfix"
expect_write OK $SYSFS/layers/zlib-fix/state activate
expect_eq "$(zv)" "$ZLIB_FIXED_VERSION" "the layer again"
expect_write OK $SYSFS/layers/zlib-fix/state drop
expect_write OK $SYSFS/unload zlib-fix
expect_rc 0 "$PL" unprotect $LIBDIR
