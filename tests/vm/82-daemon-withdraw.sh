# The health watch: patched processes that crash (SIGSEGV, SIGABRT) within
# health_window of activation are counted from the BPF side's crash
# events; at crash_threshold the layer is withdrawn (dropped, unloaded,
# kept in the store), new processes get the base, status and log say why,
# and a restart of the daemon does not bring it back. The window is
# measured on the boot's clock, whatever the wall clock does.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemonlib.sh"
trap daemon_cleanup EXIT
daemon_setup
gcc -O0 -Wall -o "$T/crash" "$PLVM_ROOT/tests/vm/data/crash.c"
daemon_config "auto_install = yes" "crash_threshold = 2" "health_window = 10m"
daemon_start
grep -q "health watch unavailable" $T/daemon.log && fail "no health watch: $(cat $T/daemon.log)"
deliver $T/zfix zfix
wait_store zlib-fix active 50
wait_state zlib-fix active
# the health window runs on the boot's clock: the wall clock jumping an
# hour ahead (NTP's first sync after a boot) does not end it
clock() { date -s "@$(( $(date +%s) + $1 ))" > /dev/null; }
clock 3600
trap 'clock -3600; daemon_cleanup' EXIT

# a crash of a process that does not map the layer does not count
rc=0; "$T/crash" - 11 || rc=$?
expect_eq $rc 139 "crash without the library"
rc=0; "$T/crash" $ZLIB 11 || rc=$?
expect_eq $rc 139 "first crash"
for _ in $(seq 50); do grep -q '^crashes=1$' $STORE/zlib-fix.state && break; sleep 0.1; done
grep -q '^crashes=1$' $STORE/zlib-fix.state || fail "first crash not counted: $(cat $STORE/zlib-fix.state)"
expect_eq "$(store_state zlib-fix)" active "below the threshold"
expect_eq "$(layer_state zlib-fix)" active "kernel below the threshold"

rc=0; "$T/crash" $ZLIB 6 || rc=$?
expect_eq $rc 134 "second crash (SIGABRT)"
wait_store zlib-fix withdrawn 50
clock -3600
trap daemon_cleanup EXIT
for _ in $(seq 50); do [ -e $SYSFS/layers/zlib-fix ] || break; sleep 0.1; done
[ ! -e $SYSFS/layers/zlib-fix ] || fail "withdrawn but still loaded: $(layer_state zlib-fix)"
[ -d $STORE/zlib-fix ] || fail "withdrawn layer gone from the store"
expect_eq "$(python3 -c 'import zlib; print(zlib.ZLIB_RUNTIME_VERSION)')" 1.2.13 "a new python3 after withdrawal"
expect_rc 0 "$PL" -j layers
expect_match "$out" '"state":"withdrawn"' "layers -j"
expect_match "$out" '"crashes":2,"why":"2 crashes of patched processes within 600s of activation \(crash_threshold 2\)"' "why"
# out of the kernel there is nothing to count: no claim about the BPF side,
# which is loaded (it saw the crashes)
expect_rc 0 env PATCHLAYER_CONF="$CONF" "$PL" layers
expect_match "$out" '^zlib-fix version "26.3 \(b\)" withdrawn since [^ ]+ hits 0 crashes 2$' "layers"
expect_rc 0 env PATCHLAYER_CONF="$CONF" "$PL" log
expect_match "$out" "crash 1 of 2: pid [0-9]+ \(crash\) killed by signal 11 \(SEGV\)" "crash evidence in the log"
expect_match "$out" "crash 2 of 2: pid [0-9]+ \(crash\) killed by signal 6 \(ABRT\)" "crash evidence in the log"

# never automatically again: not after a restart, not when delivered again
daemon_stop
daemon_start
sleep 1
expect_eq "$(store_state zlib-fix)" withdrawn "after a restart"
[ ! -e $SYSFS/layers/zlib-fix ] || fail "reloaded after a restart"
deliver $T/zfix zfix2
for _ in $(seq 50); do [ -e $INBOX/rejected/zfix2.reason ] && break; sleep 0.1; done
expect_match "$(cat $INBOX/rejected/zfix2.reason)" "already in the store \(withdrawn\)" "a second delivery"
# the administrator may still install it by hand
expect_rc 0 env PATCHLAYER_CONF="$CONF" "$PL" install zlib-fix
expect_eq "$(layer_state zlib-fix)" active "installed by hand"
