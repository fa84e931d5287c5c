# The store's layers when something is wrong with them: a stored layer the
# kernel keeps refusing is retried less and less often (not in a busy loop:
# its reason said once, little CPU), and at once when its files change.
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
sleep $secs
ticks=$(( $(cpu_ticks $daemon_pid) - before ))
hz=$(getconf CLK_TCK)
echo "daemon CPU time over ${secs}s with a refused layer: ${ticks} ticks of 1/${hz} s"
# a busy loop takes all of it; a back-off a few retries' worth
[ "$ticks" -lt "$hz" ] || fail "the daemon used $ticks/$hz s of CPU in ${secs}s: $(tail -n 5 $T/daemon.log)"
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
