# The task_vma iterator lists every process's executable file mappings by
# inode, exactly as a scan of /proc/PID/maps and the mapped files
# (exec-maps.py) does.
. "$(dirname "$0")/lib.sh"

pin=/sys/fs/bpf/pl-test-maps-iter
rm -f $pin
bpftool iter pin "$BPF_OBJ_DIR/maps_iter.bpf.o" $pin
trap 'rm -f $pin; kill $sleepers 2>/dev/null || true' EXIT
sleepers=
for i in 1 2 3; do
	sleep 600 &
	sleepers="$sleepers $!"
done
python3 -c 'import time; time.sleep(600)' &
sleepers="$sleepers $!"
sleep 0.5

# both sides as sorted "pid inode" lines, processes alive in both scans:
# the iterator names the device of the 9p file under the VM's overlayfs
# root, stat the overlay's (exec-maps.py)
bpf_side=$(awk '{ print $1, $3 }' $pin | sort -u)
proc_side=$(python3 exec-maps.py | awk '{ print $1, $3 }' | sort -u)
pids=$(comm -12 <(cut -d' ' -f1 <<< "$bpf_side" | sort -u) <(cut -d' ' -f1 <<< "$proc_side" | sort -u))
filter() { grep -E "^($(tr '\n' '|' <<< "$pids" | sed 's/|$//')) "; }
diff <(filter <<< "$bpf_side") <(filter <<< "$proc_side") || fail "the iterator and /proc disagree"
for p in $sleepers; do
	grep -q "^$p " <<< "$bpf_side" || fail "process $p missing from the iterator's output"
done
echo "$(wc -l <<< "$bpf_side") mappings of $(wc -l <<< "$pids") processes agree"
