# The task_vma iterator lists every process's executable file mappings by
# device and inode, exactly as a /proc/PID/maps scan does.
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

# both sides as sorted "pid dev inode" lines, processes alive in both scans
bpf_side=$(awk '{ print $1, $2, $3 }' $pin | sort -u)
proc_side=$(for m in /proc/[0-9]*/maps; do
	pid=${m#/proc/}; pid=${pid%/maps}
	awk -v pid="$pid" '$2 ~ /x/ && $5 != 0 { print pid, $4, $5 }' "$m" 2>/dev/null
done | sort -u)
pids=$(comm -12 <(cut -d' ' -f1 <<< "$bpf_side" | sort -u) <(cut -d' ' -f1 <<< "$proc_side" | sort -u))
filter() { grep -E "^($(tr '\n' '|' <<< "$pids" | sed 's/|$//')) "; }
diff <(filter <<< "$bpf_side") <(filter <<< "$proc_side") || fail "iterator and /proc/*/maps disagree"
for p in $sleepers; do
	grep -q "^$p " <<< "$bpf_side" || fail "process $p missing from the iterator's output"
done
echo "$(wc -l <<< "$bpf_side") mappings of $(wc -l <<< "$pids") processes agree"
