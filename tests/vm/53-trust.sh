# The trust file takes exactly one DER certificate; only CAP_SYS_ADMIN may
# write any control file; require_signature=0 accepts unsigned layers;
# the kernel's own keyrings count only with trust_system_keyrings.
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d /var/tmp/pl-test.XXXXXX)
make_key "$T" vendor
patched_zlib "$T/libz.so"
build_layer "$T/zfix" vendor zlib-fix "1" "$T/libz.so=$ZLIB"
rm "$T/zfix/manifest.p7s"

expect_eq "$(modinfo -F parm patchlayer | grep -c '^require_signature:')" 1 "require_signature parameter"
expect_eq "$(modinfo -F parm patchlayer | grep -c '^trust_system_keyrings:')" 1 "trust_system_keyrings parameter"
modprobe patchlayer
expect_eq "$(cat /sys/module/patchlayer/parameters/require_signature)" Y "require_signature default"
expect_write EKEYREJECTED $SYSFS/load "$T/zfix"

# not certificates
head -c 600 /dev/urandom > "$T/random.der"
expect_write EINVAL $SYSFS/trust --bytes-from "$T/random.der"
expect_write EINVAL $SYSFS/trust --bytes-from "$T/vendor.pem"	# PEM, not DER
head -c 200 "$T/vendor.der" > "$T/short.der"
expect_write EINVAL $SYSFS/trust --bytes-from "$T/short.der"
expect_write EINVAL $SYSFS/trust $'\n'	# one byte, not a certificate
expect_write EINVAL $SYSFS/trust_locked "maybe"

# permissions: root-only files, and root without CAP_SYS_ADMIN is refused
for f in load unload trust; do
	expect_eq "$(stat -c '%a %U' $SYSFS/$f)" "200 root" "mode of $f"
done
expect_eq "$(stat -c '%a %U' $SYSFS/trust_locked)" "644 root" "mode of trust_locked"
expect_eq "$(stat -c '%a' $SYSFS/version)" "444" "mode of version"
nocap() { setpriv --bounding-set=-sys_admin "$@"; }
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
W=$PLVM_ROOT/tests/vm/sysfs-write.py
for f in load unload trust trust_locked; do
	expect_eq "$(nocap python3 $W $SYSFS/$f "$T/zfix")" EPERM "$f without CAP_SYS_ADMIN"
	expect_eq "$(nobody python3 $W $SYSFS/$f "$T/zfix")" EACCES "$f as nobody"
done
expect_eq "$(nobody cat $SYSFS/trust_locked)" 0 "trust_locked read by anyone"
# the kernel's own keyrings sign layers only when the administrator says so
P=/sys/module/patchlayer/parameters/trust_system_keyrings
expect_eq "$(stat -c '%a %U' $P)" "644 root" "mode of trust_system_keyrings"
expect_eq "$(cat $P)" N "trust_system_keyrings default"
expect_eq "$(nocap python3 $W $P 1)" EPERM "trust_system_keyrings without CAP_SYS_ADMIN"
expect_eq "$(nobody python3 $W $P 1)" EACCES "trust_system_keyrings as nobody"
expect_eq "$(cat $P)" N "trust_system_keyrings after refused writes"
expect_write OK $P 1
expect_eq "$(cat $P)" Y "trust_system_keyrings set"
expect_write OK $P 0
expect_write EINVAL $P maybe
modprobe -r patchlayer
modprobe patchlayer trust_system_keyrings=1
expect_eq "$(cat $P)" Y "trust_system_keyrings=1 at modprobe"
modprobe -r patchlayer

# unsigned layers, when the administrator chose so at load time
modprobe patchlayer require_signature=0
expect_eq "$(cat /sys/module/patchlayer/parameters/require_signature)" N "require_signature=0"
expect_write OK $SYSFS/load "$T/zfix"
expect_write OK $SYSFS/unload zlib-fix
# a present signature is still checked
cp "$T/zfix/manifest" "$T/sig"
head -c 500 /dev/urandom > "$T/zfix/manifest.p7s"
expect_write EKEYREJECTED $SYSFS/load "$T/zfix"
dmesg | grep -q 'patchlayer: version .* loaded, signatures NOT required' || fail "no warning that signatures are off"
modprobe -r patchlayer

# Trust only grows: a trusted key is never displaced or shadowed. The same
# certificate again is fine; another key under the same description
# (subject and key identifier), or under the key identifier a signature
# names its signer by, is refused, and the layer still verifies.
build_layer "$T/zfix2" vendor zlib-fix "1" "$T/libz.so=$ZLIB"
skid=$(openssl x509 -in "$T/vendor.pem" -noout -ext subjectKeyIdentifier | sed -n '2s/ //gp')
[ -n "$skid" ] || fail "no subject key identifier in $T/vendor.pem"
impostor() {	# NAME SUBJECT: a new key that claims the vendor's key identifier
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/$1.key" -out "$T/$1.pem" \
		-subj "$2" -days 30 -addext "subjectKeyIdentifier=$skid" 2>/dev/null
	openssl x509 -in "$T/$1.pem" -outform DER -out "$T/$1.der"
}
impostor same-name "/CN=patchlayer test vendor"
impostor other-name "/CN=impostor"
make_key "$T" other
modprobe patchlayer
expect_write OK $SYSFS/trust --bytes-from "$T/vendor.der"
expect_write OK $SYSFS/trust --bytes-from "$T/vendor.der"
expect_write EEXIST $SYSFS/trust --bytes-from "$T/same-name.der"
expect_write EEXIST $SYSFS/trust --bytes-from "$T/other-name.der"
expect_write OK $SYSFS/trust --bytes-from "$T/other.der"	# a key of its own
# the keyring's own line counts its keys (scratch copies linger until GC)
expect_match "$(grep ' keyring *\.patchlayer: ' /proc/keys)" '\.patchlayer: 2$' "the .patchlayer keyring"
expect_write OK $SYSFS/load "$T/zfix2"
expect_write OK $SYSFS/unload zlib-fix
