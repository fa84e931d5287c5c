# patchlayer usage: 5 processes started before activation run the stale
# base, 5 started after run the patched library, exactly as a /proc/*/maps
# scan finds, for two layers at once from one scan; the BPF side streams
# what it sees; the daemon updates the maps from the module's events, only
# for the layer each names; loading twice is harmless and unloading
# removes every pin.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bpflib.sh"
. "$(dirname "$0")/daemonlib.sh"

trap 'kill $sleepers $events $st 2>/dev/null || true; daemon_stop; bpf_cleanup' EXIT
events= st=
bpf_zlib_setup
# a second layer: libcap replaced by a copy of itself
CAP=$LIBDIR/libcap.so.2.66
cp $CAP $T/libcap.so
build_layer "$T/cfix" vendor cap-fix 1 "$T/libcap.so=$CAP"
build_layer "$T/cfix2" vendor cap-fix2 2 "$T/libcap.so=$CAP"
expect_write OK $SYSFS/load "$T/cfix"
expect_rc 0 "$PL" protect $LIBDIR

# sleeper OUT: zlib_sleeper's, mapping libcap too; it sleeps longer than
# the test can last (1267 s once on the debug kernel under load; the trap
# kills it)
sleeper() {
	python3 -c 'import ctypes, zlib, time; ctypes.CDLL("libcap.so.2")
print(zlib.ZLIB_RUNTIME_VERSION, flush=True); time.sleep(3600)' > "$1" &
	sleepers="$sleepers $!"
	for _ in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.1; done
	fail "python3 did not start"
}

expect_rc 0 "$PL" bpf load
expect_match "$out" "^BPF side loaded, pinned under /sys/fs/bpf/patchlayer" "bpf load"
expect_rc 0 "$PL" bpf load
expect_match "$out" "already loaded" "bpf load twice"
for p in watched layers slots tasks events mmap_file mprotect exec exit signal state scan; do
	[ -e /sys/fs/bpf/patchlayer/$p ] || fail "pin $p missing"
done
expect_rc 0 "$PL" -j bpf status
expect_match "$out" '"loaded":true' "bpf status"

for i in 1 2 3 4 5; do sleeper "$T/old$i"; done
old=$sleepers
expect_write OK $SYSFS/layers/zlib-fix/state activate
expect_write OK $SYSFS/layers/cap-fix/state activate
"$PL" -j bpf events > "$T/events" 2> "$T/events.err" &
events=$!
for _ in $(seq 100); do grep -q listening "$T/events.err" && break; sleep 0.1; done
sleepers=
for i in 1 2 3 4 5; do sleeper "$T/new$i"; done
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

# every layer from one scan: for each process, layer and kind, what the
# per-process /proc answer says
all=$("$PL" -j usage | python3 -c '
import json, sys
for l in json.load(sys.stdin)["layers"]:
    for kind in ("patched", "stale"):
        for p in l.get(kind, []):
            print(p["pid"], l["name"], kind)' | sort -u)
procs_all=$(for l in zlib-fix cap-fix; do
	layer_inodes $l
	proc_scan "$file_id" "$base_id" | sed "s/ / $l /"
done | sort -u)
alive3() { while read -r pid l kind; do [ -d /proc/$pid ] && echo "$pid $l $kind"; done; }
diff <(alive3 <<< "$all") <(alive3 <<< "$procs_all") || fail "one scan and /proc/*/maps disagree"
for p in $old; do grep -qx "$p cap-fix stale" <<< "$all" || fail "old $p is not stale for cap-fix"; done
for p in $new; do grep -qx "$p cap-fix patched" <<< "$all" || fail "new $p is not patched for cap-fix"; done

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

# the daemon follows the module's events, each for the layer it names:
# the files of a layer loaded, no layer's files for an activation or a
# drop, never the whole of layers/ again
mkdir -p /var/lib/patchlayer && mount -t tmpfs -o mode=0755 tmpfs /var/lib/patchlayer
mkdir -m 0755 /var/lib/patchlayer/inbox
CONF=$T/patchlayer.conf
printf 'trust = %s\nprotect = %s\n' "$T/vendor.der" "$LIBDIR" > $CONF
daemon_start
strace -f -qq -e trace=openat -o $T/strace -p $daemon_pid &
st=$!
for _ in $(seq 100); do
	[ "$(awk '/^TracerPid/ { print $2 }' /proc/$daemon_pid/status)" != 0 ] && break
	sleep 0.1
done
# wait_open PATTERN N: the daemon opened a path matching PATTERN N times
wait_open() {
	for _ in $(seq 100); do
		[ "$(grep -c "$1" $T/strace)" -ge "$2" ] && return 0
		sleep 0.1
	done
	fail "the daemon did not open $1 ($2 times): $(cat $T/strace)"
}
expect_write OK $SYSFS/load "$T/cfix2"
wait_open "layers/cap-fix2/files" 1
expect_rc 0 "$PL" -j bpf status
expect_match "$out" '"name":"cap-fix2","synced":true,"active":false' "a layer loaded, synced by the daemon"
expect_write OK $SYSFS/layers/zlib-fix/state activate
wait_open "layers/zlib-fix/state" 1
expect_write OK $SYSFS/layers/zlib-fix/state drop
wait_open "layers/zlib-fix/state" 2
expect_write OK $SYSFS/unload cap-fix2
wait_open "layers/cap-fix2/state" 2
kill $st
wait $st 2>/dev/null || true
st=
grep '/files"' $T/strace | grep -v 'layers/cap-fix2/files' && fail "the daemon read other layers' files"
grep '/sys/kernel/patchlayer/layers", ' $T/strace && fail "the daemon read the whole of layers/"
daemon_stop

kill $events
expect_rc 0 "$PL" bpf unload
[ ! -e /sys/fs/bpf/patchlayer ] || fail "pins left: $(ls /sys/fs/bpf/patchlayer)"
expect_rc 0 "$PL" bpf unload
expect_match "$out" "not loaded" "unload twice"
kill $new
wait $new 2>/dev/null || true
expect_write OK $SYSFS/layers/cap-fix/state drop
expect_rc 0 "$PL" unprotect $LIBDIR
# nothing of the BPF side holds the module any more
expect_write OK $SYSFS/unload zlib-fix
expect_write OK $SYSFS/unload cap-fix
modprobe -r patchlayer
