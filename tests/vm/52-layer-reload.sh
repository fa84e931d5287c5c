# Loading, unloading and reloading a 20-file layer 200 times keeps the
# kernel log clean (run-all checks it) and memory flat.
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d /var/tmp/pl-test.XXXXXX)
make_key "$T" vendor
args=()
while read -r lib; do
	cp "$lib" "$T/${lib##*/}"
	args+=("$T/${lib##*/}=$lib")
done < <(find /usr/lib/x86_64-linux-gnu -maxdepth 1 -type f -name 'lib*.so.*' -size -100k | sort | head -n 20)
[ ${#args[@]} = 20 ] || fail "found only ${#args[@]} small libraries"
build_layer "$T/twenty" vendor twenty "1" "${args[@]}"

modprobe patchlayer
expect_write OK $SYSFS/trust --bytes-from "$T/vendor.der"
expect_write OK $SYSFS/load "$T/twenty"
expect_eq "$(wc -l < $SYSFS/layers/twenty/files)" 20 "files lines"
echo twenty > $SYSFS/unload

settle
before=$(slab_kb)
for i in $(seq 200); do
	echo "$T/twenty" > $SYSFS/load || fail "load $i"
	echo twenty > $SYSFS/unload || fail "unload $i"
done
settle
after=$(slab_kb)
slab_check "$before" "$after" 1024 "200 cycles"
for a in "${args[@]}"; do writable "${a%%=*}"; done
