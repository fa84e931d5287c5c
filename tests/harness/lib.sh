# SPDX-License-Identifier: GPL-2.0
# Helpers for the harness self-tests (host side; each boots the VM).
# shellcheck shell=bash
set -eu -o pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
. scripts/lib.sh

# the kernel the harness boots (tests/run passes its first kernel), with
# the module "make module KVER=..." built for it
kver=${PL_KVER:-$(pl_default_kver)}
[ -n "$kver" ] || { echo "FAIL: no supported kernel (run scripts/setup)" >&2; exit 1; }

work=$(mktemp -d "$PL_BUILD/harness.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# guest_script NAME BODY: a script the VM can run (the host's /tmp is not shared)
guest_script() {
	printf '%s\n' "$2" > "$work/$1"
	echo "$work/$1"
}
