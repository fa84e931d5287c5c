# The health watch: patched processes of system services (crash_scope's
# default) that crash (SIGSEGV, SIGABRT) within health_window of
# activation are counted from the BPF side's crash counters; at
# crash_threshold the layer is withdrawn (dropped, unloaded, kept in the
# store), new processes get the base, status and log say why, and a
# restart of the daemon does not bring it back. Crashes of processes that
# are not a system service's (root's shell here, a user's manager), and
# kills, count nothing, however many; a crash whose event another consumer
# of the ring buffer took (patchlayer bpf events) counts, once. The window
# is measured on the boot's clock, whatever the wall clock does.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemonlib.sh"
trap 'kill -CONT $daemon_pid 2>/dev/null || true; kill $waiter $events 2>/dev/null || true; daemon_cleanup' EXIT
waiter= events=
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

# in_cgroup DIR CMD...: runs CMD in the cgroup /sys/fs/cgroup/DIR, as
# systemd would run a unit's process there
in_cgroup() {
	mkdir -p "/sys/fs/cgroup/$1"
	sh -c 'echo $$ > "/sys/fs/cgroup/$0/cgroup.procs" && exec "$@"' "$@"
}
svc=system.slice/pl-crash.service
usr=user.slice/user-65534.slice/user@65534.service/app.slice/pl-user.service
crashes_is() {
	grep -q "^crashes=$1\$" $STORE/zlib-fix.state || fail "$2: $(cat $STORE/zlib-fix.state)"
}

# none of these count: a crash of a process that does not map the layer,
# crashes out of system services (of root, of a user in their manager's
# service), kills
rc=0; "$T/crash" - 11 || rc=$?
expect_eq $rc 139 "crash without the library"
for i in 1 2 3; do
	rc=0; "$T/crash" $ZLIB 11 || rc=$?
	expect_eq $rc 139 "crash of root's process $i"
done
for i in 1 2 3 4 5; do
	rc=0; in_cgroup $usr setpriv --reuid=65534 --regid=65534 --clear-groups \
		python3 -c 'import os, zlib; os.kill(os.getpid(), 11)' || rc=$?
	expect_eq $rc 139 "self-kill of a user's process $i"
	rc=0; in_cgroup $usr setpriv --reuid=65534 --regid=65534 --clear-groups \
		python3 -c 'import ctypes, zlib; ctypes.string_at(0)' || rc=$?
	expect_eq $rc 139 "NULL dereference of a user's process $i"
done
"$T/crash" $ZLIB 11 wait > $T/waiter.out &
waiter=$!
for _ in $(seq 100); do [ -s $T/waiter.out ] && break; sleep 0.1; done
kill -SEGV $waiter
rc=0; wait $waiter || rc=$?
expect_eq $rc 139 "kill -SEGV"
# the crashes were seen (the user's five faults and root's three), none counts
expect_rc 0 "$PL" -j usage zlib-fix
expect_match "$out" '"crashes":8,"denied":0,"service_crashes":0,' "the BPF side's counts"
sleep 3
crashes_is 0 "crashes out of services counted"
expect_eq "$(store_state zlib-fix)" active "after crashes out of services"

# a service's crash, whose event patchlayer bpf events takes while the
# daemon is stopped: counted from the counters, once
"$PL" -j bpf events > $T/events 2> $T/events.err &
events=$!
for _ in $(seq 100); do grep -q listening $T/events.err && break; sleep 0.1; done
kill -STOP $daemon_pid
rc=0; in_cgroup $svc "$T/crash" $ZLIB 11 || rc=$?
expect_eq $rc 139 "first crash of a service"
for _ in $(seq 50); do grep -q '"service":true' $T/events && break; sleep 0.1; done
grep -q '"service":true' $T/events || fail "no crash event: $(cat $T/events)"
kill -CONT $daemon_pid
for _ in $(seq 100); do grep -q '^crashes=1$' $STORE/zlib-fix.state && break; sleep 0.1; done
crashes_is 1 "first crash not counted"
sleep 3
crashes_is 1 "first crash not counted once"
kill $events
wait $events 2>/dev/null || true
events=
expect_eq "$(store_state zlib-fix)" active "below the threshold"
expect_eq "$(layer_state zlib-fix)" active "kernel below the threshold"

# a crash between the BPF side's count and its event: the daemon held by
# gdb at its next look at the counters while the service crashes; the
# look must wait for the event, which names the process
cat > $T/crash2.sh <<EOF
rc=0; sh -c 'mkdir -p /sys/fs/cgroup/\$0 && echo \$\$ > /sys/fs/cgroup/\$0/cgroup.procs && exec "\$@"' \
	system.slice/system-pl.slice/pl@1.service "$T/crash" $ZLIB 6 || rc=\$?
echo \$rc > $T/crash2.rc
EOF
timeout "${PL_GDB_TIMEOUT:-120}" gdb -p $daemon_pid -batch -nx -ex 'break health_look_all' -ex continue \
	-ex "shell sh $T/crash2.sh" -ex delete -ex detach > $T/gdb.out 2>&1 ||
	fail "gdb: $(cat $T/gdb.out)"
grep -q "Breakpoint 1, .*health_look_all" $T/gdb.out || fail "the daemon never looked: $(cat $T/gdb.out)"
expect_eq "$(cat $T/crash2.rc)" 134 "second crash (SIGABRT) of a service"
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
expect_match "$out" "crash 1 of 2: counted by the BPF side \\(1 new, event not received\\)" "crash evidence in the log"
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
