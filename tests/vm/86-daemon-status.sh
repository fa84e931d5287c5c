# "patchlayer status" (text and -j) says whether the daemon runs and its pid,
# also to a non-root user; a second daemon is refused while one runs; a
# SIGKILLed daemon leaves no stale "running" and the next one starts.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemonlib.sh"
trap daemon_cleanup EXIT
daemon_setup
daemon_config

status_daemon() { # the daemon line of status, and -j's daemon object
	"$PL" status | sed -n 's/^daemon: *//p'
	"$PL" -j status | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["daemon"], sort_keys=True))'
}

expect_eq "$(status_daemon)" "not running
{\"pid\": null, \"running\": false}" "status before the daemon"

daemon_start
expect_eq "$(status_daemon)" "running (pid $daemon_pid)
{\"pid\": $daemon_pid, \"running\": true}" "status with the daemon"
expect_eq "$(cat /run/patchlayer/daemon.pid)" "$daemon_pid" "the pid file"
expect_rc 0 setpriv --reuid=65534 --regid=65534 --clear-groups "$PL" status
expect_match "$out" "^daemon: +running \(pid $daemon_pid\)$" "status as nobody"

expect_rc 1 env PATCHLAYER_CONF="$CONF" "$PL" daemon
expect_match "$out" "daemon: already running \(pid $daemon_pid, /run/patchlayer/daemon.pid\)" "a second daemon"
kill -0 "$daemon_pid" || fail "the first daemon died"

kill -KILL "$daemon_pid"
wait "$daemon_pid" 2>/dev/null || true
daemon_pid=
expect_eq "$(status_daemon)" "not running
{\"pid\": null, \"running\": false}" "status after SIGKILL"
daemon_start
expect_eq "$("$PL" status | sed -n 's/^daemon: *//p')" "running (pid $daemon_pid)" "status after the restart"
