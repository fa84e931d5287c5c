# SIGKILL of the daemon at each step of an install (load, store, record,
# activate...), then a restart: each time the layer ends up active, once in
# the store, out of the inbox, and the kernel agrees with the store.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemonlib.sh"
trap daemon_cleanup EXIT
daemon_setup
# deliveries found at start wait until still for inbox_settle: 1 s, not 5
daemon_config "auto_install = yes" "inbox_settle = 1s"

killed=0
for n in $(seq 1 8); do
	deliver $T/zfix zfix
	: > $T/daemon.log
	env PATCHLAYER_CONF="$CONF" PATCHLAYER_DIE_AT=$n "$PL" daemon >> $T/daemon.log 2>&1 &
	daemon_pid=$!
	# it dies at step N, or finishes the install before it
	for _ in $(seq 100); do
		kill -0 $daemon_pid 2>/dev/null || break
		[ "$(store_state zlib-fix)" = active ] && [ "$(layer_state zlib-fix 2>/dev/null)" = active ] && break
		sleep 0.1
	done
	if ! kill -0 $daemon_pid 2>/dev/null; then
		rc=0; wait $daemon_pid || rc=$?
		expect_eq $rc 137 "exit of the daemon killed at step $n"
		grep -q "PATCHLAYER_DIE_AT=$n: killing myself before" $T/daemon.log ||
			fail "step $n: died without the trace: $(cat $T/daemon.log)"
		echo "step $n: $(sed -n "s/.*killing myself before //p" $T/daemon.log)"
		killed=$((killed + 1))
		daemon_pid=
		daemon_start
	fi
	wait_store zlib-fix active 50
	wait_state zlib-fix active
	[ -d $STORE/zlib-fix ] || fail "step $n: not in the store"
	[ -z "$(ls -A $INBOX | grep -v '^rejected$' || true)" ] || fail "step $n: inbox: $(ls -A $INBOX)"
	[ -z "$(ls -A $INBOX/rejected 2>/dev/null)" ] || fail "step $n: rejected: $(cat $INBOX/rejected/*.reason)"
	expect_eq "$(python3 -c 'import zlib; print(zlib.ZLIB_RUNTIME_VERSION)')" "$ZLIB_FIXED_VERSION" "step $n: a new python3"
	expect_rc 0 env PATCHLAYER_CONF="$CONF" "$PL" remove zlib-fix
	[ ! -e $SYSFS/layers/zlib-fix ] || fail "step $n: still loaded after remove"
	daemon_stop
done
[ "$killed" -ge 4 ] || fail "only $killed steps were killed: the install has more"

# killed in the middle of a removal: the next start finishes it
deliver $T/zfix zfix
daemon_start
# found at start, just renamed: taken once still for inbox_settle (1 s here)
wait_store zlib-fix active 50
daemon_stop
expect_rc 137 env PATCHLAYER_CONF="$CONF" PATCHLAYER_DIE_AT=3 "$PL" remove zlib-fix
expect_eq "$(store_state zlib-fix)" removing "state after a killed remove"
daemon_start
for _ in $(seq 50); do [ -e $STORE/zlib-fix.state ] || break; sleep 0.1; done
[ ! -e $STORE/zlib-fix ] && [ ! -e $STORE/zlib-fix.state ] || fail "removal not finished"
[ ! -e $SYSFS/layers/zlib-fix ] || fail "still loaded after the finished removal"
