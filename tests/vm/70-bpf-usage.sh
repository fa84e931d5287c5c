# patchlayer usage: 5 processes started before activation run the stale
# base, 5 started after run the patched library, exactly as a /proc/*/maps
# scan finds; the BPF side streams what it sees; loading twice is harmless
# and unloading removes every pin.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bpflib.sh"

trap 'kill $sleepers $events 2>/dev/null || true; bpf_cleanup' EXIT
events=
bpf_zlib_setup
expect_rc 0 "$PL" protect $LIBDIR

expect_rc 0 "$PL" bpf load
expect_match "$out" "^BPF side loaded, pinned under /sys/fs/bpf/patchlayer" "bpf load"
expect_rc 0 "$PL" bpf load
expect_match "$out" "already loaded" "bpf load twice"
for p in watched layers slots tasks events mmap_file mprotect exec exit signal state scan; do
	[ -e /sys/fs/bpf/patchlayer/$p ] || fail "pin $p missing"
done
expect_rc 0 "$PL" -j bpf status
expect_match "$out" '"loaded":true' "bpf status"

for i in 1 2 3 4 5; do zlib_sleeper "$T/old$i"; done
old=$sleepers
expect_write OK $SYSFS/layers/zlib-fix/state activate
"$PL" -j bpf events > "$T/events" 2> "$T/events.err" &
events=$!
for _ in $(seq 100); do grep -q listening "$T/events.err" && break; sleep 0.1; done
sleepers=
for i in 1 2 3 4 5; do zlib_sleeper "$T/new$i"; done
new=$sleepers
sleepers="$old $new"
for i in 1 2 3 4 5; do
	expect_eq "$(cat "$T/old$i")" 1.2.13 "old process $i"
	expect_eq "$(cat "$T/new$i")" "$ZLIB_FIXED_VERSION" "new process $i"
done

layer_inodes zlib-fix
echo "replacement $file_id, base $base_id"
usage=$(usage_scan zlib-fix)
procs=$(proc_scan "$file_id" "$base_id")
for p in $old; do grep -qx "$p stale" <<< "$usage" || fail "old $p is not stale: $usage"; done
for p in $new; do grep -qx "$p patched" <<< "$usage" || fail "new $p is not patched: $usage"; done
# every process alive in both scans, the same answer (patchlayer itself
# maps libz through libbpf, and is gone by the /proc scan)
alive() { while read -r pid kind; do [ -d /proc/$pid ] && echo "$pid $kind"; done; }
diff <(alive <<< "$usage") <(alive <<< "$procs") || fail "usage and /proc/*/maps disagree"
expect_eq "$(grep -c stale <<< "$procs")" 5 "stale processes in /proc"

expect_rc 0 "$PL" usage zlib-fix
expect_match "$out" "^zlib-fix \(active, enforcement off\): [0-9]+ patched, 5 stale, 0 crashes" "usage"
expect_match "$out" "stale +$(cut -d' ' -f2 <<< "$old") +python3 " "usage line"
expect_rc 0 "$PL" usage
expect_match "$out" "^zlib-fix " "usage of every layer"
expect_rc 1 "$PL" usage --stale
expect_match "$out" "5 stale" "usage --stale"
expect_rc 1 "$PL" usage --stale zlib-fix
grep -q '^ *patched ' <<< "$out" && fail "--stale lists patched processes: $out"

# the live hook saw each new process map the replacement
sleep 1
for p in $new; do
	grep -q "\"event\":\"patched\",\"layer\":\"zlib-fix\",\"pid\":$p," "$T/events" ||
		fail "no patched event for $p: $(cat "$T/events")"
done

kill $old
wait $old 2>/dev/null || true
sleepers=$new
expect_rc 0 "$PL" usage --stale
expect_match "$out" "0 stale" "usage --stale after the old ones exit"
sleep 0.5
for p in $old; do
	grep -q "\"event\":\"exit\",\"layer\":\"\",\"pid\":$p," "$T/events" ||
		fail "no exit event for $p"
done

# a drop: the tracepoint turns the layer inactive, nothing is listed
expect_write OK $SYSFS/layers/zlib-fix/state drop
expect_rc 0 "$PL" -j bpf status
expect_match "$out" '"name":"zlib-fix","synced":true,"active":false' "status after drop"
expect_rc 0 "$PL" usage --stale zlib-fix
expect_match "$out" "^zlib-fix \(loaded, enforcement off\): 0 patched, 0 stale" "usage after drop"

kill $events
expect_rc 0 "$PL" bpf unload
[ ! -e /sys/fs/bpf/patchlayer ] || fail "pins left: $(ls /sys/fs/bpf/patchlayer)"
expect_rc 0 "$PL" bpf unload
expect_match "$out" "not loaded" "unload twice"
kill $new
wait $new 2>/dev/null || true
expect_rc 0 "$PL" unprotect $LIBDIR
# nothing of the BPF side holds the module any more
expect_write OK $SYSFS/unload zlib-fix
modprobe -r patchlayer
