# SPDX-License-Identifier: GPL-2.0
# Helpers of the daemon tests (80-89), sourced after lib.sh.
# shellcheck shell=bash

# daemon_setup: a tmpfs /var/lib/patchlayer (inbox and store on one
# filesystem, as the daemon needs for its renames), a vendor key and a
# signed zlib layer $T/zfix, the module loaded; $CONF is the config file.
daemon_setup() {
	T=/var/lib/pl-work
	mkdir -p $T && mount -t tmpfs tmpfs $T
	mkdir -p /var/lib/patchlayer && mount -t tmpfs -o mode=0755 tmpfs /var/lib/patchlayer
	make_key "$T" vendor
	patched_zlib "$T/libz.so"
	build_layer "$T/zfix" vendor zlib-fix "26.3 (b)" "$T/libz.so=$ZLIB"
	modprobe patchlayer
	CONF=$T/patchlayer.conf
	INBOX=/var/lib/patchlayer/inbox
	STORE=/var/lib/patchlayer/layers
	mkdir -m 0755 $INBOX
	daemon_pid=
}

# daemon_config [KEY = VALUE lines...]: the config with trust and protect set
daemon_config() {
	{
		echo "trust = $T/vendor.der"
		echo "protect = $LIBDIR"
		printf '%s\n' "$@"
	} > "$CONF"
}

# daemon_start [ENV=VALUE...]: starts the daemon, waits until it is ready
daemon_start() {
	: > $T/daemon.log
	env PATCHLAYER_CONF="$CONF" "$@" "$PL" daemon >> $T/daemon.log 2>&1 &
	daemon_pid=$!
	for _ in $(seq 100); do
		grep -q "ready:" $T/daemon.log && return 0
		kill -0 $daemon_pid 2>/dev/null || fail "the daemon exited before it was ready: $(cat $T/daemon.log)"
		sleep 0.1
	done
	fail "the daemon did not get ready: $(cat $T/daemon.log)"
}

daemon_stop() {
	[ -n "${daemon_pid:-}" ] || return 0
	kill $daemon_pid 2>/dev/null || true
	# a daemon left stopped (kill -STOP, a debugger gone mid-attach) takes
	# SIGTERM only once continued: wait would never return
	kill -CONT $daemon_pid 2>/dev/null || true
	wait $daemon_pid 2>/dev/null || true
	daemon_pid=
}

# deliver SRC NAME: into the inbox the way a delivery should: copy, then rename
deliver() {
	cp -a "$1" "$INBOX/.$2.tmp"
	mv "$INBOX/.$2.tmp" "$INBOX/$2"
}

# store_state NAME: the daemon's record of the layer
store_state() {
	sed -n 's/^state=//p' "$STORE/$1.state" 2>/dev/null
}

# superseded_by NAME: the record's superseded_by once the daemon has asked
# dpkg, which it does when dpkg lets go of its database (up to 60 s: its
# queries read dpkg's whole database, slowly over the guest's 9p)
superseded_by() {
	for _ in $(seq 600); do
		grep -q '^superseded_by=.' "$STORE/$1.state" 2> /dev/null && break
		sleep 0.1
	done
	sed -n 's/^superseded_by=//p' "$STORE/$1.state" 2> /dev/null
}

# wait_store NAME STATE [TENTHS]: the store says STATE within TENTHS/10 s (default 2 s)
wait_store() {
	for _ in $(seq "${3:-20}"); do
		[ "$(store_state "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	fail "store: $1 is '$(store_state "$1")', expected $2; daemon log: $(tail -n 20 $T/daemon.log)"
}

daemon_cleanup() {
	daemon_stop
	"$PL" bpf unload > /dev/null 2>&1 || true
	for l in "$SYSFS"/layers/*/state; do
		[ -e "$l" ] && echo drop > "$l" 2>/dev/null
	done
	findmnt -n -t patchlayer -o TARGET | sort -r | xargs -r -n 1 umount -l 2>/dev/null || true
}
