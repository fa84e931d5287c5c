# Activating a zlib layer over the protected real library directory: new
# processes get the patched library, running ones keep theirs, drop
# restores the base; activation is refused with a clear errno when it
# cannot be done right.
. "$(dirname "$0")/lib.sh"

# the layer store on a plain tmpfs: what /proc/PID/maps shows is its inode
T=/var/lib/pl-store
mkdir -p $T && mount -t tmpfs tmpfs $T
make_key "$T" vendor
patched_zlib "$T/libz.so"
build_layer "$T/zfix" vendor zlib-fix "26.3 (b)" "$T/libz.so=$ZLIB"

modprobe patchlayer
echo 1 > $TRACEFS/events/patchlayer/enable
"$PL" -j monitor > "$T/events" 2> "$T/monitor.err" &
monitor=$!
old=
userns=
trap 'kill $monitor $old $userns 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q listening "$T/monitor.err" && break; sleep 0.1; done
expect_write OK $SYSFS/trust --bytes-from "$T/vendor.der"
expect_write OK $SYSFS/load "$T/zfix"
L=$SYSFS/layers/zlib-fix

expect_write EXDEV $L/state activate	# not protected yet
expect_eq "$(layer_state zlib-fix)" loaded "state after EXDEV"
expect_rc 0 "$PL" protect $LIBDIR
# a file bind-mounted on a name of the protected directory stays mounted
# through activations and drops (a failed revalidation detaches mounts)
echo bound > "$T/bound"
: > $LIBDIR/pl-bound && mount --bind "$T/bound" $LIBDIR/pl-bound
expect_write EINVAL $L/state frobnicate
expect_write EINVAL $L/state ""$'\n'

# a user's own mount namespace with something bound on the library's
# name: the mount flags our dentry for every namespace, which must not
# freeze what the name serves (the layer below must still be served)
U=$(mktemp -d) && chmod 777 "$U"
setpriv --reuid=65534 --regid=65534 --clear-groups unshare -Urm \
	sh -c "mount --bind /dev/null $ZLIB && touch $U/ready && exec sleep 600" &
userns=$!
for _ in $(seq 100); do [ -e "$U/ready" ] && break; sleep 0.1; done
[ -e "$U/ready" ] || fail "no bind mount in a user's namespace"

# a process started before activation
python3 -c 'import zlib, sys, time; print(zlib.ZLIB_RUNTIME_VERSION, flush=True); time.sleep(600)' > "$T/old.out" &
old=$!
for _ in $(seq 100); do [ -s "$T/old.out" ] && break; sleep 0.1; done
expect_eq "$(cat "$T/old.out")" 1.2.13 "old process before activation"

base_ino=$(stat -c %i $ZLIB)
gen=$(cat $SYSFS/generation)
expect_write OK $L/state activate
expect_eq "$(layer_state zlib-fix)" active "state"
expect_eq "$(cat $SYSFS/generation)" $((gen + 1)) "generation after activate"
[ "$(cat $L/activated_at)" -ge "$(( $(date +%s) - 60 ))" ] || fail "activated_at $(cat $L/activated_at)"
[ "$(cat $L/activate_ns)" -gt 0 ] || fail "activate_ns"
expect_write OK $L/state activate	# already active: nothing to do
expect_write EBUSY $SYSFS/unload zlib-fix
expect_rc 1 "$PL" unprotect $LIBDIR
expect_match "$out" "layer zlib-fix is active on $LIBDIR" "unprotect while active"

# a new process uses the patched library, mapped from the layer's file
new=$(python3 -c 'import os, zlib; print(zlib.ZLIB_RUNTIME_VERSION, flush=True)
os.system("python3 exec-maps.py %d" % os.getpid())')
expect_eq "$(head -n 1 <<< "$new")" "$ZLIB_FIXED_VERSION" "new process"
expect_match "$new" " $(devino "$T/zfix/files$ZLIB") $ZLIB\$" "the new process's mapping"
# the old one still runs what it mapped
expect_eq "$(maps_ino $old libz.so)" "$base_ino" "the old process's mapping"
[ "$(cat $L/hits)" -ge 1 ] || fail "hits $(cat $L/hits)"
grep -q "patchlayer_redirect: layer=zlib-fix target=$ZLIB pid=[0-9]* comm=python3" $TRACEFS/trace ||
	fail "no redirect trace"
# the served file's identity is the replacement's; writes to it are refused
expect_eq "$(stat -c %s $ZLIB)" "$(stat -c %s "$T/zfix/files$ZLIB")" "size served"
rc=0; python3 -c 'open("'$ZLIB'", "r+b")' 2> "$T/err" || rc=$?
[ $rc != 0 ] && grep -q 'Errno 26' "$T/err" || fail "the served replacement opened for writing: $(cat "$T/err")"

expect_write OK $L/state drop
expect_eq "$(layer_state zlib-fix)" loaded "state after drop"
expect_eq "$(cat $SYSFS/generation)" $((gen + 2)) "generation after drop"
expect_eq "$(python3 -c 'import zlib; print(zlib.ZLIB_RUNTIME_VERSION)')" 1.2.13 "after drop"
expect_write OK $L/state drop	# not active: nothing to do
expect_eq "$(cat $LIBDIR/pl-bound)" bound "a bind mount on a protected name after activate and drop"
umount $LIBDIR/pl-bound && rm $LIBDIR/pl-bound

# a cumulative layer takes over its predecessor in one publication
cp "$T/libz.so" "$T/libz2.so"
printf 'cumulative' >> "$T/libz2.so"
build_layer "$T/zfix2" vendor zlib-fix-2 "26.3 (c)" --replaces zlib-fix "$T/libz2.so=$ZLIB"
build_layer "$T/other" vendor zlib-other "1" "$T/libz.so=$ZLIB"
expect_write OK $SYSFS/load "$T/zfix2"
expect_write OK $SYSFS/load "$T/other"
expect_write OK $L/state activate
expect_write EBUSY $SYSFS/layers/zlib-other/state activate	# same target, not a successor
expect_write OK $SYSFS/layers/zlib-fix-2/state activate
expect_eq "$(layer_state zlib-fix)" loaded "predecessor"
expect_eq "$(layer_state zlib-fix-2)" active "successor"
expect_eq "$(tail -c 10 $ZLIB)" cumulative "served after the takeover"
expect_write OK $SYSFS/layers/zlib-fix-2/state drop
cmp -s $ZLIB "$T/libz.so" && fail "a dropped layer is still served"

# stale: the base changed after the layer was verified
S=/usr/lib/pl-test
make_libdir $S
patched_zlib "$T/demo.so"
build_layer "$T/demo" vendor demo-fix "1" "$T/demo.so=$S/libdemo.so.1.0"
expect_write OK $SYSFS/load "$T/demo"
expect_rc 0 "$PL" protect $S
printf 'x' >> $S/libdemo.so.1.0
expect_write ESTALE $SYSFS/layers/demo-fix/state activate
expect_eq "$(layer_state demo-fix)" stale "state of a stale layer"
expect_write OK $SYSFS/unload demo-fix

grep -q 'patchlayer_state: layer=zlib-fix from=loaded to=active why=activated' $TRACEFS/trace ||
	fail "no state trace"
sleep 0.5
kill $monitor
python3 - "$T/events" <<'PY'
import json, sys
states = [(e["layer"], e["state"]) for e in map(json.loads, open(sys.argv[1])) if e["event"] == "state"]
want = [("zlib-fix", "active"), ("zlib-fix", "loaded"), ("zlib-fix", "active"),
        ("zlib-fix", "loaded"), ("zlib-fix-2", "active"), ("zlib-fix-2", "loaded"),
        ("demo-fix", "stale")]
assert states == want, states
PY
kill $old
expect_rc 0 "$PL" unprotect $S
expect_rc 0 "$PL" unprotect $LIBDIR
