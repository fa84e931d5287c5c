# Allocation failures injected at every fault point, one at a time, of
# trust, load, unload, mount, umount, activate, drop and a lookup through
# the mount (tests/vm/fault-nth.py): each succeeds or fails with a clean
# errno, the state is what the outcome says, the operation then works
# without faults, and the module unloads at the end (no reference leaked).
# Needs CONFIG_FAULT_INJECTION and CONFIG_FAILSLAB, which Debian's kernel
# lacks: there the test is skipped (make check-debug runs it).
. "$(dirname "$0")/lib.sh"

if [ ! -e /proc/self/fail-nth ] || [ ! -d /sys/kernel/debug/failslab ]; then
	echo "SKIP: this kernel has no fault injection (CONFIG_FAULT_INJECTION, CONFIG_FAILSLAB)"
	exit 77
fi
# every slab allocation counts, sleeping ones too, and quietly: no stack
# dumps for the failures we ask for. Page allocations that may sleep stay
# out (fail_page_alloc's default): their failures log a warning with a
# call trace, which would fail the run.
FS=/sys/kernel/debug/failslab
echo N > $FS/ignore-gfp-wait
echo 0 > $FS/verbose
echo 0 > /sys/kernel/debug/fail_page_alloc/verbose

T=$(mktemp -d /var/tmp/pl-test.XXXXXX)
S=/usr/lib/pl-fault
make_libdir $S
make_key "$T" vendor
patched_zlib "$T/libz.so"
build_layer "$T/zfix" vendor zfix "1" "$T/libz.so=$S/libdemo.so.1.0"
patched=$(sha256sum < "$T/libz.so" | cut -d' ' -f1)

modprobe patchlayer
expect_write OK $SYSFS/trust --bytes-from "$T/vendor.der"
python3 "$(dirname "$0")/fault-nth.py" "$T" $S "$T/zfix" zfix "$S/libdemo.so.1.0" \
	"$patched" "$T/vendor.der"
# fault-nth.py leaves the layer active over the mount
expect_write OK $SYSFS/layers/zfix/state drop
expect_write OK $SYSFS/unload zfix
umount $S
no_layers
modprobe -r patchlayer || fail "the module does not unload: a reference leaked"
writable "$T/zfix/files$S/libdemo.so.1.0"
echo Y > $FS/ignore-gfp-wait
echo 1 > $FS/verbose
