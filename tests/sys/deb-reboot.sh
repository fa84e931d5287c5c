#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# packages: dpkg -i of patchlayer-dkms and patchlayer, a config, a reboot into each kernel: DKMS's module loaded, the daemon up, a layer active
#
# The acceptance of the Debian packaging (issue 7) on the Debian 12 system
# image, as an administrator meets it: boot 1 installs the two packages
# that dpkg-buildpackage built (DKMS compiles and installs the module for
# the running kernel and for the newest installed one, as Debian's DKMS
# does: the image holds 6.1 and 6.12, and boots 6.1 first) and edits
# /etc/patchlayer/patchlayer.conf (a vendor key to trust, a second directory
# to protect); nothing is loaded or started by hand. Boot 2, on the same
# kernel, checks that the packaging alone brought it all up: DKMS's build
# for every kernel of the machine, its build for the running one loaded by
# systemd-modules-load, patchlayer.service active, "patchlayer status"
# (text and -j) showing the daemon and both directories, and a signed layer
# dropped in the inbox served to a new process. Each later boot is a
# reboot into the next kernel (6.12): the same checks, with the layer
# brought back active by the daemon.
#
# Run on the host (tests/run sys): builds the packages (tests/pkg/10-debian.sh,
# which also runs lintian), a key and a layer in build/sys, then boots the
# image without the harness's own module, the first kernel twice, then
# each other one (scripts/vm --sysimage --no-module --boot-kvers).
set -eu -o pipefail
EXTRA_DIR=/usr/local/lib

if [ -z "${PLVM_BOOT:-}" ]; then
	cd "$(dirname "$0")/../.."
	. scripts/lib.sh
	W=$PL_BUILD/sys/deb-reboot
	rm -rf "$W" && mkdir -p "$W"
	start=$(date +%s)
	bash tests/pkg/10-debian.sh > "$W/pkg.log" 2>&1 ||
		{ tail -n 20 "$W/pkg.log"; echo "FAIL: the packages did not build"; exit 1; }
	echo "packages built and checked in $(($(date +%s) - start)) s"
	cp "$PL_BUILD"/pkg/*.deb "$W/"
	PLVM_ROOT=$PL_ROOT
	. tests/vm/lib.sh
	make_key "$W" vendor
	patched_zlib "$W/libz.so"
	PL=$PL_BUILD/userspace/patchlayer build_layer "$W/zfix" vendor zlib-fix "26.3 (b)" "$W/libz.so=$ZLIB"
	kvers=$(scripts/sysimage --print-kvers | tr '\n' ' ')
	exec scripts/vm --timeout "${PL_VM_TIMEOUT:-2400}" --sysimage --no-module \
		--boot-kvers "${kvers%% *} $kvers" "$0"
fi

. "$PLVM_ROOT/tests/vm/lib.sh"
W=$PLVM_ROOT/build/sys/deb-reboot
PL=/usr/sbin/patchlayer
CONF=/etc/patchlayer/patchlayer.conf
INBOX=/var/lib/patchlayer/inbox
STORE=/var/lib/patchlayer/layers
kver=$(uname -r)
dkmsdeb=$(ls "$W"/patchlayer-dkms_*_all.deb)
deb=$(ls "$W"/patchlayer_*_amd64.deb)
version=$(dpkg-deb -f "$deb" Version)

journal() { # UNIT
	journalctl -b -u "$1" --no-pager | tail -n 30
}

if [ "$PLVM_BOOT" = 1 ]; then
	# nothing of patchlayer on the machine yet
	! modinfo patchlayer > /dev/null 2>&1 || fail "a patchlayer module before the install: $(modinfo -n patchlayer)"
	expect_eq "$(dkms status 2>/dev/null)" "" "dkms status before the install"
	start=$(date +%s)
	dpkg -i "$dkmsdeb" "$deb" > /root/dpkg.log 2>&1 || fail "dpkg -i: $(tail -n 40 /root/dpkg.log)"
	echo "boot 1: dpkg -i of both packages (DKMS build included) took $(($(date +%s) - start)) s"
	expect_eq "$(dpkg-query -W -f '${db:Status-Abbrev}' patchlayer-dkms patchlayer)" "ii ii " "package status"
	expect_eq "$(systemctl is-enabled patchlayer.service)" enabled "patchlayer.service after the install"

	# what the administrator does: a key to trust, one more directory
	install -m 0644 "$W/vendor.der" /etc/patchlayer/vendor.der
	sed -i "s|^protect = .*|protect = $LIBDIR $EXTRA_DIR|" $CONF
	echo "trust = /etc/patchlayer/vendor.der" >> $CONF
	grep -qx "protect = $LIBDIR $EXTRA_DIR" $CONF || fail "the configuration has no protect line: $(cat $CONF)"
	sync
	exit 0
fi

# boot 2 and later: the packaging alone brought everything up
# stdout only: dkms 3.0.10 may say "echo: write error: Broken pipe" on stderr
dkms_status=$(dkms status patchlayer 2>/dev/null)
for k in $(ls /lib/modules); do
	grep -qxF "patchlayer/$version, $k, x86_64: installed" <<< "$dkms_status" ||
		fail "dkms status: no build for $k: $dkms_status"
done
# compressed as the kernel's own modules are, where they are (6.12: xz)
dkmsko=$(ls /lib/modules/"$kver"/updates/dkms/patchlayer.ko* 2>/dev/null | head -n 1)
[ -f "$dkmsko" ] || fail "no DKMS build in /lib/modules/$kver/updates/dkms: $(find "/lib/modules/$kver" -name 'patchlayer*')"
expect_eq "$(find "/lib/modules/$kver" -name 'patchlayer.ko*')" "$dkmsko" "the patchlayer modules in the tree"
expect_eq "$(modinfo -n patchlayer)" "$dkmsko" "the module modprobe finds"
grep -q '^patchlayer ' /proc/modules || fail "patchlayer.ko is not loaded: $(journalctl -b -t systemd-modules-load --no-pager)"
# the loaded module is DKMS's build, byte for byte what it installed
expect_eq "$(cat /sys/module/patchlayer/srcversion)" "$(modinfo -F srcversion "$dkmsko")" "srcversion of the loaded module"
expect_eq "$(cat /sys/module/patchlayer/version)" "$version" "version of the loaded module"
# by its syslog identifier: its messages come before journald, without a unit
journalctl -b -t systemd-modules-load --no-pager | grep -q "Inserted module 'patchlayer'" ||
	fail "systemd-modules-load did not load patchlayer: $(journalctl -b -t systemd-modules-load --no-pager)"

expect_eq "$(systemctl is-active patchlayer.service)" active "patchlayer.service: $(journal patchlayer.service)"
daemon_pid=$(systemctl show -P MainPID patchlayer.service)
[ "$daemon_pid" -gt 0 ] || fail "patchlayer.service has no main process"
expect_eq "$(readlink /proc/"$daemon_pid"/exe)" "$PL" "the daemon's program"

expect_rc 0 $PL status
echo "$out"
expect_match "$out" "^module: +patchlayer $version " "status"
expect_match "$out" "^daemon: +running \(pid $daemon_pid\)$" "status"
expect_match "$out" "^protected: $LIBDIR( |$)" "status"
expect_match "$out" "^protected: $EXTRA_DIR( |$)" "status"
expect_rc 0 $PL -j status
json=$out
python3 - "$json" "$daemon_pid" "$version" "$LIBDIR" "$EXTRA_DIR" <<'PY' || fail "status -j: $json"
import json, sys
s = json.loads(sys.argv[1])
pid, version, dirs = int(sys.argv[2]), sys.argv[3], sys.argv[4:]
assert s["module"]["loaded"] is True and s["module"]["version"] == version, s["module"]
assert s["daemon"] == {"running": True, "pid": pid}, s["daemon"]
got = [p.split()[0] for p in s["protected"]]
assert sorted(got) == sorted(dirs), got
PY
for d in $LIBDIR $EXTRA_DIR; do
	findmnt -n -t patchlayer "$d" > /dev/null || fail "$d is not a patchlayer mount: $(findmnt -n "$d")"
done

# the trusted key from the configuration at work: a layer from the inbox,
# delivered on the first boot that checks, brought back on the next ones
if [ "$PLVM_BOOT" = 2 ]; then
	cp -a "$W/zfix" "$INBOX/.zfix.tmp"
	mv "$INBOX/.zfix.tmp" "$INBOX/zfix"
fi
for _ in $(seq 100); do
	[ "$(sed -n 's/^state=//p' $STORE/zlib-fix.state 2>/dev/null)" = active ] && break
	sleep 0.2
done
expect_eq "$(sed -n 's/^state=//p' $STORE/zlib-fix.state 2>/dev/null)" active "zlib-fix in the store: $(journal patchlayer.service)"
wait_state zlib-fix active
expect_eq "$(python3 -c 'import zlib; print(zlib.ZLIB_RUNTIME_VERSION)')" "$ZLIB_FIXED_VERSION" "a new python3"
echo "boot $PLVM_BOOT ($kver): dkms built patchlayer $version for $(ls /lib/modules | tr '\n' ' ')loaded at boot; daemon pid $daemon_pid; $LIBDIR and $EXTRA_DIR protected; zlib-fix active"
