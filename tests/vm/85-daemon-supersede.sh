# The daemon retires a superseded layer: dpkg -i of a newer package that
# replaces the layer's base makes it superseded; the daemon unloads it, keeps
# it in the store, says why in "layers" and the log, and neither a restart
# nor a second delivery brings it back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemonlib.sh"
S=/usr/lib/pl-test85
LIB=$S/libdemo.so.1.0
cleanup() {
	daemon_cleanup
	dpkg --purge pl-testlib > /dev/null 2>&1 || true
}
trap cleanup EXIT
daemon_setup

cp $ZLIB "$T/v1"
patched_zlib "$T/v1-fixed"
cp "$T/v1-fixed" "$T/v2" && printf 'v2' >> "$T/v2"
dpkg -i "$(testlib_deb $T 1.0 "$T/v1" $LIB)" > /dev/null || fail "dpkg -i of version 1.0"
build_layer "$T/demo" vendor demo-fix "1.0 (a)" "$T/v1-fixed=$LIB"
{
	echo "trust = $T/vendor.der"
	echo "protect = $S"
	echo "auto_install = yes"
} > "$CONF"
daemon_start
deliver $T/demo demo
wait_store demo-fix active 50
wait_state demo-fix active
cmp -s $LIB "$T/v1-fixed" || fail "the layer is not served"

# the regular update arrives, through the protected directory
v2=$(testlib_deb $T 2.0 "$T/v2" $LIB)
dpkg -i "$v2" > "$T/dpkg.log" 2>&1 || fail "dpkg -i on a protected directory: $(cat "$T/dpkg.log")"
wait_store demo-fix superseded 50
for _ in $(seq 50); do [ -e $SYSFS/layers/demo-fix ] || break; sleep 0.1; done
[ ! -e $SYSFS/layers/demo-fix ] || fail "superseded but still loaded: $(layer_state demo-fix)"
[ -d $STORE/demo-fix ] || fail "superseded layer gone from the store"
cmp -s $LIB "$T/v2" || fail "the new base is not served"
expect_rc 0 env PATCHLAYER_CONF="$CONF" "$PL" -j layers
expect_match "$out" '"name":"demo-fix","version":"1.0 \(a\)","state":"superseded","kernel":"absent"' "layers -j"
expect_match "$out" '"why":"a package update replaced its base: pl-testlib 2.0' "why"
expect_rc 0 env PATCHLAYER_CONF="$CONF" "$PL" log
expect_match "$out" "demo-fix.*superseded: a package update replaced its base" "the log"

# history, not a candidate: not after a restart, not when delivered again
daemon_stop
daemon_start
sleep 1
expect_eq "$(store_state demo-fix)" superseded "after a restart"
[ ! -e $SYSFS/layers/demo-fix ] || fail "loaded again after a restart"
cmp -s $LIB "$T/v2" || fail "the new base is not served after a restart"
deliver $T/demo demo2
for _ in $(seq 50); do [ -e $INBOX/rejected/demo2.reason ] && break; sleep 0.1; done
expect_match "$(cat $INBOX/rejected/demo2.reason)" "already in the store \(superseded\)" "a second delivery"
[ ! -e $SYSFS/layers/demo-fix ] || fail "loaded by a second delivery"
