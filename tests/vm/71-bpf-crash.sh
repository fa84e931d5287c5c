# The crash watch: a process that maps a layer's patched library and dies
# of a fault the kernel raised (SIGSEGV of a NULL dereference) or of its
# own abort (SIGABRT) counts once per crash against that layer, with an
# event naming the signal; so does a child forked without exec. A crash of
# a process that does not map it, a handled signal, a SIGTERM, and the
# same fatal signals sent by kill() (by anyone, the process itself
# included) do not count. A crash in a system service's cgroup counts as
# one of a service too; one in a user's manager does not.
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
# kills are no crashes: of a fault's signal by the process itself (its own
# SIGABRT is abort(), above), of any by another
for sig in 11 7 4 8; do
	rc=0; python3 -c "import zlib, os; os.kill(os.getpid(), $sig)" || rc=$?
	expect_eq $rc $((128 + sig)) "python3 kill(getpid(), $sig)"
done
"$T/crash" $ZLIB 11 wait > "$T/waiter.out" &
waiter=$!
for _ in $(seq 100); do [ -s "$T/waiter.out" ] && break; sleep 0.1; done
kill -ABRT $waiter
rc=0; wait $waiter || rc=$?
expect_eq $rc 134 "SIGABRT from another process"
waiter=
expect_rc 0 "$PL" -j usage zlib-fix
expect_match "$out" '"crashes":4,' "crash count after kills"

# a fault of python3 itself (NULL dereference): a crash
rc=0; python3 -c 'import zlib, ctypes; ctypes.string_at(0)' || rc=$?
expect_eq $rc 139 "python3 NULL dereference"
# a child forked without exec maps what its parent mapped: it counts
rc=0; python3 -c '
import ctypes, os, zlib
if os.fork() == 0:
    ctypes.string_at(0)
_, st = os.wait()
os._exit(128 + os.WTERMSIG(st))' || rc=$?
expect_eq $rc 139 "forked child's NULL dereference"

# a system service's crash: its cgroup is a .service below the slices
svc=/sys/fs/cgroup/system.slice/system-pl.slice/pl-crash@1.service
usr=/sys/fs/cgroup/user.slice/user-65534.slice/user@65534.service/app.slice/pl-user.service
mkdir -p $svc $usr
rc=0; sh -c 'echo $$ > $1/cgroup.procs && exec "$2" "$3" 11' sh $svc "$T/crash" $ZLIB || rc=$?
expect_eq $rc 139 "crash of a service"
rc=0; sh -c 'echo $$ > $1/cgroup.procs && exec "$2" "$3" 11' sh $usr "$T/crash" $ZLIB || rc=$?
expect_eq $rc 139 "crash in a user manager's service"

expect_rc 0 "$PL" -j usage zlib-fix
expect_match "$out" '"crashes":8,"denied":0,"service_crashes":1,' "crash count"
expect_rc 0 "$PL" usage zlib-fix
expect_match "$out" "^zlib-fix \(active, enforcement off\): [0-9]+ patched, 0 stale, 8 crashes \(1 of services\)" "usage"
sleep 1
kill $events
events=
crashes=$(grep '"event":"crash"' "$T/events" || true)
expect_eq "$(wc -l <<< "$crashes")" 8 "crash events: $crashes"
expect_eq "$(grep -o '"signal":[0-9]*,"code":-*[0-9]*,"service":[a-z]*' <<< "$crashes" | tr '\n' ' ')" \
	'"signal":11,"code":1,"service":false "signal":11,"code":1,"service":false "signal":11,"code":1,"service":false "signal":6,"code":-6,"service":false "signal":11,"code":1,"service":false "signal":11,"code":1,"service":false "signal":11,"code":1,"service":true "signal":11,"code":1,"service":false ' \
	"signals of the crash events"
grep -q '"layer":"zlib-fix"' <<< "$crashes" || fail "crash events without the layer"

# a dropped layer counts no more; the counts stay until it is unloaded
expect_write OK $SYSFS/layers/zlib-fix/state drop
rc=0; "$T/crash" $ZLIB 11 || rc=$?
expect_eq $rc 139 "crash after drop"
expect_rc 0 "$PL" -j usage zlib-fix
expect_match "$out" '"crashes":8,' "crash count after drop"
