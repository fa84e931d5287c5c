# SPDX-License-Identifier: GPL-2.0
# Helpers for the VM tests (sourced; they run as root in the test VM).
# shellcheck shell=bash
set -eu -o pipefail

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
