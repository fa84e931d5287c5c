# The daemon at rest costs O(changes): its metrics, rewritten every
# metrics_interval, come from the last scan's answer while the BPF side
# counts no change (no iterator runs at all); a process that maps the
# layer's library, and its exit, make the next rewrite scan again and count
# it. Without the BPF side's count of changes, every rewrite visits every
# process. Nor does a rewrite at rest open a file per layer: each layer's
# record is stat'ed, its hits attribute read again where it is held open.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemonlib.sh"
. "$(dirname "$0")/bpflib.sh"
trap 'kill $sleepers 2>/dev/null || true; sysctl -qw kernel.bpf_stats_enabled=0; daemon_cleanup' EXIT
daemon_setup
mkdir -m 0755 $T/metrics
PROM=$T/metrics/patchlayer.prom
# the health window over at once: its looks read the record, by design
daemon_config "auto_install = yes" "metrics_file = $PROM" "metrics_interval = 1s" "health_window = 1s"
# run counts of BPF programs
sysctl -qw kernel.bpf_stats_enabled=1
daemon_start
grep -q "health watch unavailable" $T/daemon.log && fail "no BPF side: $(cat $T/daemon.log)"
deliver $T/zfix zfix
wait_store zlib-fix active 50
wait_state zlib-fix active

# Visits of the taskscan iterator (one per process a scan), read from the
# daemon's descriptor of it: bpftool and python3 map libz, which is a
# change of the answer (a process mapping the layer's base) in itself.
tid=$(bpftool -j prog show pinned /sys/fs/bpf/patchlayer/taskscan |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
scans() {
	local f
	for f in /proc/$daemon_pid/fdinfo/*; do
		if grep -q "^prog_id:[[:space:]]*$tid\$" "$f" 2> /dev/null; then
			sed -n 's/^run_cnt:[[:space:]]*//p' "$f"
			return
		fi
	done
	fail "the daemon holds no descriptor of taskscan (id $tid)"
}
patched() {
	sed -n 's/^patchlayer_layer_patched_processes{name="zlib-fix"[^}]*} //p' "$PROM"
}
mtime() { stat -c %.9Y "$PROM"; }
# written_after T: waits until the metrics file is newer than T
written_after() {
	for _ in $(seq 100); do
		[ -f "$PROM" ] && [ "$(mtime)" != "$1" ] && return 0
		sleep 0.1
	done
	fail "metrics not rewritten since $1: $(tail -n 5 $T/daemon.log)"
}

# settled: two rewrites after the activation's
written_after 0
for _ in 1 2; do written_after "$(mtime)"; done
before=$(scans) count=$(patched)
[ -n "$count" ] || fail "no patched series for zlib-fix: $(grep zlib-fix "$PROM")"
# at rest: four rewrites, no visit of any process
t=$(mtime)
for _ in 1 2 3 4; do written_after "$t"; t=$(mtime); done
expect_eq "$(scans)" "$before" "taskscan runs over four rewrites at rest"
expect_eq "$(patched)" "$count" "patched processes at rest"

# and no file opened per layer: a rewrite at rest stats the record and reads the hits
# attribute it holds open; it opens neither (only the lock, the store's
# directory and the new file)
strace -f -qq -e trace=openat,open -o $T/rest.strace -p $daemon_pid &
tracer=$!
sleep 1	# attached
t=$(mtime)
for _ in 1 2; do written_after "$t"; t=$(mtime); done
kill -INT $tracer; wait $tracer 2>/dev/null || true
grep -q 'patchlayer.prom.tmp' $T/rest.strace || fail "strace saw no rewrite: $(head -n 5 $T/rest.strace)"
if grep -E '\.state"|/hits"' $T/rest.strace; then
	fail "a rewrite at rest opened a record or a sysfs attribute"
fi

# a served open at rest counts at the next rewrite, from the held attribute
hits() {
	sed -n 's/^patchlayer_layer_hits_total{name="zlib-fix"[^}]*} //p' "$PROM"
}
h=$(hits)
[ -n "$h" ] || fail "no hits series: $(grep zlib-fix "$PROM")"
head -c 1 $ZLIB > /dev/null
for _ in $(seq 50); do [ "$(hits)" = "$((h + 1))" ] && break; sleep 0.1; done
expect_eq "$(hits)" "$((h + 1))" "hits after one open at rest"

# a change: a new process maps the fixed libz
zlib_sleeper $T/sleeper.out
expect_eq "$(cat $T/sleeper.out)" "$ZLIB_FIXED_VERSION" "the sleeper's zlib"
for _ in $(seq 50); do [ "$(patched)" = "$((count + 1))" ] && break; sleep 0.1; done
expect_eq "$(patched)" "$((count + 1))" "patched processes with the sleeper"
after=$(scans)
[ "$after" -gt "$before" ] || fail "the change was counted without a scan ($before, $after runs)"
# and rest again
t=$(mtime)
for _ in 1 2 3; do written_after "$t"; t=$(mtime); done
expect_eq "$(scans)" "$after" "taskscan runs at rest with the sleeper"
# its exit is a change too
kill $sleepers
wait $sleepers 2>/dev/null || true
sleepers=
for _ in $(seq 50); do [ "$(patched)" = "$count" ] && break; sleep 0.1; done
expect_eq "$(patched)" "$count" "patched processes after the sleeper's exit"
echo "at rest: $(( after - before )) visits for one change, none over seven rewrites"
