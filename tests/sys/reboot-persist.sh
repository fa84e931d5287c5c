#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# reboot: the active layer is active before an ordinary service starts, withdrawn and superseded ones stay retired
#
# Reboot persistence on the Debian 12 system image (scripts/sysimage): the
# daemon installed as a machine has it ("make install", the module in
# /lib/modules/<kver>/extra + depmod, /etc/patchlayer/patchlayer.conf,
# patchlayer.service enabled); boot 1 activates a signed zlib layer and gets a
# second layer withdrawn by the health watch; boot 2, on the same disk,
# checks from an ordinary service's own start that the active layer was
# active before it started (a fresh python3 sees the fixed zlibVersion()),
# and that the withdrawn layer, and a third one superseded by dpkg -i of a
# newer package in boot 1, stayed retired and unloaded. And the shutdown
# between them detached the patchlayer mounts (patchlayer-generator's
# drop-ins) rather than failing to unmount them.
#
# Run on the host (tests/run sys): prepares the install tree, key, layers
# and crash program in build/sys, then boots the image twice with itself as
# the job (scripts/vm --sysimage --boots 2).
set -eu -o pipefail
TESTLIB_DIR=/usr/lib/pl-testlib
TESTLIB=$TESTLIB_DIR/libdemo.so.1.0

if [ -z "${PLVM_BOOT:-}" ]; then
	cd "$(dirname "$0")/../.."
	. scripts/lib.sh
	W=$PL_BUILD/sys/reboot-persist
	rm -rf "$W" && mkdir -p "$W"
	# the module for the image's kernel, whichever make would build by default
	make -s install-userspace install-module DESTDIR="$W/root" PREFIX=/usr \
		KVER="${KVER:-$(scripts/sysimage --print-kver)}" > "$W/install.log"
	gcc -O0 -Wall -o "$W/crash" tests/vm/data/crash.c -ldl
	PLVM_ROOT=$PL_ROOT
	. tests/vm/lib.sh
	make_key "$W" vendor
	patched_zlib "$W/libz.so"
	build_layer "$W/zfix" vendor zlib-fix "26.3 (b)" "$W/libz.so=$ZLIB"
	# the layer the health watch withdraws: libcap, unchanged, so that
	# nothing but the crash program minds it while it is active
	cp "$LIBDIR/libcap.so.2.66" "$W/libcap.so"
	build_layer "$W/capfix" vendor cap-fix 1 "$W/libcap.so=$LIBDIR/libcap.so.2.66"
	# the layer a package update supersedes: pl-testlib 1.0 is its base, 2.0 the update
	cp "$ZLIB" "$W/testlib-1.0"
	cp "$ZLIB" "$W/testlib-2.0" && printf 'v2' >> "$W/testlib-2.0"
	for v in 1.0 2.0; do
		testlib_deb "$W" $v "$W/testlib-$v" $TESTLIB > /dev/null
	done
	rc=0
	scripts/vm --timeout "${PL_VM_TIMEOUT:-900}" --sysimage --boots 2 --link-run "$W/run" "$0" || rc=$?
	[ "$rc" = 0 ] || exit "$rc"
	# boot 1 ended in a shutdown: patchlayer-generator's LazyUnmount=yes
	# detaches the patchlayer mounts, which an unmount could only find busy
	if grep -aE "Failed unmounting .* - ($LIBDIR|$TESTLIB_DIR)\.|Failed to unmount ($LIBDIR|$TESTLIB_DIR):" "$W/run/console"; then
		echo "FAIL: the shutdown of boot 1 could not unmount a patchlayer mount (see $W/run/console)"
		exit 1
	fi
	echo "the shutdown of boot 1 detached the patchlayer mounts"
	exit 0
fi

. "$PLVM_ROOT/tests/vm/lib.sh"
W=$PLVM_ROOT/build/sys/reboot-persist
PL=/usr/sbin/patchlayer
STORE=/var/lib/patchlayer/layers
INBOX=/var/lib/patchlayer/inbox
PROBE=/var/lib/pl-probe
kver=$(uname -r)

store_state() {
	sed -n 's/^state=//p' "$STORE/$1.state" 2>/dev/null
}

wait_store() { # NAME STATE
	for _ in $(seq 100); do
		[ "$(store_state "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	fail "store: $1 is '$(store_state "$1")', expected $2; journal: $(journalctl -b -u patchlayer --no-pager | tail -n 20)"
}

deliver() { # SRC NAME: copy, then rename, as a delivery should
	cp -a "$1" "$INBOX/.$2.tmp"
	mv "$INBOX/.$2.tmp" "$INBOX/$2"
}

if [ "$PLVM_BOOT" = 1 ]; then
	# the install as "make install" lays it out, then what an administrator adds
	# merged /usr: /lib is a symlink the copy must follow, as dpkg does
	tar -C "$W/root" -c . | tar -C / -x --keep-directory-symlink --no-same-owner
	depmod -a "$kver"
	expect_eq "$(modinfo -n patchlayer)" "/lib/modules/$kver/extra/patchlayer.ko" "the module modprobe finds"
	install -m 0644 "$W/vendor.der" /etc/patchlayer/vendor.der
	sed -i 's/^crash_threshold = .*/crash_threshold = 1/' /etc/patchlayer/patchlayer.conf
	sed -i "s|^protect = .*|protect = $LIBDIR $TESTLIB_DIR|" /etc/patchlayer/patchlayer.conf
	echo "trust = /etc/patchlayer/vendor.der" >> /etc/patchlayer/patchlayer.conf
	dpkg -i "$W/pl-testlib_1.0.deb" > /dev/null
	# the ordinary service of boot 2: what its own start sees
	install -d -m 0755 $PROBE
	cat > /usr/local/sbin/pl-probe <<-'PROBE'
		#!/bin/sh
		out=/var/lib/pl-probe
		for l in zlib-fix cap-fix demo-fix; do
			cat /sys/kernel/patchlayer/layers/$l/state > $out/$l.kstate 2>/dev/null || echo absent > $out/$l.kstate
		done
		python3 -c 'import zlib; print(zlib.ZLIB_RUNTIME_VERSION)' > $out/zlib-version 2>&1
		cat /proc/uptime > $out/uptime
	PROBE
	chmod 755 /usr/local/sbin/pl-probe
	cat > /etc/systemd/system/pl-probe.service <<-'UNIT'
		[Unit]
		Description=an ordinary service that records what its start sees

		[Service]
		Type=oneshot
		ExecStart=/usr/local/sbin/pl-probe

		[Install]
		WantedBy=multi-user.target
	UNIT
	systemctl daemon-reload
	systemctl enable patchlayer.service pl-probe.service
	systemctl start patchlayer.service ||
		fail "patchlayer.service: $(journalctl -b -u patchlayer.service --no-pager | tail -n 30)"
	expect_eq "$(systemctl is-active patchlayer.service)" active "patchlayer.service"
	# patchlayer-generator ran at the daemon-reload above, with this patchlayer.conf
	for d in $LIBDIR $TESTLIB_DIR; do
		unit=$(systemd-escape --path --suffix=mount "$d")
		expect_eq "$(systemctl show -P LazyUnmount "$unit")" yes "LazyUnmount of $unit"
	done

	deliver "$W/zfix" zfix
	wait_store zlib-fix active
	wait_state zlib-fix active
	expect_eq "$(python3 -c 'import zlib; print(zlib.ZLIB_RUNTIME_VERSION)')" "$ZLIB_FIXED_VERSION" "python3 in boot 1"

	deliver "$W/capfix" capfix
	wait_store cap-fix active
	wait_state cap-fix active
	rc=0; "$W/crash" "$LIBDIR/libcap.so.2.66" 11 || rc=$?
	expect_eq $rc 139 "the crash of a patched process"
	wait_store cap-fix withdrawn
	for _ in $(seq 50); do [ -e $SYSFS/layers/cap-fix ] || break; sleep 0.1; done
	[ ! -e $SYSFS/layers/cap-fix ] || fail "withdrawn but still loaded"
	expect_eq "$(store_state zlib-fix)" active "zlib-fix after the other's withdrawal"

	# built here: a layer records its base, which only this machine has
	K=/root/vendor && mkdir -p $K
	cp "$W/vendor.key" "$W/vendor.pem" "$W/libz.so" $K/
	build_layer $K/demo vendor demo-fix "1.0 (a)" "$K/libz.so=$TESTLIB"
	deliver $K/demo demo
	wait_store demo-fix active
	cmp -s $TESTLIB "$W/libz.so" || fail "demo-fix is not served"
	dpkg -i "$W/pl-testlib_2.0.deb" > /dev/null
	wait_store demo-fix superseded
	for _ in $(seq 50); do [ -e $SYSFS/layers/demo-fix ] || break; sleep 0.1; done
	[ ! -e $SYSFS/layers/demo-fix ] || fail "superseded but still loaded"
	sync
	exit 0
fi

# boot 2: nobody touched the system since boot 1 powered it off
[ -s $PROBE/uptime ] || fail "pl-probe.service did not run: $(systemctl status pl-probe.service --no-pager 2>&1 | tail -n 5)"
expect_eq "$(cat $PROBE/zlib-fix.kstate)" active "zlib-fix in the kernel when pl-probe started"
expect_eq "$(cat $PROBE/zlib-version)" "$ZLIB_FIXED_VERSION" "a fresh python3 at pl-probe's start"
expect_eq "$(cat $PROBE/cap-fix.kstate)" absent "cap-fix in the kernel when pl-probe started"
expect_eq "$(cat $PROBE/demo-fix.kstate)" absent "demo-fix in the kernel when pl-probe started"
# and systemd's own record of the order
daemon_up=$(systemctl show -P ActiveEnterTimestampMonotonic patchlayer.service)
probe_start=$(systemctl show -P ExecMainStartTimestampMonotonic pl-probe.service)
[ "$daemon_up" -gt 0 ] && [ "$daemon_up" -lt "$probe_start" ] ||
	fail "patchlayer.service ready at ${daemon_up}us, pl-probe started at ${probe_start}us"

expect_eq "$(systemctl is-active patchlayer.service)" active "patchlayer.service in boot 2"
expect_eq "$(layer_state zlib-fix)" active "zlib-fix now"
expect_eq "$(store_state zlib-fix)" active "zlib-fix in the store"
expect_eq "$(store_state cap-fix)" withdrawn "cap-fix in the store"
[ ! -e $SYSFS/layers/cap-fix ] || fail "cap-fix loaded again after the reboot: $(layer_state cap-fix)"
[ -d $STORE/cap-fix ] || fail "cap-fix gone from the store"
expect_eq "$(store_state demo-fix)" superseded "demo-fix in the store"
[ ! -e $SYSFS/layers/demo-fix ] || fail "demo-fix loaded again after the reboot: $(layer_state demo-fix)"
cmp -s $TESTLIB "$W/pkg-2.0$TESTLIB" || fail "the updated base is not served after the reboot"
expect_rc 0 "$PL" -j layers
expect_match "$out" '"name":"zlib-fix"[^}]*"state":"active","kernel":"active"' "layers -j: zlib-fix"
expect_match "$out" '"name":"cap-fix"[^}]*"state":"withdrawn","kernel":"absent"[^}]*"why":"1 crashes of patched processes' "layers -j: cap-fix"
expect_match "$out" '"name":"demo-fix"[^}]*"state":"superseded","kernel":"absent"[^}]*"why":"a package update replaced its base: pl-testlib 2.0' "layers -j: demo-fix"
findmnt -n -t patchlayer "$LIBDIR" > /dev/null || fail "$LIBDIR is not protected in boot 2"
echo "boot 2: zlib-fix active at pl-probe's start (daemon ready ${daemon_up}us, probe ${probe_start}us), cap-fix withdrawn, demo-fix superseded"
