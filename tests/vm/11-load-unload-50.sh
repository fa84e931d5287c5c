# Loading and unloading 50 times in a row leaves nothing behind and keeps
# the kernel log clean (run-all checks dmesg) and memory flat.
. "$(dirname "$0")/lib.sh"

modprobe patchlayer && modprobe -r patchlayer	# warm caches first
before=$(slab_kb)
for i in $(seq 50); do
	modprobe patchlayer || fail "load $i"
	[ -r $SYSFS/version ] || fail "no sysfs after load $i"
	modprobe -r patchlayer || fail "unload $i"
	[ ! -e $SYSFS ] || fail "sysfs left after unload $i"
done
after=$(slab_kb)
# a leak of even one small object per cycle across sysfs, genl and trace
# would show; allow slack for unrelated kernel activity
slab_check "$before" "$after" 2048 "50 load/unload cycles"
