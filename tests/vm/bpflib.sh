# SPDX-License-Identifier: GPL-2.0
# Helpers of the BPF tests (70-79), sourced after lib.sh.
# shellcheck shell=bash

# bpf_zlib_setup: the module with the zlib layer zlib-fix loaded (not
# active) from a tmpfs store $T, whose inodes the mappings name as is
bpf_zlib_setup() {
	T=/var/lib/pl-store
	mkdir -p $T && mount -t tmpfs tmpfs $T
	make_key "$T" vendor
	patched_zlib "$T/libz.so"
	build_layer "$T/zfix" vendor zlib-fix "26.3 (b)" "$T/libz.so=$ZLIB"
	modprobe patchlayer
	expect_write OK $SYSFS/trust --bytes-from "$T/vendor.der"
	expect_write OK $SYSFS/load "$T/zfix"
}

# bpf_cleanup: the BPF side unloaded (it holds the module), directories uncovered
bpf_cleanup() {
	"$PL" bpf unload > /dev/null 2>&1 || true
	for l in "$SYSFS"/layers/*/state; do
		[ -e "$l" ] && echo drop > "$l" 2>/dev/null
	done
	findmnt -n -t patchlayer -o TARGET | sort -r | xargs -r -n 1 umount -l 2>/dev/null || true
}

# maps_dev MAJOR:MINOR:INODE: "maj:min inode" as /proc/PID/maps prints them
maps_dev() {
	local ma mi ino
	IFS=: read -r ma mi ino <<< "$1"
	printf '%02x:%02x %s\n' "$ma" "$mi" "$ino"
}

# layer_inodes LAYER: sets file_id and base_id ("maj:min inode", maps style)
# from the first line of layers/LAYER/files
layer_inodes() {
	local line
	line=$(head -n 1 "$SYSFS/layers/$1/files")
	file_id=$(maps_dev "$(awk '{ print $(NF - 1) }' <<< "$line")")
	base_id=$(maps_dev "$(awk '{ print $NF }' <<< "$line")")
}

# proc_scan FILE_ID BASE_ID: "pid patched|stale" for every process that
# maps either executable, the way needrestart looks, but by the mapped file
# itself (exec-maps.py). The replacement, on the tmpfs store, by device and
# inode; the base by inode: stat names the VM root's overlayfs device, the
# kernel the 9p one beneath.
proc_scan() {
	python3 "$PLVM_ROOT/tests/vm/exec-maps.py" | awk -v f="$1" -v b="${2#* }" '{
		if ($2 " " $3 == f) print $1, "patched"
		else if ($3 == b) print $1, "stale"
	}' | sort -u
}

# usage_scan [LAYER]: "pid patched|stale" from patchlayer -j usage
usage_scan() {
	"$PL" -j usage "$@" | python3 -c '
import json, sys
for l in json.load(sys.stdin)["layers"]:
    for kind in ("patched", "stale"):
        for p in l.get(kind, []):
            print(p["pid"], kind)' | sort -u
}

# zlib_sleeper OUT: a python3 that maps libz, prints its zlib version to
# OUT and sleeps; its pid is appended to $sleepers
sleepers=
zlib_sleeper() {
	python3 -c 'import zlib, time; print(zlib.ZLIB_RUNTIME_VERSION, flush=True); time.sleep(600)' > "$1" &
	sleepers="$sleepers $!"
	for _ in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.1; done
	fail "python3 did not start"
}
