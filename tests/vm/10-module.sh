# modprobe, sysfs, lsmod, modinfo, tracepoint and netlink family; modprobe -r
# removes every trace of it.
. "$(dirname "$0")/lib.sh"

ko=$(modinfo -n patchlayer)
expect_eq "$ko" "/lib/modules/$(uname -r)/extra/patchlayer.ko" "modinfo -n"
expect_eq "$(modinfo -F license patchlayer)" GPL "license"
expect_match "$(modinfo -F description patchlayer)" "patch layer" "description"
version=$(modinfo -F version patchlayer)
expect_match "$version" '^[0-9]+\.[0-9]+\.[0-9]+$' "version"

modprobe patchlayer
expect_eq "$(cat $SYSFS/version)" "$version" "$SYSFS/version"
lsmod | grep -q '^patchlayer ' || fail "lsmod does not list patchlayer"
[ -d $TRACEFS/events/patchlayer/patchlayer_request ] || fail "no tracepoint under events/patchlayer"
expect_rc 0 "$PL" status

modprobe -r patchlayer
lsmod | grep -q '^patchlayer ' && fail "lsmod still lists patchlayer"
[ ! -e $SYSFS ] || fail "$SYSFS left behind"
[ ! -e $TRACEFS/events/patchlayer ] || fail "tracepoints left behind"
[ ! -e /sys/module/patchlayer ] || fail "/sys/module/patchlayer left behind"
expect_rc 3 "$PL" status
