# SPDX-License-Identifier: GPL-2.0
# Helpers for the VM tests (sourced; they run as root in the test VM).
# shellcheck shell=bash
set -eu -o pipefail
# a command that stops a test under set -e says which one it was
trap 'echo "FAIL: ${BASH_SOURCE[0]##*/}:$LINENO: $BASH_COMMAND (exit $?)" >&2' ERR

PL=${PL:-$PLVM_ROOT/build/userspace/patchlayer}
BPF_OBJ_DIR=${BPF_OBJ_DIR:-$PLVM_ROOT/build/bpf}
SYSFS=/sys/kernel/patchlayer
TRACEFS=/sys/kernel/tracing

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# expect_rc WANT CMD...: CMD exits with WANT; its output is kept in $out.
expect_rc() {
	local want=$1 rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want; output: $out"
}

expect_eq() {
	[ "$1" = "$2" ] || fail "${3:-value}: got '$1', expected '$2'"
}

expect_match() {
	grep -qE -- "$2" <<< "$1" || fail "${3:-output} does not match /$2/: $1"
}

module_unload() {
	if [ -d /sys/module/patchlayer ]; then
		modprobe -r patchlayer
	fi
}

# sysfs_write FILE STRING | FILE --bytes-from SRC: prints OK or the errno name
sysfs_write() {
	python3 "$PLVM_ROOT/tests/vm/sysfs-write.py" "$@"
}

# expect_write ERRNO|OK FILE ARGS...: the write gives that result
expect_write() {
	local want=$1 got
	shift
	got=$(sysfs_write "$@")
	[ "$got" = "$want" ] || fail "write ${*:2} to $1: got $got, expected $want"
}

# make_key DIR NAME: a throwaway RSA key and self-signed certificate,
# DIR/NAME.key, DIR/NAME.pem and DIR/NAME.der
make_key() {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1/$2.key" -out "$1/$2.pem" \
		-subj "/CN=patchlayer test $2" -days 30 2>/dev/null
	openssl x509 -in "$1/$2.pem" -outform DER -out "$1/$2.der"
}

ZLIB=/usr/lib/x86_64-linux-gnu/libz.so.1.2.13

# The fixed libz: Debian's zlib source rebuilt by scripts/zlib-layer on the
# host (the guest has no network) with only its version string changed.
ZLIB_FIXED=$PLVM_ROOT/build/zlib/libz.so.1.2.13
ZLIB_FIXED_VERSION=1.2.13-patchlayer

# patched_zlib OUT: a copy of the fixed libz; zlibVersion() reports
# $ZLIB_FIXED_VERSION, its ABI is the base's
patched_zlib() {
	[ -f "$ZLIB_FIXED" ] || fail "no $ZLIB_FIXED: run scripts/zlib-layer on the host"
	cp "$ZLIB_FIXED" "$1"
}

# testlib_deb OUTDIR VERSION CONTENT TARGET: builds OUTDIR/pl-testlib_VERSION.deb,
# a package "pl-testlib" that installs the file CONTENT as TARGET (the
# base a package update replaces, in the supersede tests); prints its path
testlib_deb() {
	local root=$1/pkg-$2
	mkdir -p "$root/DEBIAN" "$root$(dirname "$4")"
	cp "$3" "$root$4"
	cat > "$root/DEBIAN/control" <<CTL
Package: pl-testlib
Version: $2
Architecture: all
Maintainer: patchlayer tests <tests@example.invalid>
Description: a library for the patchlayer supersede tests
CTL
	dpkg-deb --root-owner-group -b "$root" "$1/pl-testlib_$2.deb" > /dev/null
	echo "$1/pl-testlib_$2.deb"
}

# build_layer DIR KEYNAME NAME VERSION [FILE=TARGET...]: a signed layer
build_layer() {
	local out=$1 keydir key=$2 name=$3 version=$4
	keydir=$(dirname "$out")
	shift 4
	"$PL" build --name "$name" --version "$version" --key "$keydir/$key.key" \
		--cert "$keydir/$key.pem" -o "$out" "$@" > /dev/null
}

# no_layers: /sys/kernel/patchlayer/layers is empty
no_layers() {
	[ -z "$(ls -A $SYSFS/layers)" ] || fail "layers left behind: $(ls $SYSFS/layers)"
}

# writable FILE: nobody holds FILE write-denied
writable() {
	python3 -c 'import sys; open(sys.argv[1], "r+b").close()' "$1" ||
		fail "$1 is still write-denied"
}

slab_kb() {
	awk '/^Slab:/ { print $2 }' /proc/meminfo
}

# The debug kernel of scripts/debug-kernel: KASAN's quarantine holds freed
# objects back there, so slab counts mean nothing; its kmemleak scan after
# the suite (tests/vm/debug-run) judges leaks instead.
debug_kernel() {
	[ -e /sys/kernel/debug/kmemleak ]
}

# slab_check BEFORE AFTER LIMIT_KB WHAT: fails when slab grew by LIMIT_KB or
# more over WHAT (but on the debug kernel)
slab_check() {
	echo "slab: $1 kB before, $2 kB after $4"
	if debug_kernel; then
		echo "(debug kernel: kmemleak judges leaks, not the slab count)"
		return 0
	fi
	[ $(($2 - $1)) -lt "$3" ] || fail "slab grew by $(($2 - $1)) kB over $4"
}

# Frees what the kernel caches lazily, so slab counts compare.
settle() {
	sync
	echo 3 > /proc/sys/vm/drop_caches
	sleep 1
}

LIBDIR=/usr/lib/x86_64-linux-gnu

# make_libdir DIR: a scratch library directory with a few real libraries
make_libdir() {
	mkdir -p "$1"
	cp "$ZLIB" "$1/libdemo.so.1.0"
	cp "$LIBDIR/libcap.so.2.66" "$1/libother.so.1.0"
	ln -sf libdemo.so.1.0 "$1/libdemo.so.1"
	echo "notes" > "$1/README"
}

# snapshot DIR: every entry's name, type, mode, size, inode and link target
snapshot() {
	(cd "$1" && find . -mindepth 1 -maxdepth 1 -printf '%p %y %m %s %i %l\n' | sort)
}

layer_state() {
	cat "$SYSFS/layers/$1/state"
}

# wait_state LAYER STATE: the state is reached within 5 seconds
wait_state() {
	for _ in $(seq 50); do
		[ "$(layer_state "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	fail "layer $1 is $(layer_state "$1"), expected $2"
}

# maps_of PID FILE-SUBSTRING: "major:minor inode" of the file of the first
# such executable mapping, from the mapped file itself (exec-maps.py says
# why not from /proc/PID/maps)
maps_of() {
	python3 "$PLVM_ROOT/tests/vm/exec-maps.py" "$1" |
		awk -v s="$2" 'index($4, s) { print $2, $3; exit }'
}

# mapped_sha256 PID NAME: sha256 of the file PID maps executable whose path
# ends in NAME, read through /proc/PID/map_files: the bytes the process
# runs, whichever name served them. Waits 5 s for the mapping.
mapped_sha256() {
	local range
	for _ in $(seq 50); do
		range=$(awk -v n="$2" '$2 ~ /x/ && substr($6, length($6) - length(n) + 1) == n { print $1; exit }' \
			"/proc/$1/maps")
		[ -n "$range" ] && break
		sleep 0.1
	done
	[ -n "$range" ] || fail "pid $1 maps no $2: $(cat "/proc/$1/maps")"
	sha256sum "/proc/$1/map_files/$range" | cut -d' ' -f1
}

# maps_ino PID FILE-SUBSTRING: the inode of the first such mapping. (Files
# of the guest's overlayfs root map their 9p inode: only the number matches.)
maps_ino() {
	maps_of "$1" "$2" | cut -d' ' -f2
}

# devino FILE: "major:minor inode" as /proc/PID/maps prints them
devino() {
	local dev ino
	read -r dev ino < <(stat -c '%D %i' "$1") || fail "stat $1"
	dev=$((16#$dev))
	# glibc's dev_t encoding: 12 bits of major, 20 of minor, split
	printf '%02x:%02x %s\n' $(( ((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfff) )) \
		$(( (dev & 0xff) | ((dev >> 12) & ~0xff) )) "$ino"
}
