# dpkg-buildpackage builds patchlayer and patchlayer-dkms out of tree; lintian finds no error; the man pages render; DKMS builds the packaged module
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
set -eu -o pipefail

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
. scripts/lib.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/pl-pkg.XXXXXX")
trap 'rm -rf "$work"' EXIT

version=$(sed -n 's/^#define PATCHLAYER_VERSION "\(.*\)"/\1/p' module/patchlayer.h)
[ "$(dpkg-parsechangelog -S Version)" = "$version" ] ||
	fail "debian/changelog is at $(dpkg-parsechangelog -S Version), the module at $version"

# The tree's fingerprint, names and contents (uncommitted changes included):
# a run that built and checked the packages of this very tree leaves it in
# build/pkg/tree. With PL_PKG_REUSE=1 (tests/run's sys suite, whose
# deb-reboot.sh comes after its pkg suite) those packages are taken as they
# are rather than built and checked a second time, two minutes.
tree_id=$(git ls-files -co --exclude-standard -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
if [ "${PL_PKG_REUSE:-}" = 1 ] && [ "$(cat build/pkg/tree 2>/dev/null)" = "$tree_id" ] &&
	[ -f "build/pkg/patchlayer_${version}_amd64.deb" ] && [ -f "build/pkg/patchlayer-dkms_${version}_all.deb" ]; then
	echo "the packages of this very tree were built and checked by an earlier run: build/pkg ($tree_id)"
	exit 0
fi
rm -f build/pkg/tree

# the tree as it is (uncommitted changes included), without build products
src=$work/patchlayer-$version
mkdir "$src"
git ls-files -co --exclude-standard | tar -cf - -T - | tar -xf - -C "$src"
before=$(git status --porcelain)
(cd "$src" && dpkg-buildpackage -us -uc) > "$work/build.log" 2>&1 ||
	fail "dpkg-buildpackage: $(tail -n 30 "$work/build.log")"
[ "$(git status --porcelain)" = "$before" ] || fail "the package build changed the repository"

deb=$work/patchlayer_${version}_amd64.deb
dkmsdeb=$work/patchlayer-dkms_${version}_all.deb
[ -f "$deb" ] && [ -f "$dkmsdeb" ] || fail "missing packages: $(ls "$work")"

# lintian: no error (warnings and the documented overrides are allowed)
lintian --fail-on error --info "$work/patchlayer_${version}_amd64.changes" > "$work/lintian.log" 2>&1 ||
	fail "lintian: $(grep -v '^N:' "$work/lintian.log")"
! grep -q '^E:' "$work/lintian.log" || fail "lintian errors: $(grep '^E:' "$work/lintian.log")"
cat "$work/lintian.log"

# what each package holds
contents=$(dpkg-deb -c "$deb" | awk '{ print $6 }')
for f in ./usr/sbin/patchlayer ./etc/patchlayer/patchlayer.conf ./usr/share/man/man8/patchlayer.8.gz \
	./usr/share/man/man5/patchlayer.conf.5.gz ./usr/lib/modules-load.d/patchlayer.conf \
	./usr/share/bash-completion/completions/patchlayer; do
	grep -qxF "$f" <<< "$contents" || fail "patchlayer has no $f"
done
dpkg-deb -e "$deb" "$work/ctl"
grep -qx /etc/patchlayer/patchlayer.conf "$work/ctl/conffiles" || fail "the configuration is not a conffile"
! grep -q '^\./usr/src/' <<< "$contents" || fail "patchlayer carries module source"

# the manual pages as the package installs them render, without a groff warning
dpkg-deb -x "$deb" "$work/root"
for page in man8/patchlayer.8 man5/patchlayer.conf.5; do
	MANWIDTH=80 man --warnings -l "$work/root/usr/share/man/$page.gz" > "$work/man.txt" 2> "$work/man.err" ||
		fail "man $page: $(cat "$work/man.err")"
	[ ! -s "$work/man.err" ] || fail "man $page: $(cat "$work/man.err")"
	head -n 1 "$work/man.txt" | grep -qE '^PATCHLAYER(\.CONF)?\([58]\) ' || fail "man $page: $(head -n 3 "$work/man.txt")"
done

dpkg-deb -x "$dkmsdeb" "$work/dkms-root"
dpkg-deb -e "$dkmsdeb" "$work/dkms-ctl"
usrc=$work/dkms-root/usr/src/patchlayer-$version
grep -qx "PACKAGE_VERSION=\"$version\"" "$usrc/dkms.conf" || fail "dkms.conf: $(cat "$usrc/dkms.conf")"
grep -q 'dkms' "$work/dkms-ctl/postinst" || fail "patchlayer-dkms's postinst does not run dkms"
grep -q '^Depends:.*dkms' "$work/dkms-ctl/control" || fail "patchlayer-dkms does not depend on dkms"

# DKMS builds the packaged source for every kernel the tests run on
# (pl_kernels: 6.1 and 6.12), in a private tree (the machine's /var/lib/dkms
# is left alone), and skips an unsupported kernel naming the reason: its
# BUILD_EXCLUSIVE_KERNEL, the supported range of scripts/lib.sh
grep -qxF "BUILD_EXCLUSIVE_KERNEL=\"$PL_KERNEL_RE\"" "$usrc/dkms.conf" ||
	fail "dkms.conf's BUILD_EXCLUSIVE_KERNEL is not scripts/lib.sh's PL_KERNEL_RE ($PL_KERNEL_RE): $(grep BUILD_EXCLUSIVE "$usrc/dkms.conf")"
mkdir "$work/dkms"
dkms add -m patchlayer -v "$version" --sourcetree "$work/dkms-root/usr/src" \
	--dkmstree "$work/dkms" > "$work/dkms.log" 2>&1 || fail "dkms add: $(cat "$work/dkms.log")"
mapfile -t kernels < <(pl_kernels)
[ ${#kernels[@]} -gt 0 ] || fail "no supported kernel installed (run scripts/setup)"
for kver in "${kernels[@]}"; do
	kdir=$(pl_kdir_of "$kver") || fail "no headers of $kver"
	dkms build -m patchlayer -v "$version" -k "$kver" --kernelsourcedir "$kdir" \
		--sourcetree "$work/dkms-root/usr/src" --dkmstree "$work/dkms" > "$work/dkms-$kver.log" 2>&1 ||
		fail "dkms build for $kver: $(tail -n 40 "$work/dkms-$kver.log")"
	ko=$(find "$work/dkms/patchlayer/$version/$kver" -name 'patchlayer.ko*' | head -n 1)
	[ -n "$ko" ] || fail "dkms built no module for $kver: $(cat "$work/dkms-$kver.log")"
	[ "$(modinfo -F version "$ko")" = "$version" ] || fail "the DKMS module's version is $(modinfo -F version "$ko")"
	[ "$(pl_module_kver "$ko")" = "$kver" ] || fail "the DKMS module is for $(pl_module_kver "$ko"), not $kver"
	echo "dkms built $ko"
done
# the releases either side of the range, and one inside that the tests do
# not boot: the expression in dkms.conf as DKMS evaluates it
(
	set +u	# it names DKMS's variables (kernel_source_dir...)
	# shellcheck source=/dev/null
	. "$usrc/dkms.conf"
	for k in 6.0.0-1-amd64 6.13.0-1-amd64 7.0.0 5.10.0-30-amd64 6.10.0-1-amd64; do
		if [[ $k =~ $BUILD_EXCLUSIVE_KERNEL ]]; then echo "$k: built"; else echo "$k: skipped"; fi
	done
) > "$work/exclusive.txt"
printf '%s\n' "6.0.0-1-amd64: skipped" "6.13.0-1-amd64: skipped" "7.0.0: skipped" \
	"5.10.0-30-amd64: skipped" "6.10.0-1-amd64: built" | diff -u - "$work/exclusive.txt" ||
	fail "BUILD_EXCLUSIVE_KERNEL does not give the supported range"
# and DKMS itself skips one (exit 77), saying why, without its headers
rc=0
dkms build -m patchlayer -v "$version" -k 6.13.0-1-amd64 --sourcetree "$work/dkms-root/usr/src" \
	--dkmstree "$work/dkms" > "$work/dkms-excluded.log" 2>&1 || rc=$?
{ [ "$rc" = 77 ] && grep -q 'BUILD_EXCLUSIVE' "$work/dkms-excluded.log"; } ||
	fail "dkms build for 6.13.0-1-amd64 exited $rc, expected 77 naming BUILD_EXCLUSIVE: $(cat "$work/dkms-excluded.log")"
cat "$work/dkms-excluded.log"

# kept for the VM test that installs them (tests/vm/85-deb-install.sh)
mkdir -p build/pkg
rm -f build/pkg/*.deb
cp "$deb" "$dkmsdeb" build/pkg/
echo "$tree_id" > build/pkg/tree
