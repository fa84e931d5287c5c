# a hung guest is killed after the time limit and reported as a failure
. "$(dirname "$0")/lib.sh"

script=$(guest_script hang.sh 'echo hanging; sleep 3600')
rc=0
start=$(date +%s)
scripts/vm --kver "$kver" --timeout 40 "$script" > "$work/out" 2>&1 || rc=$?
elapsed=$(( $(date +%s) - start ))
cat "$work/out"
[ "$rc" = 124 ] || fail "scripts/vm exited $rc for a hung guest, expected 124"
grep -q 'timeout' "$work/out" || fail "the timeout is not reported"
[ "$elapsed" -lt 120 ] || fail "the hung guest ran ${elapsed}s despite --timeout 40"
