# The crash watch: a process that maps a layer's patched library and dies
# of SIGSEGV or SIGABRT counts once per crash against that layer, with an
# event naming the signal; a crash of a process that does not map it, a
# handled signal and a SIGTERM do not count.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bpflib.sh"

trap 'kill $waiter $events 2>/dev/null || true; bpf_cleanup' EXIT
waiter= events=
bpf_zlib_setup
gcc -O0 -Wall -o "$T/crash" "$PLVM_ROOT/tests/vm/data/crash.c"
expect_rc 0 "$PL" protect $LIBDIR
expect_write OK $SYSFS/layers/zlib-fix/state activate

# mapped before the BPF side was loaded: the scan makes it known
"$T/crash" $ZLIB 11 wait > "$T/waiter.out" &
waiter=$!
for _ in $(seq 100); do [ -s "$T/waiter.out" ] && break; sleep 0.1; done
expect_rc 0 "$PL" bpf load
expect_rc 0 "$PL" -j usage zlib-fix
expect_match "$out" "\"pid\":$waiter,\"comm\":\"crash\"" "the waiter in usage"

"$PL" -j bpf events > "$T/events" 2> "$T/events.err" &
events=$!
for _ in $(seq 100); do grep -q listening "$T/events.err" && break; sleep 0.1; done

kill -USR1 $waiter
rc=0; wait $waiter || rc=$?
expect_eq $rc 139 "the waiter's exit status"
waiter=
for sig in 11 11 6; do
	rc=0; "$T/crash" $ZLIB $sig 2>/dev/null || rc=$?
	expect_eq $rc $((128 + sig)) "crash with signal $sig"
done
# not counted: no mapping of the layer, a handled SIGSEGV, a SIGTERM
rc=0; "$T/crash" - 11 || rc=$?
expect_eq $rc 139 "crash without the library"
expect_rc 0 "$T/crash" $ZLIB 11 handle
rc=0; "$T/crash" $ZLIB 15 || rc=$?
expect_eq $rc 143 "SIGTERM"

expect_rc 0 "$PL" -j usage zlib-fix
expect_match "$out" '"crashes":4,' "crash count"
expect_rc 0 "$PL" usage zlib-fix
expect_match "$out" "^zlib-fix \(active, enforcement off\): [0-9]+ patched, 0 stale, 4 crashes" "usage"
sleep 1
kill $events
events=
crashes=$(grep '"event":"crash"' "$T/events" || true)
expect_eq "$(wc -l <<< "$crashes")" 4 "crash events: $crashes"
expect_eq "$(grep -o '"signal":[0-9]*' <<< "$crashes" | tr '\n' ' ')" \
	'"signal":11 "signal":11 "signal":11 "signal":6 ' "signals of the crash events"
grep -q '"layer":"zlib-fix"' <<< "$crashes" || fail "crash events without the layer"

# a dropped layer counts no more; the counts stay until it is unloaded
expect_write OK $SYSFS/layers/zlib-fix/state drop
rc=0; "$T/crash" $ZLIB 11 || rc=$?
expect_eq $rc 139 "crash after drop"
expect_rc 0 "$PL" -j usage zlib-fix
expect_match "$out" '"crashes":4,' "crash count after drop"
