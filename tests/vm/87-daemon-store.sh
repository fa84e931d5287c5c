# The store's layers when something is wrong with them: a stored layer the
# kernel keeps refusing is retried less and less often (not in a busy loop:
# its reason said once, little CPU), and at once when its files change.
# A state file that does not parse leaves its layer alone ("unknown"),
# said once. A layer name the store could not hold is refused. The BPF
# side pinned by another build is loaded again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemonlib.sh"
trap daemon_cleanup EXIT
daemon_setup
daemon_config "auto_install = yes"

# cpu_ticks PID: user + system time of PID, in clock ticks
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# --- a stored layer the kernel refuses: tampered with while the daemon was down
daemon_start
deliver $T/zfix zfix
wait_store zlib-fix active 50
daemon_stop
echo drop > $SYSFS/layers/zlib-fix/state
echo zlib-fix > $SYSFS/unload
cp "$STORE/zlib-fix/files$ZLIB" $T/good
printf 'x' >> "$STORE/zlib-fix/files$ZLIB"
daemon_start
secs=30
before=$(cpu_ticks $daemon_pid)
lines=$(wc -l < $T/daemon.log)
sleep $secs
ticks=$(( $(cpu_ticks $daemon_pid) - before ))
tries=$(tail -n +$((lines + 1)) $T/daemon.log | grep -c 'step [0-9]*: load zlib-fix' || true)
hz=$(getconf CLK_TCK)
echo "daemon over ${secs}s with a refused layer: $tries loads tried, ${ticks} ticks of 1/${hz} s of CPU"
# a busy loop tries thousands and takes all the CPU; a back-off a few
# retries, each a load the kernel verifies (a second of CPU on a debug
# kernel under TCG, most of it the kernel's)
[ "$tries" -le 8 ] || fail "$tries loads in ${secs}s: $(tail -n 5 $T/daemon.log)"
[ "$ticks" -lt $((5 * hz)) ] || fail "the daemon used $ticks/$hz s of CPU in ${secs}s: $(tail -n 5 $T/daemon.log)"
expect_eq "$(grep -c 'load failed' $STORE/.log)" 1 "load failures in the history"
expect_match "$(grep 'load failed' $STORE/.log)" "EBADMSG.*retrying" "the failure said once"
expect_match "$(cat $STORE/zlib-fix.state)" "why=load failed: " "the reason in the record"
kill -0 $daemon_pid || fail "the daemon died"
# repaired: loaded and active again at the next look (a change, or SIGHUP)
cp $T/good "$STORE/zlib-fix/files$ZLIB"
kill -HUP $daemon_pid
wait_store zlib-fix active 50
wait_state zlib-fix active
daemon_stop

# --- a state file that does not parse is not "new": a dropped layer whose
# record was cut short (state=drop...) is neither loaded nor activated
expect_rc 0 env PATCHLAYER_CONF="$CONF" "$PL" drop zlib-fix
expect_eq "$(store_state zlib-fix)" dropped "after drop"
daemon_stop
echo zlib-fix > $SYSFS/unload	# as after a reboot
head -c 10 $STORE/zlib-fix.state > $T/cut && cp $T/cut $STORE/zlib-fix.state
# with metrics every second: a layer not loaded has no hits attribute,
# looked for once, not at every rewrite
mkdir -p -m 0755 $T/metrics
daemon_config "auto_install = yes" "metrics_file = $T/metrics/pl.prom" "metrics_interval = 1s"
daemon_start
wait_store zlib-fix unknown 50
sleep 2
[ ! -e $SYSFS/layers/zlib-fix ] || fail "a layer of unknown state was loaded: $(layer_state zlib-fix)"
strace -qq -e trace=openat -o $T/absent.strace -p $daemon_pid &
tracer=$!
sleep 4
kill -INT $tracer; wait $tracer 2>/dev/null || true
rewrites=$(grep -c 'pl.prom.tmp' $T/absent.strace || true)
[ "$rewrites" -ge 2 ] || fail "$rewrites metrics rewrites traced in 4 s: $(head -n 5 $T/absent.strace)"
if grep '/hits"' $T/absent.strace; then
	fail "the hits attribute of a layer not loaded was looked for at rest"
fi
daemon_config "auto_install = yes"
expect_eq "$(cat $STORE/.zlib-fix.state.bad)" "state=drop" "the state file kept aside"
expect_rc 0 env PATCHLAYER_CONF="$CONF" "$PL" layers
expect_match "$out" "zlib-fix version \"\" unknown since " "layers"
expect_match "$out" "its state file did not parse \(line 1: unknown state; kept as .zlib-fix.state.bad\): nothing is done automatically" "why in layers"
# said once, not at each event
kill -HUP $daemon_pid
sleep 2
[ ! -e $SYSFS/layers/zlib-fix ] || fail "loaded after another event"
expect_eq "$(grep -c 'did not parse' $STORE/.log)" 1 "the unknown state in the history"
# the administrator decides
expect_rc 0 env PATCHLAYER_CONF="$CONF" "$PL" drop zlib-fix
expect_eq "$(store_state zlib-fix)" dropped "after the administrator's drop"
expect_eq "$(layer_state zlib-fix)" loaded "the kernel after the administrator's drop"
expect_rc 0 env PATCHLAYER_CONF="$CONF" "$PL" remove zlib-fix
daemon_stop

# --- one rule for layer names: a name the store could not hold is refused
# by build (and by the kernel: the same lib/manifest.c)
for n in zlib.state .hidden -x; do
	expect_rc 2 "$PL" build --name "$n" --version 1 --key $T/vendor.key --cert $T/vendor.pem -o $T/bad "$T/libz.so=$ZLIB"
	expect_match "$out" "a letter or digit first, not ending in '.state'" "build --name $n"
done

# --- the BPF side pinned by another build (before a package upgrade) is
# not reused: the daemon loads its own
scan_id() {
	bpftool -j prog show pinned /sys/fs/bpf/patchlayer/scan | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'
}
daemon_start
old=$(scan_id)
daemon_stop
# the pins of a build without the marker
rm /sys/fs/bpf/patchlayer/build
expect_rc 1 "$PL" bpf status
expect_match "$out" "pinned by another build of patchlayer" "bpf status over another build's pins"
daemon_start
expect_match "$(cat $T/daemon.log)" "the BPF side pinned in /sys/fs/bpf/patchlayer is another build's: loading this one's" "the daemon's log"
[ -e /sys/fs/bpf/patchlayer/build ] || fail "no build marker after the daemon's load"
[ "$(scan_id)" != "$old" ] || fail "the old programs were kept (scan is still program $old)"
expect_rc 0 "$PL" bpf status
daemon_stop
