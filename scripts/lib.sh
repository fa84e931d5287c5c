# SPDX-License-Identifier: GPL-2.0
# Shared by the scripts: paths and the choice of target kernel.
# shellcheck shell=bash

PL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PL_BUILD=$PL_ROOT/build

# The kernels patchlayer supports: the Linux 6.1 to 6.12 series (Debian 12's
# 6.1, the 6.6 LTS, the 6.12 of Debian 13, RHEL 10 and Debian 12's archive),
# the range module/compat.h accepts. The same expression is dkms.conf's
# BUILD_EXCLUSIVE_KERNEL (tests/pkg checks that they agree). Adding a
# kernel: docs/operators-guide.md.
PL_KERNEL_RE='^6\.([1-9]|1[0-2])\.'

pl_die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

# pl_kernel_supported RELEASE: RELEASE (uname -r) is in the supported range
pl_kernel_supported() {
	[[ $1 =~ $PL_KERNEL_RE ]]
}

# pl_kdir_kver KDIR: the release a kernel build tree (headers) is for
pl_kdir_kver() {
	sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' "$1/include/generated/utsrelease.h" 2>/dev/null
}

# pl_kdir_of RELEASE: the headers of exactly that release, by its
# /lib/modules/RELEASE/build link or Debian's /usr/src/linux-headers-RELEASE;
# fails when neither holds them. Never a pattern: 6.1* matches 6.12.
pl_kdir_of() {
	local d
	[ -n "$1" ] || return 1
	for d in "/lib/modules/$1/build" "/usr/src/linux-headers-$1"; do
		if [ "$(pl_kdir_kver "$d")" = "$1" ]; then
			realpath "$d"
			return 0
		fi
	done
	return 1
}

# pl_default_kver: the kernel "make" builds for when not told (KVER=, KDIR=):
# the running kernel when it is supported and its headers are installed (a
# real machine), else the newest supported kernel whose headers are (a build
# machine or CI running some other kernel). Empty when there is none.
pl_default_kver() {
	local rel f
	rel=$(uname -r)
	if pl_kernel_supported "$rel" && pl_kdir_of "$rel" > /dev/null; then
		echo "$rel"
		return
	fi
	for f in /lib/modules/*/build /usr/src/linux-headers-*; do
		rel=$(pl_kdir_kver "$f")
		[ -n "$rel" ] && pl_kernel_supported "$rel" && echo "$rel"
	done | sort -uV | tail -n 1
}

# pl_kdir [RELEASE]: the headers of RELEASE, or of the default kernel
pl_kdir() {
	pl_kdir_of "${1:-$(pl_default_kver)}"
}

# pl_kernels: the kernels the tests run on, one release a line, oldest
# first: $PL_KERNELS when set (releases separated by blanks), else every
# supported kernel installed whole (its /boot/vmlinuz, its modules and its
# headers), the newest release of each series (6.1, 6.12...) only: a machine
# that kept the previous 6.1.0-N after an upgrade tests the new one.
pl_kernels() {
	local v rel
	if [ -n "${PL_KERNELS:-}" ]; then
		# shellcheck disable=SC2086 # a list separated by blanks
		printf '%s\n' ${PL_KERNELS}
		return
	fi
	for v in /boot/vmlinuz-*; do
		rel=${v#/boot/vmlinuz-}
		pl_kernel_supported "$rel" && [ -d "/lib/modules/$rel/kernel" ] &&
			pl_kdir_of "$rel" > /dev/null && echo "$rel"
	done | sort -rV | awk -F. '!seen[$1 "." $2]++' | sort -V
}

# pl_series_kver SERIES: the newest installed kernel (/boot/vmlinuz and its
# modules) of SERIES ("6.1": 6.1.x, not 6.12), headers or not
pl_series_kver() {
	local v rel
	for v in /boot/vmlinuz-"$1".*; do
		rel=${v#/boot/vmlinuz-}
		[[ $rel == "$1".* ]] && [ -d "/lib/modules/$rel/kernel" ] && echo "$rel"
	done | sort -V | tail -n 1
}

# pl_module_tree RELEASE: build/kernel/RELEASE, where the module is built
# for that kernel: a tree of symbolic links to the module's sources (Kbuild,
# module/, lib/, include/), refreshed on each call, beside which Kbuild
# writes that kernel's objects, so that two kernels' builds never share
# one (an out-of-tree build writes its objects next to its sources).
pl_module_tree() {
	local tree=$PL_BUILD/kernel/$1 f
	[ -n "$1" ] || pl_die "pl_module_tree: no kernel release"
	mkdir -p "$tree" || return
	# sources gone (or moved) since the last call
	find "$tree" -xtype l -delete
	(cd "$PL_ROOT" && find Kbuild module lib include -type f \
		\( -name Kbuild -o -name '*.[ch]' \) ! -name '*.mod.c') |
		while IFS= read -r f; do
			[ -L "$tree/$f" ] && continue
			case $f in */*) mkdir -p "$tree/${f%/*}" || exit ;; esac
			ln -s "$PL_ROOT/$f" "$tree/$f" || exit
		done || return
	echo "$tree"
}

# pl_module RELEASE: the patchlayer.ko built for RELEASE ("make module KVER=RELEASE")
pl_module() {
	echo "$PL_BUILD/kernel/$1/module/patchlayer.ko"
}

# The kernel release a built module was compiled for (its vermagic).
pl_module_kver() {
	modinfo -F vermagic "$1" | cut -d' ' -f1
}
