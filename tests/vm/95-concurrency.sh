# 8 workers doing load, unload, activate, drop, protect, unprotect, stat
# and exec in random order on 4 layers (two of them on the same library,
# one cumulative) for PL_CONCURRENCY_SECONDS (60 here, 300 in make
# check-debug). Every outcome is one the ABI allows, every run of the
# program sees no layer or whole layers, the kernel log stays clean, and
# the final state is explainable: at most one active layer per library,
# then everything drops, unloads and unmounts, and the module unloads.
. "$(dirname "$0")/lib.sh"

S=/usr/lib/pl-conc
T=/var/lib/pl-conc
mkdir -p $T && mount -t tmpfs tmpfs $T
bash "$(dirname "$0")/data/two-libs.sh" $S 1
for v in 2 3 4; do
	bash "$(dirname "$0")/data/two-libs.sh" $S $v $T/v$v
done
make_key $T vendor
build_layer $T/pa-fix vendor pa-fix 2 "$T/v2/libpa.so.1=$S/libpa.so.1"
build_layer $T/pb-fix vendor pb-fix 2 "$T/v2/libpb.so.1=$S/libpb.so.1"
"$PL" build --name both-fix --version 3 --replaces pa-fix --key $T/vendor.key \
	--cert $T/vendor.pem -o $T/both-fix \
	"$T/v3/libpa.so.1=$S/libpa.so.1" "$T/v3/libpb.so.1=$S/libpb.so.1" > /dev/null
build_layer $T/pa-alt vendor pa-alt 4 "$T/v4/libpa.so.1=$S/libpa.so.1"

modprobe patchlayer
expect_write OK $SYSFS/trust --bytes-from $T/vendor.der
python3 "$(dirname "$0")/concurrency.py" "${PL_CONCURRENCY_SECONDS:-60}" $S $T

# the final state: only documented states, at most one active layer per file
active_targets=
for l in $(ls $SYSFS/layers); do
	st=$(layer_state "$l")
	echo "  $l: $st"
	case "$st" in
	loaded) ;;
	active) active_targets+=$(cut -d' ' -f1 "$SYSFS/layers/$l/files")$'\n' ;;
	*) fail "layer $l is $st: nothing here makes a layer stale or superseded" ;;
	esac
done
# (no layer may be active at the end: grep finds nothing, which is fine)
dups=$(sort <<< "$active_targets" | { grep . || true; } | uniq -d)
[ -z "$dups" ] || fail "two active layers redirect $dups"
# and everything can be undone
for l in $(ls $SYSFS/layers); do
	expect_write OK "$SYSFS/layers/$l/state" drop
	expect_write OK $SYSFS/unload "$l"
done
no_layers
while findmnt -n -t patchlayer $S > /dev/null; do
	umount $S || fail "cannot unmount $S"
done
[ -z "$(cat $SYSFS/mounts)" ] || fail "mounts left: $(cat $SYSFS/mounts)"
expect_eq "$($S/pl-two)" "pa=1 pb=1" "the base after it all"
for l in pa-fix pb-fix both-fix pa-alt; do
	for f in $(find $T/$l/files -type f); do writable "$f"; done
done
modprobe -r patchlayer || fail "the module does not unload: a reference leaked"
# the last files of the store are released by deferred fputs
for _ in $(seq 100); do
	umount $T 2> /dev/null && break
	sleep 0.1
done
! mountpoint -q $T || fail "the store $T stays busy: $(grep -l "$T" /proc/[0-9]*/maps 2>/dev/null | head -3)"
