# The daemon retires a superseded layer: dpkg -i of a newer package that
# replaces the layer's base makes it superseded; the daemon unloads it, keeps
# it in the store, says why in "layers" and the log, and neither a restart
# nor a second delivery brings it back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemonlib.sh"
S=/usr/lib/pl-test85
LIB=$S/libdemo.so.1.0
locker=
# lock_dpkg FLAG &: holds dpkg's lock as dpkg does until killed, FLAG once
# held; only in the background, where exec makes the job's $! python's pid
lock_dpkg() {
	exec python3 -c '
import fcntl, os, sys, time
fd = os.open("/var/lib/dpkg/lock", os.O_RDWR | os.O_CREAT, 0o640)
fcntl.lockf(fd, fcntl.LOCK_EX)
open(sys.argv[1], "w").close()
time.sleep(1000)' "$1"
}
cleanup() {
	# a failure while the test held dpkg's lock must not leave it held
	[ -z "$locker" ] || kill "$locker" 2> /dev/null || true
	[ ! -s "$T/relocker" ] || kill "$(cat "$T/relocker")" 2> /dev/null || true
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

# history, not a candidate: not after a restart, not when delivered again.
# From here the daemon's dpkg-query is a wrapper that logs each call
# ($T/queries: "ask ARGS" as it starts, "done ARGS" as it ends) and, once
# $T/relock-once exists, first takes dpkg's lock as dpkg's next run would
mkdir -p "$T/bin"
cat > "$T/bin/dpkg-query" <<EOF
#!/bin/bash
echo "ask \$*" >> "$T/queries"
if [ -e "$T/relock-once" ]; then
	rm -f "$T/relock-once"
	$(declare -f lock_dpkg)
	lock_dpkg "$T/relocked" > /dev/null 2>&1 &
	echo \$! > "$T/relocker"
	while [ ! -e "$T/relocked" ]; do sleep 0.1; done
fi
/usr/bin/dpkg-query "\$@"
rc=\$?
echo "done \$*" >> "$T/queries"
exit \$rc
EOF
chmod +x "$T/bin/dpkg-query"
: > "$T/queries"
daemon_stop
daemon_start PATH="$T/bin:$PATH"
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
lock_dpkg "$T/locked" &
locker=$!
for _ in $(seq 50); do [ -e "$T/locked" ] && break; sleep 0.1; done
[ -e "$T/locked" ] || fail "the dpkg lock was not taken"
asked=$(wc -l < "$T/queries")
cp "$T/v1" "$S/.new" && mv "$S/.new" $LIB
wait_store again-fix superseded 50
# a daemon that asks does so at once, as it records the layer superseded
sleep 3
expect_eq "$(wc -l < "$T/queries")" "$asked" "dpkg-query calls while dpkg's lock is held: $(cat "$T/queries")"
expect_eq "$(sed -n 's/^superseded_by=//p' $STORE/again-fix.state)" "" "superseded_by while dpkg's lock is held"
kill $locker
wait $locker 2> /dev/null || true
locker=
expect_eq "$(superseded_by again-fix)" "pl-testlib 2.0" "superseded_by once the lock is let go"

# apt lets go of dpkg's lock between its dpkg runs: an answer overtaken by
# the next run (the lock taken again while the daemon asks) is not
# recorded either, and is asked for again once the lock is let go
build_layer "$T/third" vendor third-fix "3.0 (a)" "$T/v1-fixed=$LIB"
deliver $T/third third
wait_store third-fix active 50
answered=$(grep -c '^done' "$T/queries")
touch "$T/relock-once"
cp "$T/v2" "$S/.new" && mv "$S/.new" $LIB
wait_store third-fix superseded 50
# its two queries (--search, --show) done; the record would follow at once
for _ in $(seq 600); do
	[ "$(grep -c '^done' "$T/queries")" -ge $((answered + 2)) ] && break
	sleep 0.1
done
[ -e "$T/relocked" ] || fail "the daemon did not ask dpkg: $(cat "$T/queries")"
sleep 1
expect_eq "$(sed -n 's/^superseded_by=//p' $STORE/third-fix.state)" "" \
	"superseded_by asked for while dpkg's next run began: $(cat "$T/queries")"
kill "$(cat "$T/relocker")"
expect_eq "$(superseded_by third-fix)" "pl-testlib 2.0" "superseded_by once the next run let go"
