# trust_locked=1 closes the keyring until reboot: no more certificates,
# no reopening, no turning trust_system_keyrings on (or off), and the
# module pins itself so a reload cannot reopen it.
# (Numbered last: the module stays loaded until the VM powers off.)
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d /var/tmp/pl-test.XXXXXX)
make_key "$T" vendor
make_key "$T" late
patched_zlib "$T/libz.so"
build_layer "$T/zfix" vendor zlib-fix "1" "$T/libz.so=$ZLIB"
build_layer "$T/zlate" late zlib-late "1" "$T/libz.so=$ZLIB"

modprobe patchlayer
P=/sys/module/patchlayer/parameters/trust_system_keyrings
expect_write OK $SYSFS/trust --bytes-from "$T/vendor.der"
expect_write OK $P 1	# chosen before the lock...
expect_write OK $P 0
expect_write OK $SYSFS/trust_locked 0	# not locked: a no-op
# only "1" locks: what kstrtobool() would also take as yes is refused
for word in y yes Y true t on 11 1x " 1" 0x1; do
	expect_write EINVAL $SYSFS/trust_locked "$word"
	expect_eq "$(cat $SYSFS/trust_locked)" 0 "trust_locked after writing '$word'"
done
expect_write OK $SYSFS/trust_locked 0$'\n'
expect_write OK $SYSFS/trust_locked 1
expect_eq "$(cat $SYSFS/trust_locked)" 1 "trust_locked"
expect_write EPERM $SYSFS/trust --bytes-from "$T/late.der"
expect_write EPERM $SYSFS/trust_locked 0
# ...and fixed by it: the kernel's own keys cannot be let in afterwards
expect_write EPERM $P 1
expect_write EPERM $P 0
expect_eq "$(cat $P)" N "trust_system_keyrings after the lock"
dmesg | grep -q "trust keyring closed until reboot; the kernel's own keys do not sign layers" ||
	fail "the lock does not say what it closed"
expect_write OK $SYSFS/trust_locked 1
# keys trusted before the lock still verify; the late one never will
expect_write OK $SYSFS/load "$T/zfix"
expect_write EKEYREJECTED $SYSFS/load "$T/zlate"
expect_write OK $SYSFS/unload zlib-fix
expect_rc 1 modprobe -r patchlayer
expect_match "$out" "in use" "modprobe -r while locked"
[ -d $SYSFS ] || fail "the module went away"
