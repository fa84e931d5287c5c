#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Debian security updates as layers: expat 2.5.0-1+deb12u5 from its .deb over the installed +deb12u2, delivered as a package, stale and superseded; openssl's engines and providers from a subdirectory
#
# On the Debian 12 system image, with Debian's own packages from the archive
# (scripts/security-debs caches them): libexpat1 2.5.0-1+deb12u2 installed
# as the base, a layer built on the host with "build --from-deb" from
# +deb12u5, made a package with "patchlayer package" and installed with
# dpkg -i (its postinst delivers it; the daemon activates it). A python3
# started before keeps the base and is listed stale; one started after maps
# the fixed bytes (the sha256 of its /proc/PID/map_files entry is the file's
# in the fixed .deb). dpkg -i of the fixed libexpat1 supersedes the layer;
# dpkg -r of the layer package removes it. Then libssl3 3.0.20-1~deb12u2 ->
# 3.0.22-1~deb12u2, whose engines-3/ and ossl-modules/ are below the library
# directory: every file served from the layer, the library working (TLS
# context, the legacy provider, engines loaded by a new python3).
set -eu -o pipefail

if [ -z "${PLVM_BOOT:-}" ]; then
	cd "$(dirname "$0")/../.."
	. scripts/lib.sh
	W=$PL_BUILD/sys/deb-layer
	rm -rf "$W" && mkdir -p "$W"
	D=$(scripts/security-debs --path)
	for f in libexpat1_2.5.0-1+deb12u2 libexpat1_2.5.0-1+deb12u5 libssl3_3.0.20-1~deb12u2 \
		libssl3_3.0.22-1~deb12u2; do
		[ -f "$D/${f}_amd64.deb" ] || { echo "FAIL: $D/${f}_amd64.deb missing: run scripts/setup"; exit 1; }
	done
	make -s install-userspace install-module DESTDIR="$W/root" PREFIX=/usr \
		KVER="${KVER:-$(scripts/sysimage --print-kver)}" > "$W/install.log"
	PLVM_ROOT=$PL_ROOT
	. tests/vm/lib.sh
	make_key "$W" vendor
	PL=$PL_BUILD/userspace/patchlayer
	"$PL" build --name expat-deb12u5 --key "$W/vendor.key" --cert "$W/vendor.pem" -o "$W/expat" \
		--advisory CVE-2026-56132 --advisory CVE-2026-77214 \
		--from-deb "$D/libexpat1_2.5.0-1+deb12u5_amd64.deb" \
		--base-deb "$D/libexpat1_2.5.0-1+deb12u2_amd64.deb" > /dev/null
	"$PL" package -o "$W" --name expat --maintainer "patchlayer tests <tests@example.org>" \
		"$W/expat" > /dev/null
	"$PL" build --name openssl-deb12u2 --key "$W/vendor.key" --cert "$W/vendor.pem" -o "$W/ssl" \
		--from-deb "$D/libssl3_3.0.22-1~deb12u2_amd64.deb" \
		--base-deb "$D/libssl3_3.0.20-1~deb12u2_amd64.deb" > /dev/null
	# the package the layer's depends on: here the command comes from make install
	mkdir -p "$W/stub/DEBIAN"
	printf '%s\n' "Package: patchlayer" "Version: $(dpkg-parsechangelog -S Version)" \
		"Architecture: amd64" "Maintainer: patchlayer tests <tests@example.org>" \
		"Description: stands for the patchlayer package (make install)" > "$W/stub/DEBIAN/control"
	dpkg-deb --root-owner-group -b "$W/stub" "$W/patchlayer-stub.deb" > /dev/null
	exec scripts/vm --timeout "${PL_VM_TIMEOUT:-900}" --sysimage "$0"
fi

. "$PLVM_ROOT/tests/vm/lib.sh"
W=$PLVM_ROOT/build/sys/deb-layer
D=$PLVM_ROOT/build/debs
PL=/usr/sbin/patchlayer
STORE=/var/lib/patchlayer/layers
EXPAT=/lib/x86_64-linux-gnu/libexpat.so.1.8.10
kver=$(uname -r)

store_state() {
	sed -n 's/^state=//p' "$STORE/$1.state" 2>/dev/null
}

journal() {
	journalctl -b -u patchlayer.service --no-pager | tail -n 30
}

wait_store() { # NAME STATE
	for _ in $(seq 100); do
		[ "$(store_state "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	fail "store: $1 is '$(store_state "$1")', expected $2; journal: $(journal)"
}

# superseded_by NAME: what the daemon recorded, once dpkg has told it
superseded_by() {
	for _ in $(seq 100); do
		grep -q '^superseded_by=.' "$STORE/$1.state" && break
		sleep 0.1
	done
	sed -n 's/^superseded_by=//p' "$STORE/$1.state"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# the python3 sleepers hold the job's output open: a failure must not leave them
trap 'kill $(jobs -p) 2> /dev/null || true' EXIT

# --- patchlayer as make install lays it out, the bases from the archive
tar -C "$W/root" -c . | tar -C / -x --keep-directory-symlink --no-same-owner
depmod -a "$kver"
install -m 0644 "$W/vendor.der" /etc/patchlayer/vendor.der
printf '%s\n' "auto_install = yes" "protect = $LIBDIR" "trust = /etc/patchlayer/vendor.der" \
	> /etc/patchlayer/patchlayer.conf
dpkg -i "$D/libexpat1_2.5.0-1+deb12u2_amd64.deb" "$D/libssl3_3.0.20-1~deb12u2_amd64.deb" \
	> /root/dpkg.log 2>&1 || fail "dpkg -i of the bases: $(cat /root/dpkg.log)"
systemctl restart patchlayer.service || fail "patchlayer.service: $(journal)"
for v in base fixed; do
	mkdir -p "/root/$v"
done
dpkg-deb -x "$D/libexpat1_2.5.0-1+deb12u2_amd64.deb" /root/base
dpkg-deb -x "$D/libexpat1_2.5.0-1+deb12u5_amd64.deb" /root/fixed
expat_base=$(sha "/root/base$EXPAT") expat_fixed=$(sha "/root/fixed$EXPAT")
[ "$expat_base" != "$expat_fixed" ] || fail "the two libexpat1 have the same $EXPAT"

# --- expat: a process before, the layer package, a process after
python3 -c 'import pyexpat, time; time.sleep(1000)' &
old=$!
expect_eq "$(mapped_sha256 "$old" libexpat.so.1.8.10)" "$expat_base" "python3 before the layer"
dpkg -i "$W/patchlayer-stub.deb" > /root/dpkg.log 2>&1 || fail "dpkg -i stub: $(cat /root/dpkg.log)"
dpkg -i "$W"/patchlayer-layer-expat_2.5.0-1+deb12u5_all.deb > /root/dpkg.log 2>&1 ||
	fail "dpkg -i of the layer package: $(cat /root/dpkg.log)"
expect_match "$(cat /root/dpkg.log)" "expat-deb12u5: active" "the postinst"
expect_eq "$(store_state expat-deb12u5)" active "expat-deb12u5 after dpkg -i"
python3 -c 'import pyexpat, time; time.sleep(1000)' &
new=$!
expect_eq "$(mapped_sha256 "$new" libexpat.so.1.8.10)" "$expat_fixed" "python3 after the layer"
expect_eq "$(python3 -c 'import pyexpat; p = pyexpat.ParserCreate(); p.Parse("<a>x</a>", True); print("parsed")')" \
	parsed "pyexpat on the layer"
expect_eq "$(mapped_sha256 "$old" libexpat.so.1.8.10)" "$expat_base" "python3 started before"
expect_rc 1 $PL usage --stale expat-deb12u5
expect_match "$out" "(^|[^0-9])$old([^0-9]|$)" "usage --stale"
if grep -qE "(^|[^0-9])$new([^0-9]|$)" <<< "$out"; then
	fail "the new python3 ($new) is listed stale: $out"
fi
# what it fixes, in layers, status and the log
expect_rc 0 $PL -j layers
layers=$out
expect_rc 0 $PL -j status
python3 - "$layers" "$out" <<'PY' || fail "layers -j: $layers; status -j: $out"
import json, sys
want = {"source": {"package": "expat", "version": "2.5.0-1+deb12u5"},
        "packages": [{"package": "libexpat1", "base": "2.5.0-1+deb12u2", "fixed": "2.5.0-1+deb12u5"}],
        "advisories": ["CVE-2026-56132", "CVE-2026-77214"]}
l = [x for x in json.loads(sys.argv[1]) if x["name"] == "expat-deb12u5"][0]
s = [x for x in json.loads(sys.argv[2])["layers"] if x["name"] == "expat-deb12u5"][0]
for d in (l, s):
    assert {k: d[k] for k in want} == want, d
assert l["superseded_by"] is None, l
PY
expect_match "$($PL log)" "expat-deb12u5 version \"2.5.0-1\+deb12u5\" verified and stored; fixes expat 2.5.0-1\+deb12u5: libexpat1 2.5.0-1\+deb12u2 -> 2.5.0-1\+deb12u5; CVE-2026-56132 CVE-2026-77214" "log"
echo "expat: layer active from its package; pid $old stale on the base, pid $new on $expat_fixed"

# --- the regular update lands beside the layer package and supersedes it
dpkg -i "$D/libexpat1_2.5.0-1+deb12u5_amd64.deb" > /root/dpkg.log 2>&1 ||
	fail "dpkg -i of the fixed libexpat1: $(cat /root/dpkg.log)"
wait_store expat-deb12u5 superseded
expect_eq "$(dpkg-query -W -f '${db:Status-Abbrev}${Version} ' libexpat1 patchlayer-layer-expat)" \
	"ii 2.5.0-1+deb12u5 ii 2.5.0-1+deb12u5 " "both packages installed"
python3 -c 'import pyexpat, time; time.sleep(1000)' &
after=$!
expect_eq "$(mapped_sha256 "$after" libexpat.so.1.8.10)" "$expat_fixed" "python3 after the update"
[ ! -e "$SYSFS/layers/expat-deb12u5" ] || fail "the superseded layer is still loaded"
# the daemon names the version that did it, once dpkg has recorded it
expect_eq "$(superseded_by expat-deb12u5)" "libexpat1 2.5.0-1+deb12u5" "superseded_by"
expect_match "$($PL log)" "expat-deb12u5 superseded by libexpat1 2.5.0-1\+deb12u5$" "log"
dpkg -r patchlayer-layer-expat > /root/dpkg.log 2>&1 || fail "dpkg -r: $(cat /root/dpkg.log)"
[ ! -e "$STORE/expat-deb12u5" ] || fail "dpkg -r left the layer in the store: $(cat /root/dpkg.log)"
kill "$old" "$new" "$after"
echo "expat: superseded by libexpat1 2.5.0-1+deb12u5; removed with its package"

# --- openssl: libraries in engines-3/ and ossl-modules/, delivered whole
mkdir -p /root/sslfixed
dpkg-deb -x "$D/libssl3_3.0.22-1~deb12u2_amd64.deb" /root/sslfixed
expect_rc 0 $PL deliver --wait 60 "$W/ssl"
expect_eq "$(store_state openssl-deb12u2)" active "openssl-deb12u2 after deliver: $out"
targets=$(sed -n 's/^file: \([^ ]*\) .*/\1/p' "$W/ssl/manifest")
expect_eq "$(wc -l <<< "$targets")" 6 "files of the openssl layer"
expect_match "$targets" "/engines-3/padlock.so$" "targets"
expect_match "$targets" "/ossl-modules/legacy.so$" "targets"
python3 -c '
import ctypes, ssl, sys, time
ssl.create_default_context()
c = ctypes.CDLL("libcrypto.so.3")
c.OSSL_PROVIDER_load.restype = c.ENGINE_by_id.restype = ctypes.c_void_p
assert c.OSSL_PROVIDER_load(None, b"legacy"), "legacy provider"
assert c.ENGINE_by_id(b"padlock") and c.ENGINE_by_id(b"loader_attic"), "engines"
c.ENGINE_by_id(b"afalg")	# mapped, even where the kernel has no AF_ALG
print("ok", flush=True)
time.sleep(1000)' > /root/ssl.out &
probe=$!
for _ in $(seq 100); do
	[ -s /root/ssl.out ] && break
	sleep 0.1
done
expect_eq "$(cat /root/ssl.out)" ok "libssl3 on the layer"
for t in $targets; do
	expect_eq "$(sha "$t")" "$(sha "/root/sslfixed$t")" "$t read through the library directory"
	expect_eq "$(mapped_sha256 "$probe" "$t")" "$(sha "/root/sslfixed$t")" "$t mapped by a new python3"
done
kill "$probe"
echo "openssl: $(wc -l <<< "$targets") files served from the layer, subdirectories included"

# --- the base version again (a downgrade, or a reinstall): it supersedes, and is no fix
dpkg -i "$D/libssl3_3.0.20-1~deb12u2_amd64.deb" > /root/dpkg.log 2>&1 ||
	fail "dpkg -i of the base libssl3: $(cat /root/dpkg.log)"
wait_store openssl-deb12u2 superseded
expect_eq "$(superseded_by openssl-deb12u2)" "libssl3 3.0.20-1~deb12u2" "superseded_by"
expect_match "$($PL layers)" "libssl3 3.0.20-1~deb12u2 replaced its base, older than the fix 3.0.22-1~deb12u2: a downgrade is not a fix" "layers"
expect_match "$($PL log)" "openssl-deb12u2 superseded by libssl3 3.0.20-1~deb12u2, older than the fix 3.0.22-1~deb12u2: a downgrade is not a fix" "log"
echo "openssl: libssl3 3.0.20-1~deb12u2 reinstalled: superseded, recorded as no fix"
