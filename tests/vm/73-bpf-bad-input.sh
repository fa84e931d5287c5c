# usage, enforce and bpf refuse bad input with clear messages: the module
# not loaded, unknown layers, bad arguments, BPF not permitted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bpflib.sh"

trap 'bpf_cleanup' EXIT
for cmd in "usage" "usage --stale" "enforce on zlib-fix" "bpf load" "bpf status" "bpf events"; do
	# shellcheck disable=SC2086
	expect_rc 3 "$PL" $cmd
	expect_match "$out" "module not loaded" "$cmd without the module"
	expect_match "$out" "hint: modprobe patchlayer" "$cmd without the module"
done
expect_rc 0 "$PL" bpf unload
expect_match "$out" "not loaded" "bpf unload, nothing loaded"

bpf_zlib_setup
for args in "usage nosuch" "usage ../zlib-fix" "usage --stale nosuch" "enforce on nosuch" \
	    "enforce off $(printf 'x%.0s' $(seq 80))"; do
	# shellcheck disable=SC2086
	expect_rc 1 "$PL" $args
	expect_match "$out" "layer '[^']*': not loaded \($SYSFS/layers/" "$args"
done
for args in "usage a b" "usage --bogus" "enforce" "enforce on" "enforce maybe zlib-fix" \
	    "enforce on zlib-fix extra" "bpf status extra" "bpf frob" "bpf load extra" "bpf events --count 0" \
	    "bpf events --count x" "bpf events extra"; do
	# shellcheck disable=SC2086
	expect_rc 2 "$PL" $args
done
expect_rc 1 "$PL" enforce on zlib-fix
expect_match "$out" "layer 'zlib-fix' is loaded, not active: enforcement applies to active layers" \
	"enforce on an inactive layer"

# without CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN nothing loads
expect_rc 0 "$PL" bpf unload	# "enforce" above loaded it
expect_rc 1 setpriv --bounding-set=-bpf,-perfmon,-sys_admin --inh-caps=-bpf,-perfmon,-sys_admin \
	"$PL" bpf load
expect_match "$out" "Operation not permitted" "bpf load without CAP_BPF"
expect_match "$out" "hint: BPF not permitted: run as root with CAP_BPF" "bpf load without CAP_BPF"
[ -e /sys/fs/bpf/patchlayer/scan ] && fail "pinned without the capabilities"
expect_rc 1 setpriv --bounding-set=-bpf,-perfmon,-sys_admin --inh-caps=-bpf,-perfmon,-sys_admin \
	"$PL" usage zlib-fix
expect_match "$out" "BPF not permitted" "usage without CAP_BPF"

# loaded by root: another user cannot use the pins
expect_rc 0 "$PL" bpf load
expect_rc 1 setpriv --reuid=65534 --regid=65534 --clear-groups "$PL" usage
expect_match "$out" "BPF side \(/sys/fs/bpf/patchlayer\): (Permission denied|Operation not permitted)" \
	"usage as nobody"
expect_match "$out" "hint: BPF not permitted" "usage as nobody"
expect_rc 0 "$PL" usage zlib-fix
expect_match "$out" "^zlib-fix \(loaded, enforcement off\): 0 patched, 0 stale" "usage by root"

# while the BPF side is loaded it holds the module; unloaded, it does not
rc=0; modprobe -r patchlayer 2> /dev/null || rc=$?
[ $rc != 0 ] || fail "the module unloaded under the BPF side"
expect_rc 0 "$PL" bpf unload
expect_write OK $SYSFS/unload zlib-fix
modprobe -r patchlayer
