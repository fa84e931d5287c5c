# The patchlayer_request tracepoint records each netlink request with its
# caller and result.
. "$(dirname "$0")/lib.sh"

modprobe patchlayer
ev=$TRACEFS/events/patchlayer/patchlayer_request
grep -q 'field:__data_loc char\[\] op' $ev/format || fail "op field missing from $ev/format"
echo > $TRACEFS/trace
echo 1 > $ev/enable
"$PL" status > /dev/null
echo 0 > $ev/enable
trace=$(grep patchlayer_request $TRACEFS/trace || true)
echo "$trace"
expect_match "$trace" "op=get_info arg= err=0 pid=[0-9]+ uid=0 comm=patchlayer" "trace"
