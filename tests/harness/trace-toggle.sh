# enabling and disabling trace events does not patch the scheduler live
. "$(dirname "$0")/lib.sh"

# With comm recording on (the kernel's default), the first enabled trace
# event hooks sched_switch: a live patch of __schedule, whose temporary
# int3 QEMU's multi-threaded TCG sometimes runs after it is gone ("Oops:
# int3" in __schedule, seen in CI on 6.12). scripts/vm boots with
# trace_options=norecord-cmd; the toggles below are the tests' own, many
# times over, while both CPUs switch tasks.
script=$(guest_script toggle.sh '
T=/sys/kernel/tracing
echo "record-cmd $(cat $T/options/record-cmd)"
modprobe patchlayer || exit 1
for c in 1 2; do ( while :; do sleep 0.001; done ) & done
for i in $(seq 100); do
	echo 1 > $T/events/patchlayer/enable && echo 0 > $T/events/patchlayer/enable || exit 1
done
echo "toggles: $i"')
rc=0
scripts/vm --kver "$kver" --timeout 600 "$script" > "$work/out" 2>&1 || rc=$?
cat "$work/out"
[ "$rc" = 0 ] || fail "scripts/vm exited $rc"
grep -q '^record-cmd 0' "$work/out" || fail "the guest records comms: enabling an event patches __schedule"
grep -q '^toggles: 100' "$work/out" || fail "the toggles did not all run"
