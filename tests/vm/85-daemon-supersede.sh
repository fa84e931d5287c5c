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
# the package's version is asked for once dpkg has let go of its database
superseded_by demo-fix > /dev/null
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

# dpkg's database is not asked while dpkg holds its lock (supersede.c): a
# checkpoint of dpkg's during dpkg-query's unlocked read shows the version
# before dpkg's run, which would be recorded for good. A base replaced
# while the lock is held gets its package named once the lock is let go.
build_layer "$T/again" vendor again-fix "2.0 (a)" "$T/v1-fixed=$LIB"
deliver $T/again again
wait_store again-fix active 50
rm -f "$T/locked"
python3 -c '
import fcntl, os, sys, time
fd = os.open("/var/lib/dpkg/lock", os.O_RDWR | os.O_CREAT, 0o640)
fcntl.lockf(fd, fcntl.LOCK_EX)
open(sys.argv[1], "w").close()
time.sleep(1000)' "$T/locked" &
locker=$!
for _ in $(seq 50); do [ -e "$T/locked" ] && break; sleep 0.1; done
[ -e "$T/locked" ] || fail "the dpkg lock was not taken"
cp "$T/v1" "$S/.new" && mv "$S/.new" $LIB
wait_store again-fix superseded 50
# the daemon's dpkg-query reads dpkg's whole database (slow over the
# guest's 9p): give it twice what the same queries take here
start=$(date +%s%N)
dpkg-query --search $LIB > /dev/null && dpkg-query --show pl-testlib > /dev/null
took=$(( ($(date +%s%N) - start) / 1000000 ))
sleep "$(( took * 2 / 1000 + 2 ))"
expect_eq "$(sed -n 's/^superseded_by=//p' $STORE/again-fix.state)" "" \
	"superseded_by while dpkg's lock is held (the queries took ${took} ms here)"
kill $locker
wait $locker 2> /dev/null || true
expect_eq "$(superseded_by again-fix)" "pl-testlib 2.0" "superseded_by once the lock is let go"
