# verify explains every fault with the kernel's errno; build refuses bad input
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

gen_key vendor
gen_key other
make_fixture
S=$(serial vendor)
h1=$(sha256 "$new1") s1=$(size "$new1") b1=$(sha256 "$root$T1")
h2=$(sha256 "$new2") s2=$(size "$new2") b2=$(sha256 "$root$T2")
build_layer "$work/good" > /dev/null
l=$work/l

# fresh: $l is a new copy of the good layer, and the base tree is intact
fresh() {
	rm -rf "$l"
	cp -a "$work/good" "$l"
	printf 'libdemo 1.2.13 as shipped\n' > "$root$T1"
	printf 'libother 2.0 as shipped\n' > "$root$T2"
}

# rejected N TOTAL [OPTION...]: verify exits 1 and counts N faults of TOTAL
rejected() {
	local n=$1 total=$2
	shift 2
	expect_rc 1 verify_layer "$@" "$l"
	expect_eq "$err" "patchlayer: $l: $n of $total checks failed" "verify stderr"
}

ok_sig="ok      signature (signer: CN=patchlayer test vendor, serial $S)"

# --- a flipped byte in a replacement: EBADMSG, and the rest still checked
fresh
printf 'X' | dd of="$l/files$T1" bs=1 seek=3 conv=notrunc status=none
rejected 1 6
expect_line "$out" "EBADMSG files$T1: sha256 mismatch (manifest $h1, file $(sha256 "$l/files$T1"))"
expect_line "$out" "$ok_sig"
expect_line "$out" "ok      base $T1 (sha256 $b1)"
expect_line "$out" "ok      files$T2 (sha256 $h2, $s2 bytes)"

# --- a replacement of another size: EBADMSG
fresh
echo more >> "$l/files$T2"
rejected 1 6
expect_line "$out" "EBADMSG files$T2: size mismatch (manifest $s2, file $((s2 + 5)) bytes)"

# --- an edited manifest: EKEYREJECTED, though it still parses
fresh
sed -i 's/^version: 1.0$/version: 1.1/' "$l/manifest"
rejected 1 6
expect_line "$out" "ok      manifest (demo 1.1, 2 files)"
expect_line "$out" "EKEYREJECTED signature: bad signature by issuer CN=patchlayer test vendor, serial $S: the manifest is not the one that was signed"

# --- another vendor's certificate: EKEYREJECTED, unknown signer
fresh
expect_rc 1 "$PL" verify --cert "$work/other.pem" --base-root "$root" "$l"
expect_line "$out" "EKEYREJECTED signature: unknown signer (issuer CN=patchlayer test vendor, serial $S): not one of the given certificates"
expect_eq "$(grep -c '^ok ' <<< "$out")" 5 "checks passed besides the signature"

# --- signed by the other key, checked against the vendor's: EKEYREJECTED
fresh
openssl cms -sign -binary -noattr -nocerts -md sha256 -outform DER -in "$l/manifest" \
	-signer "$work/other.pem" -inkey "$work/other.key" -out "$l/manifest.p7s"
rejected 1 6
expect_match "$out" "^EKEYREJECTED signature: unknown signer \(issuer CN=patchlayer test other, "

# --- signed by the other key with its certificate inside the signature:
# the kernel trusts its keyring, never a certificate the signature brings
fresh
openssl cms -sign -binary -noattr -md sha256 -outform DER -in "$l/manifest" \
	-signer "$work/other.pem" -inkey "$work/other.key" -out "$l/manifest.p7s"
rejected 1 6
expect_match "$out" "^EKEYREJECTED signature: unknown signer \(issuer CN=patchlayer test other, "

# --- no manifest.p7s: EKEYREJECTED
fresh
rm "$l/manifest.p7s"
rejected 1 6
expect_line "$out" "EKEYREJECTED signature: $l/manifest.p7s is missing: the layer is not signed"
expect_line "$out" "ok      manifest (demo 1.0, 2 files)"

# --- truncated DER, empty and garbage signatures: EKEYREJECTED
for how in truncated empty garbage; do
	fresh
	case $how in
	truncated) head -c 200 "$work/good/manifest.p7s" > "$l/manifest.p7s" ;;
	empty) : > "$l/manifest.p7s" ;;
	garbage) head -c 300 /dev/urandom | sed 's/^/x/' > "$l/manifest.p7s" ;;
	esac
	rejected 1 6
	expect_match "$out" \
		"^EKEYREJECTED signature: manifest.p7s is not a DER CMS/PKCS#7 signature \(.+\)$" \
		"$how signature"
done

# --- a signature that embeds the manifest instead of being detached: EKEYREJECTED
fresh
openssl cms -sign -binary -noattr -nocerts -nodetach -md sha256 -outform DER \
	-in "$l/manifest" -signer "$work/vendor.pem" -inkey "$work/vendor.key" \
	-out "$l/manifest.p7s"
rejected 1 6
expect_line "$out" "EKEYREJECTED signature: manifest.p7s embeds its content; the signature must be detached"

# --- a changed base: ESTALE
fresh
printf 'libdemo 1.2.14\n' > "$root$T1"
rejected 1 6
expect_line "$out" "ESTALE  base $T1: sha256 mismatch (manifest $b1, $root$T1 $(sha256 "$root$T1")): the layer was built against another version"
expect_line "$out" "ok      files$T1 (sha256 $h1, $s1 bytes)"

# --- a missing base: ENOENT; a base that is a symlink: EINVAL (the kernel
# does not follow it)
fresh
rm "$root$T2"
mv "$root$T1" "$root$T1.real"
ln -s libdemo.so.1.real "$root$T1"
rejected 2 6
expect_line "$out" "ENOENT  base $T2: $root$T2 is missing: nothing to patch"
expect_line "$out" "EINVAL  base $T1: $root$T1 is a symlink, not a regular file"
rm "$root$T1"
mv "$root$T1.real" "$root$T1"

# --- a missing replacement: ENOENT
fresh
rm "$l/files$T2"
rejected 1 6
expect_line "$out" "ENOENT  files$T2: $l/files$T2 is missing"
expect_line "$out" "ok      base $T2 (sha256 $b2)"

# --- a replacement that is a symlink, even to the right bytes: ELOOP;
# a directory: EINVAL
fresh
mv "$l/files$T1" "$work/real-copy"
ln -s "$work/real-copy" "$l/files$T1"
rm "$l/files$T2"
mkdir "$l/files$T2"
rejected 2 6
expect_line "$out" "ELOOP   files$T1: is a symlink (none may be beneath a layer directory)"
expect_line "$out" "EINVAL  files$T2: is a directory, not a regular file"

# --- a 70 KiB manifest: EFBIG, and no signature check without a manifest
fresh
head -c $((70 * 1024)) /dev/zero | tr '\0' 'a' > "$l/manifest"
rejected 1 2
expect_eq "$out" "EFBIG   manifest: 71680 bytes; a manifest is at most 64 KiB
skip    signature: not checked: there is no manifest to check it against" "EFBIG output"

# --- a malformed manifest: EINVAL with the line and the parser's reason;
# the signature over those bytes fails too
fresh
m=$work/good/manifest
{ sed -n 1,3p "$m"; sed -n 5p "$m"; sed -n 4p "$m"; } > "$l/manifest"
rejected 2 2
expect_eq "$out" "EINVAL  manifest: line 5: file records not sorted by target
EKEYREJECTED signature: bad signature by issuer CN=patchlayer test vendor, serial $S: the manifest is not the one that was signed" \
	"malformed manifest output"
fresh
sed -i 's/^format: .*/format: patchlayer\/2/' "$l/manifest"
rejected 2 2
expect_line "$out" "EINVAL  manifest: line 1: unsupported format (expected patchlayer/1)"

# --- no manifest: ENOENT; no layer at all
fresh
rm "$l/manifest"
rejected 1 2
expect_line "$out" "ENOENT  manifest: $l/manifest is missing"
rm -rf "$l"
rejected 2 2
expect_line "$out" "ENOENT  manifest: $l/manifest is missing"
expect_line "$out" "EKEYREJECTED signature: $l/manifest.p7s is missing: the layer is not signed"

# --- two faults in one layer: both reported, in text and in JSON
fresh
printf 'X' | dd of="$l/files$T1" bs=1 seek=0 conv=notrunc status=none
printf 'libother 2.1\n' > "$root$T2"
rejected 2 6
expect_line "$out" "EBADMSG files$T1: sha256 mismatch (manifest $h1, file $(sha256 "$l/files$T1"))"
expect_line "$out" "ESTALE  base $T2: sha256 mismatch (manifest $b2, $root$T2 $(sha256 "$root$T2")): the layer was built against another version"
expect_eq "$(grep -c '^ok ' <<< "$out")" 4 "passed checks"
export T1 T2 l
expect_rc 1 "$PL" -j verify --cert "$work/vendor.pem" --base-root "$root" "$l"
json_check "$out" '
assert d["layer"] == E["l"] and d["name"] == "demo" and d["ok"] is False
bad = [(c["check"], c["target"], c["errno"]) for c in d["checks"] if not c["ok"]]
assert bad == [("base", E["T2"], "ESTALE"), ("file", E["T1"], "EBADMSG")], bad
assert all(c["errno"] is None for c in d["checks"] if c["ok"])
'
fresh
rm "$l/manifest"
expect_rc 1 "$PL" -j verify --cert "$work/vendor.pem" --base-root "$root" "$l"
json_check "$out" '
assert d["name"] is None and d["version"] is None and d["ok"] is False
assert d["checks"][0]["errno"] == "ENOENT" and d["checks"][0]["check"] == "manifest"
'

# --- verify's own usage errors
expect_rc 2 "$PL" verify
expect_line "$err" "patchlayer: verify: expected one layer directory"
expect_rc 2 "$PL" verify --bogus "$l"
expect_line "$err" "patchlayer: verify: unknown option '--bogus'"
expect_rc 2 "$PL" verify --no-base --base-root "$root" "$l"
expect_rc 1 "$PL" verify --cert "$work/nonexistent.pem" "$l"
expect_eq "$err" "patchlayer: $work/nonexistent.pem: No such file or directory" "missing --cert"
expect_rc 1 "$PL" verify --cert "$work/vendor.key" "$l"
expect_eq "$err" "patchlayer: $work/vendor.key: no X.509 certificate in it (PEM or DER)" \
	"--cert that is a key"

# --- build refuses bad arguments (exit 2) before writing anything
out_dir=$work/new-layer
build() { "$PL" build --name demo --version 1.0 --key "$work/vendor.key" \
	--cert "$work/vendor.pem" --base-root "$root" -o "$out_dir" "$@"; }
expect_rc 2 build "$new1=/etc/libdemo.so.1"
expect_eq "$err" "patchlayer: build: '$new1=/etc/libdemo.so.1': target '/etc/libdemo.so.1' is not a file below a library directory (/lib, /lib32, /lib64, /libx32, /usr/lib, /usr/lib32, /usr/lib64, /usr/libx32, /usr/local/lib)" \
	"target outside the library directories"
expect_nothing_written "$out_dir"
expect_rc 2 build "$new1=/usr/lib/../../etc/passwd"
expect_eq "$err" "patchlayer: build: '$new1=/usr/lib/../../etc/passwd': target '/usr/lib/../../etc/passwd' is not canonical (empty, '.' or '..' components, or a trailing '/')" \
	"target with .."
expect_nothing_written "$out_dir"
expect_rc 2 build "$new1=usr/lib/libdemo.so.1"
expect_eq "$err" "patchlayer: build: '$new1=usr/lib/libdemo.so.1': target 'usr/lib/libdemo.so.1' is not an absolute path" \
	"relative target"
expect_nothing_written "$out_dir"
# the good file is given first: nothing is written before every argument is checked
expect_rc 2 build "$new2=$T2" "$new1=/usr/lib"
expect_match "$err" "target '/usr/lib' is not a file below a library directory"
expect_nothing_written "$out_dir"
expect_rc 2 build "$new1=$T1" "$new2=$T1"
expect_eq "$err" "patchlayer: build: target '$T1' given twice ('$new1=$T1' and '$new2=$T1')" \
	"duplicate target"
expect_rc 2 build "$new1"
expect_eq "$err" "patchlayer: build: '$new1': expected FILE=TARGET" "missing ="
expect_rc 2 "$PL" build --name 'bad name' --version 1 --key "$work/vendor.key" \
	--cert "$work/vendor.pem" -o "$out_dir"
expect_eq "$err" "patchlayer: build: --name 'bad name': a layer name is 1-64 of [A-Za-z0-9._-], a letter or digit first, not ending in '.state'" \
	"bad name"
expect_rc 2 "$PL" build --name demo --version "$(printf '1\nfile: x')" \
	--key "$work/vendor.key" --cert "$work/vendor.pem" -o "$out_dir"
expect_eq "$err" "patchlayer: build: --version: version must not contain control characters"
expect_rc 2 "$PL" build --name demo --replaces demo --version 1 \
	--key "$work/vendor.key" --cert "$work/vendor.pem" -o "$out_dir"
expect_eq "$err" "patchlayer: build: --replaces 'demo': a layer cannot replace itself"
expect_rc 2 "$PL" build --name demo --version 1 --key "$work/vendor.key" -o "$out_dir"
expect_line "$err" "patchlayer: build: --cert is required"
expect_nothing_written "$out_dir"

# --- build refuses an existing non-empty -o, and leaves it alone (exit 1)
expect_rc 1 build_layer "$work/good"
expect_eq "$err" "patchlayer: $work/good: Directory not empty (refusing to write a layer over it)" \
	"existing layer"
expect_rc 0 verify_layer "$work/good"
touch "$work/a-file"
expect_rc 1 build_layer "$work/a-file"
expect_eq "$err" "patchlayer: $work/a-file: File exists (and is a regular file)"

# --- failures of the world (exit 1) leave nothing half-built behind
expect_rc 1 build "$work/missing.so=$T1"
expect_eq "$err" "patchlayer: $work/missing.so: No such file or directory" "missing FILE"
expect_nothing_written "$out_dir"
expect_rc 1 build "$new1=/usr/lib/x86_64-linux-gnu/libnone.so.1"
expect_eq "$err" "patchlayer: $root/usr/lib/x86_64-linux-gnu/libnone.so.1: No such file or directory (the base of /usr/lib/x86_64-linux-gnu/libnone.so.1)" \
	"missing base"
expect_nothing_written "$out_dir"
: > "$work/empty.so"
expect_rc 1 build "$work/empty.so=$T1"
expect_eq "$err" "patchlayer: $work/empty.so: empty; a replacement library is never empty"
expect_nothing_written "$out_dir"
expect_rc 1 "$PL" build --name demo --version 1 --key "$work/other.key" \
	--cert "$work/vendor.pem" -o "$out_dir" "$new1=$T1"
expect_eq "$err" "patchlayer: $work/vendor.pem: the key $work/other.key does not belong to this certificate"
expect_nothing_written "$out_dir"
ln -s libdemo.so.1 "$root/usr/lib/x86_64-linux-gnu/libdemo.so"
expect_rc 1 build "$new1=/usr/lib/x86_64-linux-gnu/libdemo.so"
expect_eq "$err" "patchlayer: $root/usr/lib/x86_64-linux-gnu/libdemo.so: the base of /usr/lib/x86_64-linux-gnu/libdemo.so is a symlink (to 'libdemo.so.1'); name the file itself as the target"
expect_nothing_written "$out_dir"
# a failure after the layer was half written (the manifest would exceed
# 64 KiB): the temporary directory goes too
deep=/usr/lib$(for c in a b c d; do printf '/%0240d' 0 | tr 0 "$c"; done)
mkdir -p "$root$deep"
args=()
for i in $(seq 10 69); do
	echo "base $i" > "$root$deep/lib$i.so"
	args+=("$new1=$deep/lib$i.so")
done
expect_rc 1 build "${args[@]}"
expect_match "$err" "^patchlayer: build: the manifest would be [0-9]+ bytes, more than 64 KiB: fewer files\$"
expect_nothing_written "$out_dir"
echo "ok"
