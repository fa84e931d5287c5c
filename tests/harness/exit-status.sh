# scripts/vm returns the guest script's own exit status
. "$(dirname "$0")/lib.sh"

script=$(guest_script exit7.sh 'modprobe patchlayer; echo "args: $*"; exit 7')
rc=0
scripts/vm --kver "$kver" --timeout 300 "$script" one two > "$work/out" 2>&1 || rc=$?
cat "$work/out"
[ "$rc" = 7 ] || fail "scripts/vm exited $rc, expected the script's 7"
grep -q '^args: one two' "$work/out" || fail "arguments not passed to the script"
