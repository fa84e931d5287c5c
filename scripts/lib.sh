# SPDX-License-Identifier: GPL-2.0
# Shared by the scripts: paths and the choice of target kernel.
# shellcheck shell=bash

PL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PL_BUILD=$PL_ROOT/build

pl_die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

# The kernel the module targets: the running kernel when its headers are
# installed (a real Debian 12 machine), else the newest Debian 6.1 headers.
pl_kdir() {
	local build
	build=/lib/modules/$(uname -r)/build
	if [ -d "$build" ]; then
		echo "$build"
		return
	fi
	# shellcheck disable=SC2012
	ls -d /usr/src/linux-headers-6.1*-amd64 2>/dev/null | sort -V | tail -n 1
}

# The kernel release a built module was compiled for (its vermagic).
pl_module_kver() {
	modinfo -F vermagic "$1" | cut -d' ' -f1
}
