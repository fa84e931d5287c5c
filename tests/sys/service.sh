#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# patchlayer.service as systemd runs it: ready only once reconciled, journal priorities and fields, reload, watchdog, sandbox
#
# On the Debian 12 system image (scripts/sysimage), patchlayer installed as
# "make install" lays it out and run by systemd with dist/patchlayer.service:
#   sandbox: the daemon shares PID 1's mount namespace (its mounts are the
#            system's), with the unit's system call filter, and the exposure
#            "systemd-analyze security" gives it (printed for the docs);
#   notify:  "systemctl start" returns once the store is brought back into
#            the kernel (a layer unloaded while it was stopped is active
#            again), with STATUS= saying what the store holds;
#   journal: a malformed delivery is in "journalctl -u patchlayer -p warning",
#            the layer's steps in "journalctl LAYER=zlib-fix" with VERSION=;
#   reload:  "systemctl reload" applies a changed install_window (a pending
#            layer is activated), and a bad patchlayer.conf is refused with
#            an error while the daemon goes on;
#   watchdog: with WatchdogSec=5s (a drop-in) the daemon pings, and one
#            stopped with SIGSTOP is restarted.
set -eu -o pipefail

if [ -z "${PLVM_BOOT:-}" ]; then
	cd "$(dirname "$0")/../.."
	. scripts/lib.sh
	W=$PL_BUILD/sys/service
	rm -rf "$W" && mkdir -p "$W"
	make -s install-userspace install-module DESTDIR="$W/root" PREFIX=/usr \
		KVER="${KVER:-$(scripts/sysimage --print-kver)}" > "$W/install.log"
	PLVM_ROOT=$PL_ROOT
	. tests/vm/lib.sh
	make_key "$W" vendor
	patched_zlib "$W/libz.so"
	build_layer "$W/zfix" vendor zlib-fix "26.3 (b)" "$W/libz.so=$ZLIB"
	mkdir "$W/bad" && echo "not a manifest" > "$W/bad/manifest"
	exec scripts/vm --timeout "${PL_VM_TIMEOUT:-600}" --sysimage "$0"
fi

. "$PLVM_ROOT/tests/vm/lib.sh"
W=$PLVM_ROOT/build/sys/service
PL=/usr/sbin/patchlayer
CONF=/etc/patchlayer/patchlayer.conf
STORE=/var/lib/patchlayer/layers
INBOX=/var/lib/patchlayer/inbox
U=patchlayer.service

store_state() {
	sed -n 's/^state=//p' "$STORE/$1.state" 2>/dev/null
}

journal() { # [journalctl options]
	journalctl -b -u $U --no-pager -o cat "$@"
}

# until COMMAND... succeeds, within 20 s (of the clock: journalctl is slow under TCG)
until_ok() {
	local end=$((SECONDS + 20))
	while [ $SECONDS -lt $end ]; do
		"$@" && return 0
		sleep 0.2
	done
	fail "not within 20 s: $*; journal: $(journal | tail -n 20)"
}

is_store() { [ "$(store_state "$1")" = "$2" ]; }

config() { # INSTALL_WINDOW [EXTRA LINE]
	cat > $CONF <<-EOF
		auto_install = yes
		install_window = $1
		protect = $LIBDIR
		trust = /etc/patchlayer/vendor.der
		${2:-}
	EOF
}

deliver() { # SRC NAME: copy, then rename, as a delivery should
	cp -a "$1" "$INBOX/.$2.tmp"
	mv "$INBOX/.$2.tmp" "$INBOX/$2"
}

main_pid() {
	systemctl show -P MainPID $U
}

# --- install, as "make install" lays it out
tar -C "$W/root" -c . | tar -C / -x --keep-directory-symlink --no-same-owner
depmod -a "$(uname -r)"
install -m 0644 "$W/vendor.der" /etc/patchlayer/vendor.der
systemctl daemon-reload
config ""
systemctl start $U || fail "$U: $(journal | tail -n 20)"
deliver "$W/zfix" zfix
until_ok is_store zlib-fix active
wait_state zlib-fix active

# --- sandbox: no mount namespace of its own, its mount the system's
pid=$(main_pid)
expect_eq "$(readlink /proc/"$pid"/ns/mnt)" "$(readlink /proc/1/ns/mnt)" "the daemon's mount namespace"
findmnt -t patchlayer "$LIBDIR" > /dev/null || fail "no patchlayer mount on $LIBDIR"
expect_match "$(grep '^Seccomp:' /proc/"$pid"/status)" "2" "the daemon's seccomp mode"
# the mode alone says little: NoNewPrivileges, MemoryDenyWriteExecute and
# RestrictNamespaces filter too; the unit's own list is the one in force
filter=" $(systemctl show -P SystemCallFilter $U) "
for sc in bpf perf_event_open mount read; do
	[[ $filter == *" $sc "* ]] || fail "$sc is not in the unit's system call filter: $filter"
done
systemd-analyze security $U --no-pager | sed 's/^/# /'
# under the filter the BPF side loads (else the daemon goes on without it, saying so)
if journal | grep -E "health watch unavailable|cannot reduce|PR_SET_NO_NEW_PRIVS"; then
	fail "the daemon lacks something under the unit's sandbox"
fi

# --- notify: "systemctl start" returns once the kernel runs what the store says
systemctl stop $U
echo drop > "$SYSFS/layers/zlib-fix/state"
echo zlib-fix > "$SYSFS/unload"
[ ! -e "$SYSFS/layers/zlib-fix" ] || fail "zlib-fix still loaded"
systemctl start $U || fail "$U: $(journal | tail -n 20)"
expect_eq "$(cat "$SYSFS/layers/zlib-fix/state" 2>&1)" active "zlib-fix when 'systemctl start' returned"
expect_match "$(systemctl show -P StatusText $U)" "^1 layers active, 0 pending" "StatusText"

# --- journal: priorities and fields
deliver "$W/bad" bad
until_ok test -e "$INBOX/rejected/bad.reason"
until_ok eval 'journal -p warning | grep -q "bad: rejected: manifest"'
expect_match "$(journalctl -b LAYER=zlib-fix VERSION="26.3 (b)" --no-pager -o cat)" "zlib-fix: version \"26.3 \(b\)\" verified and stored" "journalctl LAYER= VERSION="
if journal -p warning | grep -q "verified and stored"; then
	fail "a routine step logged as a warning: $(journal -p warning)"
fi

# --- reload: install_window applied; a bad file refused, the daemon goes on
expect_rc 0 $PL remove zlib-fix
closed=$(date -d '+2 hours' +%H:00)-$(date -d '+3 hours' +%H:00)
config "$closed"
systemctl reset-failed $U
systemctl restart $U || fail "$U: $(journal | tail -n 20)"
deliver "$W/zfix" zfix
until_ok is_store zlib-fix pending
config ""
systemctl reload $U
until_ok is_store zlib-fix active
journal | grep -q "$CONF: reloaded" || fail "no 'reloaded' in the journal"
pid=$(main_pid)
config "" "no_such_key = 1"
systemctl reload $U
until_ok eval 'journal -p err | grep -q "not reloaded: the configuration in use stays"'
expect_eq "$(systemctl is-active $U)" active "$U after a bad reload"
expect_eq "$(main_pid)" "$pid" "the daemon's pid after a bad reload"
config ""

# --- watchdog: pings; a stopped daemon is killed and restarted
mkdir -p /run/systemd/system/$U.d
printf '[Service]\nWatchdogSec=5s\nTimeoutAbortSec=2s\n' > /run/systemd/system/$U.d/watchdog.conf
systemctl daemon-reload
systemctl reset-failed $U
systemctl restart $U || fail "$U: $(journal | tail -n 20)"
pid=$(main_pid)
ping0=$(systemctl show -P WatchdogTimestampMonotonic $U)
until_ok eval '[ "$(systemctl show -P WatchdogTimestampMonotonic $U)" != "$ping0" ]'
expect_eq "$(main_pid)" "$pid" "MainPID while it pings"
kill -STOP "$pid"
until_ok eval '[ "$(main_pid)" != "$pid" ] && [ "$(main_pid)" != 0 ] && [ "$(systemctl is-active $U)" = active ]'
journalctl -b -u $U --no-pager | grep -qi "watchdog timeout" || fail "no watchdog timeout in the journal"
rm -r /run/systemd/system/$U.d
systemctl daemon-reload
echo "ok: notify, journal, reload, watchdog, sandbox"
