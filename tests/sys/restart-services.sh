#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# restart_services: after an activation the daemon restarts the listed (or all) services still running the old libz, never itself, only inside install_window
#
# On the Debian 12 system image (scripts/sysimage), patchlayer installed and
# run by systemd as patchlayer.service. Two test services, pl-svc-a and
# pl-svc-b, are python3 sleepers that map the system libz; each phase starts
# them on the base libz, then the zlib layer is activated:
#   list  (restart_services = pl-svc-a.service, the layer delivered to the
#         inbox): a gets a new MainPID that maps the layer's file; b keeps
#         its pid and still maps the base, and the log says why;
#   no:   both keep their pids and the base;
#   all:  both are restarted onto the layer's file; patchlayer.service,
#         which maps libz too, is not (its pid stays, the log says why);
#   window (list form, install_window opening at the next minute, the layer
#         installed by the administrator's "patchlayer install" while it is
#         closed): nothing is restarted until the window opens, then a is.
# Everything is checked on real pids and /proc/PID/maps (device and inode
# of the layer's file against the base's, from layers/NAME/files).
#
# While restart_services may restart "all", this job's own unit
# (plvm-job.service) must not run libz: the layer is activated by a delivery
# (cp and mv), and the waits use only tools that do not link libz.
set -eu -o pipefail

if [ -z "${PLVM_BOOT:-}" ]; then
	cd "$(dirname "$0")/../.."
	. scripts/lib.sh
	W=$PL_BUILD/sys/restart-services
	rm -rf "$W" && mkdir -p "$W"
	# the module for the image's kernel, whichever make would build by default
	make -s install-userspace install-module DESTDIR="$W/root" PREFIX=/usr \
		KVER="${KVER:-$(scripts/sysimage --print-kver)}" > "$W/install.log"
	PLVM_ROOT=$PL_ROOT
	. tests/vm/lib.sh
	make_key "$W" vendor
	patched_zlib "$W/libz.so"
	build_layer "$W/zfix" vendor zlib-fix "26.3 (b)" "$W/libz.so=$ZLIB"
	exec scripts/vm --timeout "${PL_VM_TIMEOUT:-900}" --sysimage "$0"
fi

. "$PLVM_ROOT/tests/vm/lib.sh"
. "$PLVM_ROOT/tests/vm/bpflib.sh"
W=$PLVM_ROOT/build/sys/restart-services
PL=/usr/sbin/patchlayer
CONF=/etc/patchlayer/patchlayer.conf
STORE=/var/lib/patchlayer/layers
INBOX=/var/lib/patchlayer/inbox
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

main_pid() { # UNIT
	systemctl show -P MainPID "$1"
}

# maps PID: "patched", "stale" or "none": what its executable libz mapping is
maps() {
	awk -v f="$file_id" -v b="$base_id" '$2 ~ /x/ {
		id = $4 " " $5
		if (id == f) { print "patched"; found = 1; exit }
		if (id == b) { print "stale"; found = 1; exit }
	} END { if (!found) print "none" }' "/proc/$1/maps"
}

# log_since N: the store's history after its first N lines
log_since() {
	tail -n +"$(($1 + 1))" "$STORE/.log" 2>/dev/null || true
}

log_lines() {
	if [ -f "$STORE/.log" ]; then wc -l < "$STORE/.log"; else echo 0; fi
}

# wait_restarted UNIT OLDPID TENTHS: a new MainPID, running, within TENTHS/10 s
wait_restarted() {
	local pid
	for _ in $(seq "$3"); do
		pid=$(main_pid "$1")
		if [ "$pid" != 0 ] && [ "$pid" != "$2" ] && [ -r "/proc/$pid/maps" ] &&
		   [ "$(maps "$pid")" != none ]; then
			echo "$pid"
			return 0
		fi
		sleep 0.1
	done
	fail "$1 was not restarted (MainPID $(main_pid "$1"), was $2); log: $(log_since 0 | tail -n 10)"
}

config() { # RESTART_SERVICES [INSTALL_WINDOW]
	cat > $CONF <<-EOF
		auto_install = yes
		install_window = ${2:-}
		protect = $LIBDIR
		trust = /etc/patchlayer/vendor.der
		restart_services = $1
	EOF
}

deliver() { # SRC NAME: copy, then rename, as a delivery should
	cp -a "$1" "$INBOX/.$2.tmp"
	mv "$INBOX/.$2.tmp" "$INBOX/$2"
}

# phase RESTART_SERVICES [INSTALL_WINDOW]: the layer removed, both services
# started on the base libz, the daemon restarted with that configuration
phase() {
	if [ -d $STORE/zlib-fix ]; then
		expect_rc 0 $PL remove zlib-fix
	fi
	[ ! -e $SYSFS/layers/zlib-fix ] || fail "zlib-fix still loaded"
	systemctl restart pl-svc-a.service pl-svc-b.service
	config "$@"
	systemctl restart patchlayer.service || fail "patchlayer.service: $(journal)"
	a0=$(main_pid pl-svc-a.service) b0=$(main_pid pl-svc-b.service)
	d0=$(main_pid patchlayer.service)
	[ "$a0" != 0 ] && [ "$b0" != 0 ] && [ "$d0" != 0 ] || fail "a service is not running: $a0 $b0 $d0"
	# python3 maps libz when it starts: wait for both to have it mapped
	for _ in $(seq 100); do
		grep -q libz "/proc/$a0/maps" && grep -q libz "/proc/$b0/maps" && break
		sleep 0.1
	done
	log0=$(log_lines)
}

# after_activation: the layer's inodes; both services still on the base
after_activation() {
	layer_inodes zlib-fix
	[ "$file_id" != "$base_id" ] || fail "layer file and base are the same inode"
	expect_eq "$(maps "$d0")" stale "patchlayer.service's own libz (pid $d0)"
}

# --- install, as "make install" lays it out
tar -C "$W/root" -c . | tar -C / -x --keep-directory-symlink --no-same-owner
depmod -a "$kver"
install -m 0644 "$W/vendor.der" /etc/patchlayer/vendor.der
for s in a b; do
	cat > /etc/systemd/system/pl-svc-$s.service <<-UNIT
		[Unit]
		Description=a service that runs the system libz ($s)

		[Service]
		ExecStart=/usr/bin/python3 -c 'import zlib, time; time.sleep(100000)'
	UNIT
done
systemctl daemon-reload
systemctl start pl-svc-a.service pl-svc-b.service

# --- list: only pl-svc-a, after a delivery the daemon activates by itself
phase pl-svc-a.service
deliver "$W/zfix" zfix
wait_store zlib-fix active
after_activation
a1=$(wait_restarted pl-svc-a.service "$a0" 100)
expect_eq "$(maps "$a1")" patched "pl-svc-a's new MainPID $a1"
sleep 2
expect_eq "$(main_pid pl-svc-b.service)" "$b0" "pl-svc-b's MainPID (not listed)"
expect_eq "$(maps "$b0")" stale "pl-svc-b (pid $b0)"
expect_eq "$(main_pid patchlayer.service)" "$d0" "patchlayer.service's MainPID"
log=$(log_since "$log0")
expect_match "$log" "zlib-fix restart_services: restarted pl-svc-a.service \(pid $a0 ran its old files\)" "log"
expect_match "$log" "zlib-fix restart_services: kept pl-svc-b.service \(pid $b0 runs its old files\): not in restart_services" "log"
expect_match "$log" "kept patchlayer.service \(pid $d0 runs its old files\): patchlayer's own unit" "log"
[ "$(grep -c 'restarted' <<< "$log")" = 1 ] || fail "more than one restart: $log"
expect_rc 0 $PL -j layers
expect_match "$out" '"name":"zlib-fix"[^}]*"restarts":"[^"]*restarted pl-svc-a.service' "layers -j"
# once per activation: another event (SIGHUP reconciles everything) restarts nothing
systemctl kill -s HUP patchlayer.service
sleep 2
expect_eq "$(main_pid pl-svc-a.service)" "$a1" "pl-svc-a after another event"
expect_eq "$(main_pid pl-svc-b.service)" "$b0" "pl-svc-b after another event"
echo "list: pl-svc-a $a0 -> $a1 (patched), pl-svc-b $b0 kept (stale), patchlayer.service $d0 kept"

# --- no: nothing restarted
phase no
deliver "$W/zfix" zfix
wait_store zlib-fix active
after_activation
sleep 4
expect_eq "$(main_pid pl-svc-a.service)" "$a0" "pl-svc-a's MainPID with restart_services = no"
expect_eq "$(main_pid pl-svc-b.service)" "$b0" "pl-svc-b's MainPID with restart_services = no"
expect_eq "$(maps "$a0")" stale "pl-svc-a with restart_services = no"
expect_eq "$(maps "$b0")" stale "pl-svc-b with restart_services = no"
if log_since "$log0" | grep restart_services; then
	fail "restart_services = no logged restarts"
fi
echo "no: pl-svc-a $a0, pl-svc-b $b0 kept"

# --- all: both, never patchlayer.service itself
phase all
deliver "$W/zfix" zfix
wait_store zlib-fix active
after_activation
a1=$(wait_restarted pl-svc-a.service "$a0" 100)
b1=$(wait_restarted pl-svc-b.service "$b0" 100)
expect_eq "$(maps "$a1")" patched "pl-svc-a's new MainPID $a1"
expect_eq "$(maps "$b1")" patched "pl-svc-b's new MainPID $b1"
expect_eq "$(main_pid patchlayer.service)" "$d0" "patchlayer.service's MainPID"
expect_eq "$(systemctl is-active patchlayer.service)" active "patchlayer.service"
log=$(log_since "$log0")
expect_match "$log" "restarted pl-svc-a.service" "log"
expect_match "$log" "restarted pl-svc-b.service" "log"
expect_match "$log" "kept patchlayer.service \(pid $d0 runs its old files\): patchlayer's own unit" "log"
if grep -E "kept .*\.scope.*: not in|restarted .*\.scope|restarted patchlayer" <<< "$log"; then
	fail "a scope or patchlayer itself was restarted or judged as a service: $log"
fi
echo "all: pl-svc-a $a0 -> $a1, pl-svc-b $b0 -> $b1, patchlayer.service $d0 kept"

# --- window: closed at activation, so only when it opens. It opens at the
# next full minute, at least 15 s from now, for 5 minutes
now=$(date +%s)
start=$(( (now + 15 + 59) / 60 * 60 ))
e=$(( (start / 60 + 5) % 1440 ))
phase pl-svc-a.service "$(date -d "@$start" +%H:%M)-$(printf '%02d:%02d' $((e / 60)) $((e % 60)))"
deliver "$W/zfix" zfix
wait_store zlib-fix pending
[ "$(date +%s)" -lt "$start" ] || fail "the window opened before the test could check it closed"
expect_rc 0 $PL install zlib-fix
wait_store zlib-fix active
after_activation
sleep 2
[ "$(date +%s)" -lt "$start" ] || fail "the window opened too early for the check"
expect_eq "$(main_pid pl-svc-a.service)" "$a0" "pl-svc-a while the window is closed"
expect_eq "$(maps "$a0")" stale "pl-svc-a while the window is closed"
expect_match "$(log_since "$log0")" "zlib-fix restart_services: waiting for install_window" "log"
expect_rc 0 $PL -j layers
expect_match "$out" '"restarts":"waiting for install_window"' "layers -j"
# the daemon's window timer fires a second after the minute
a1=$(wait_restarted pl-svc-a.service "$a0" $(( (start - $(date +%s) + 20) * 10 )))
[ "$(date +%s)" -ge "$start" ] || fail "restarted before the window opened"
expect_eq "$(maps "$a1")" patched "pl-svc-a's new MainPID $a1"
expect_eq "$(main_pid pl-svc-b.service)" "$b0" "pl-svc-b's MainPID (not listed)"
expect_eq "$(main_pid patchlayer.service)" "$d0" "patchlayer.service's MainPID"
expect_match "$(log_since "$log0")" "restarted pl-svc-a.service" "log"
echo "window $(date -d "@$start" +%H:%M): pl-svc-a $a0 kept while closed, -> $a1 at $(date +%T)"
