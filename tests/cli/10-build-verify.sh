# build makes exact, signed layers that verify and openssl accept
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

gen_key vendor
make_fixture
S=$(serial vendor)
h1=$(sha256 "$new1") s1=$(size "$new1") b1=$(sha256 "$root$T1")
h2=$(sha256 "$new2") s2=$(size "$new2") b2=$(sha256 "$root$T2")
layer=$work/layer

# --- build: the layer, byte for byte
expect_rc 0 build_layer "$layer"
expect_eq "$err" "" "build stderr"
expect_eq "$(head -n 1 <<< "$out")" \
	"$layer: layer demo 1.0, 2 files, signed by CN=patchlayer test vendor, serial $S" \
	"build summary"
for tmp in "$work"/.layer.tmp*; do
	[ ! -e "$tmp" ] || fail "temporary directory left behind: $tmp"
done

# records sorted by target (/lib before /usr), whatever the argument order
printf '%s\n' "format: patchlayer/1" "name: demo" "version: 1.0" \
	"file: $T2 sha256=$h2 size=$s2 base=$b2" \
	"file: $T1 sha256=$h1 size=$s1 base=$b1" > "$work/expected-manifest"
cmp "$layer/manifest" "$work/expected-manifest" ||
	fail "manifest differs: $(diff "$work/expected-manifest" "$layer/manifest")"
cmp "$layer/files$T1" "$new1" || fail "files$T1 is not a copy of $new1"
cmp "$layer/files$T2" "$new2" || fail "files$T2 is not a copy of $new2"
expect_eq "$(find "$layer" | sed "s|^$layer||" | sort | tr '\n' ' ')" \
	" /files /files/lib /files/lib/x86_64-linux-gnu /files$T2 /files/usr /files/usr/lib /files/usr/lib/x86_64-linux-gnu /files$T1 /manifest /manifest.p7s " \
	"layer contents"
for f in manifest manifest.p7s "files$T1" "files$T2"; do
	expect_eq "$(stat -c %a "$layer/$f")" 644 "mode of $f"
done
for d in . files files/usr files/usr/lib files/usr/lib/x86_64-linux-gnu files/lib; do
	expect_eq "$(stat -c %a "$layer/$d")" 755 "mode of $d"
done

# --- the signature, as openssl sees it: detached, SHA-256, no attributes,
# no certificates, signer by issuer and serial (as scripts/sign-file.c)
expect_rc 0 openssl cms -verify -binary -inform DER -in "$layer/manifest.p7s" \
	-content "$layer/manifest" -certfile "$work/vendor.pem" -CAfile "$work/vendor.pem" \
	-purpose any -noverify -out /dev/null
expect_rc 0 openssl cms -cmsout -print -inform DER -in "$layer/manifest.p7s"
cms=$(tr -s ' ' <<< "$out")
expect_line "$cms" " eContent: <ABSENT>" "CMS structure"
expect_line "$cms" " signedAttrs:" "CMS structure"
expect_eq "$(grep -A1 -E '^ (signedAttrs|certificates):' <<< "$cms" | grep -c '<ABSENT>')" 2 \
	"absent signed attributes and certificates"
expect_line "$cms" " d.issuerAndSerialNumber: " "CMS signer id"
expect_match "$cms" "algorithm: sha256 " "CMS digest"
# and the tampered manifest fails openssl too (the test of the test)
sed 's/1.0/1.1/' "$layer/manifest" > "$work/tampered"
expect_rc 4 openssl cms -verify -binary -inform DER -in "$layer/manifest.p7s" \
	-content "$work/tampered" -certfile "$work/vendor.pem" -CAfile "$work/vendor.pem" \
	-purpose any -noverify -out /dev/null

# --- verify: every check, one line each, exactly
expect_rc 0 verify_layer "$layer"
expect_eq "$out" "ok      manifest (demo 1.0, 2 files)
ok      signature (signer: CN=patchlayer test vendor, serial $S)
ok      files$T2 (sha256 $h2, $s2 bytes)
ok      base $T2 (sha256 $b2)
ok      files$T1 (sha256 $h1, $s1 bytes)
ok      base $T1 (sha256 $b1)" "verify output"
expect_eq "$err" "" "verify stderr"

# --- verify -j and -p: the documented document
export layer T1 T2 h1 h2 s1 s2 b1 b2 S
expect_rc 0 "$PL" -j verify --cert "$work/vendor.pem" --base-root "$root" "$layer"
expect_eq "$(wc -l <<< "$out")" 1 "lines of -j output"
json_check "$out" '
assert set(d) == {"layer", "name", "version", "source", "packages", "advisories", "ok", "signature",
                  "failed", "checks"}, d.keys()
assert d["source"] is None and d["packages"] == [] and d["advisories"] == []
assert d["signature"] == "verified" and d["failed"] == 0, d
assert d["layer"] == E["layer"] and d["name"] == "demo" and d["version"] == "1.0"
assert d["ok"] is True
want = [("manifest", None), ("signature", None), ("file", E["T2"]), ("base", E["T2"]),
        ("file", E["T1"]), ("base", E["T1"])]
assert [(c["check"], c["target"]) for c in d["checks"]] == want, d["checks"]
for c in d["checks"]:
    assert {"check", "target", "ok", "errno", "detail"} <= set(c), c
    assert c["ok"] is True and c["errno"] is None and c["skipped"] is False, c
assert d["checks"][1]["detail"] == "signer: CN=patchlayer test vendor, serial " + E["S"]
assert d["checks"][4]["detail"] == "sha256 %s, %s bytes" % (E["h1"], E["s1"])
'
expect_rc 0 "$PL" -p verify --cert "$work/vendor.pem" --base-root "$root" "$layer"
expect_match "$(sed -n 2p <<< "$out")" '^  "layer": ' "-p indentation"
json_check "$out" 'assert d["ok"] is True and len(d["checks"]) == 6'
# the output options stand anywhere, as bpftool's do: the same document
first=$out
for args in "verify -p --cert $work/vendor.pem --base-root $root $layer" \
	    "verify --cert $work/vendor.pem --base-root $root $layer --pretty" \
	    "verify --cert $work/vendor.pem -j --base-root $root -p $layer"; do
	# shellcheck disable=SC2086 # the words are the test
	expect_rc 0 "$PL" $args
	expect_eq "$out" "$first" "patchlayer $args"
done
expect_rc 0 "$PL" verify --cert "$work/vendor.pem" --base-root "$root" "$layer" --json
expect_eq "$(wc -l <<< "$out")" 1 "lines of --json output after the verb"
# what follows "--" is an operand, never an option
expect_rc 1 "$PL" verify --cert "$work/vendor.pem" -- -j
expect_match "$err" "^patchlayer: -j: 2 of 2 checks failed" "the layer named -j"

# --- build -j: the summary
expect_rc 0 "$PL" -j build --name demo --version 1.0 --key "$work/vendor.key" \
	--cert "$work/vendor.pem" --base-root "$root" -o "$work/layer-j" "$new2=$T2" "$new1=$T1"
json_check "$out" '
assert d["layer"] == E["layer"] + "-j" and d["name"] == "demo" and d["version"] == "1.0"
assert d["replaces"] is None
assert d["signer"] == "CN=patchlayer test vendor, serial " + E["S"]
assert d["files"] == [
    {"target": E["T2"], "sha256": E["h2"], "size": int(E["s2"]), "base": E["b2"]},
    {"target": E["T1"], "sha256": E["h1"], "size": int(E["s1"]), "base": E["b1"]},
], d["files"]
'
cmp "$work/layer-j/manifest" "$layer/manifest" || fail "the same input built another manifest"

# --- a layer without files (a security test layer), into an existing empty directory
mkdir "$work/empty"
expect_rc 0 "$PL" build --name canary --version "2024-06 test" --key "$work/vendor.key" \
	--cert "$work/vendor.pem" -o "$work/empty"
expect_eq "$(cat "$work/empty/manifest")" "format: patchlayer/1
name: canary
version: 2024-06 test" "file-less manifest"
expect_rc 0 "$PL" verify --cert "$work/vendor.pem" "$work/empty"
expect_eq "$out" "ok      manifest (canary 2024-06 test, 0 files)
ok      signature (signer: CN=patchlayer test vendor, serial $S)" "file-less verify"
expect_rc 0 "$PL" -j verify --cert "$work/vendor.pem" --no-base "$work/empty"
json_check "$out" 'assert d["ok"] and [c["check"] for c in d["checks"]] == ["manifest", "signature"]'

# --- replaces, and a UTF-8 version
expect_rc 0 "$PL" build --name demo2 --version "1.1 – fix" --replaces demo \
	--key "$work/vendor.key" --cert "$work/vendor.pem" --base-root "$root" \
	-o "$work/layer2" "$new1=$T1"
expect_eq "$(sed -n 3,4p "$work/layer2/manifest")" "version: 1.1 – fix
replaces: demo" "replaces line"
expect_rc 0 verify_layer "$work/layer2"
expect_line "$out" "ok      manifest (demo2 1.1 – fix, replaces demo, 1 file)"

# --- without --cert the signer is named, not checked
expect_rc 0 "$PL" verify --base-root "$root" "$layer"
expect_line "$out" \
	"skip    signature: signer not checked (no --cert): issuer CN=patchlayer test vendor, serial $S"
expect_line "$err" \
	"patchlayer: $layer: the signature was not checked against a trust anchor (no --cert)"
expect_rc 0 "$PL" -j verify --base-root "$root" "$layer"
json_check "$out" '
# exit 0 (nothing failed), but no trust anchor vouched for it
assert d["ok"] is False and d["signature"] == "not checked (no --cert)" and d["failed"] == 0, d
s = d["checks"][1]
assert s["check"] == "signature" and s["ok"] is True and s["skipped"] is True, s
'

# --- --no-base: the bases are not read at all
mv "$root" "$root.away"
expect_rc 0 "$PL" verify --cert "$work/vendor.pem" --no-base "$layer"
expect_line "$out" "skip    base: not checked (--no-base)"
expect_no_match "$out" "^ok +base " "--no-base output"
mv "$root.away" "$root"

# --- several --cert: the signer may be any of them, PEM or DER
gen_key other
openssl x509 -in "$work/vendor.pem" -outform DER -out "$work/vendor.der"
expect_rc 0 "$PL" verify --cert "$work/other.pem" --cert "$work/vendor.der" \
	--base-root "$root" "$layer"

# --- a signature made by openssl itself is accepted: same format
cp -a "$layer" "$work/osign"
openssl cms -sign -binary -noattr -nocerts -md sha256 -outform DER \
	-in "$work/osign/manifest" -signer "$work/vendor.pem" -inkey "$work/vendor.key" \
	-out "$work/osign/manifest.p7s"
expect_rc 0 verify_layer "$work/osign"

# --- the base of a live target (no --base-root), when this host has one
live=
for f in /usr/lib/os-release /usr/lib/x86_64-linux-gnu/libc.so.6; do
	if [ -f "$f" ] && [ ! -L "$f" ]; then
		live=$f
		break
	fi
done
if [ -n "$live" ]; then
	expect_rc 0 "$PL" build --name live --version 1 --key "$work/vendor.key" \
		--cert "$work/vendor.pem" -o "$work/live" "$new1=$live"
	expect_match "$(cat "$work/live/manifest")" " base=$(sha256 "$live")\$" "live base hash"
	expect_rc 0 "$PL" verify --cert "$work/vendor.pem" "$work/live"
else
	echo "no regular library file on this host: live-base check skipped"
fi

# --- help
expect_rc 0 "$PL" build --help
expect_match "$out" "^Usage: .* build --name NAME --version VERSION"
expect_rc 0 "$PL" verify -h
expect_match "$out" "^Usage: .* verify \[--cert CERT.pem\]"
expect_rc 0 "$PL" layer build --help
expect_match "$out" "^Usage: patchlayer layer build --name NAME --version VERSION"
expect_rc 0 "$PL" layer help
expect_match "$out" "^  build +--name"
expect_match "$out" "^  verify +\[--cert"
echo "ok"
