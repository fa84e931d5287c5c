# build --from-deb, package and deliver, with packages made here by dpkg-deb
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

command -v dpkg-deb > /dev/null || fail "dpkg-deb is not installed"
gen_key vendor
L=/usr/lib/x86_64-linux-gnu

# mkdeb NAME VERSION DIR: a binary package of DIR's tree, $work/NAME_VERSION.deb
mkdeb() {
	mkdir -p "$3/DEBIAN"
	printf '%s\n' "Package: $1" "Version: $2" "Architecture: amd64" "Source: demo" \
		"Maintainer: T <t@example.org>" "Description: test" > "$3/DEBIAN/control"
	dpkg-deb --root-owner-group -b "$3" "$work/$1_$2.deb" > /dev/null
}

# the base: a library with its SONAME link, an engine in a subdirectory,
# an unchanged plugin and documentation
tree() { # DIR WORD
	mkdir -p "$1$L/engines-3" "$1$L/plugins" "$1/usr/share/doc/libdemo1"
	echo "libdemo $2" > "$1$L/libdemo.so.1.0"
	ln -s libdemo.so.1.0 "$1$L/libdemo.so.1"
	echo "engine $2" > "$1$L/engines-3/fast.so"
	echo "plugin, never changed" > "$1$L/plugins/same.so"
	echo "docs $2" > "$1/usr/share/doc/libdemo1/README"
}
tree "$work/t-base" base
mkdeb libdemo1 1.0-1 "$work/t-base"
tree "$work/t-fixed" fixed
mkdeb libdemo1 1.0-1+sec1 "$work/t-fixed"

build() { # DIR OPTION...
	local dir=$1
	shift
	"$PL" build --name demo-sec1 --key "$work/vendor.key" --cert "$work/vendor.pem" -o "$dir" "$@"
}

# --- the differing library files, subdirectories too; links, docs and the rest left out
expect_rc 0 build "$work/l1" --advisory DSA-5999-1 --advisory CVE-2026-12345 \
	--from-deb "$work/libdemo1_1.0-1+sec1.deb" --base-deb "$work/libdemo1_1.0-1.deb"
printf '%s\n' "format: patchlayer/1" "name: demo-sec1" "version: 1.0-1+sec1" \
	"source: demo 1.0-1+sec1" "package: libdemo1 base=1.0-1 fixed=1.0-1+sec1" \
	"advisory: CVE-2026-12345 DSA-5999-1" \
	"file: $L/engines-3/fast.so sha256=$(sha256 "$work/t-fixed$L/engines-3/fast.so") size=13 base=$(sha256 "$work/t-base$L/engines-3/fast.so")" \
	"file: $L/libdemo.so.1.0 sha256=$(sha256 "$work/t-fixed$L/libdemo.so.1.0") size=14 base=$(sha256 "$work/t-base$L/libdemo.so.1.0")" \
	> "$work/expected"
cmp "$work/l1/manifest" "$work/expected" || fail "manifest: $(diff "$work/expected" "$work/l1/manifest")"
expect_rc 0 "$PL" -j verify --cert "$work/vendor.pem" --no-base "$work/l1"
json_check "$out" 'assert d["ok"]; assert d["source"] == {"package": "demo", "version": "1.0-1+sec1"}
assert d["packages"] == [{"package": "libdemo1", "base": "1.0-1", "fixed": "1.0-1+sec1"}]
assert d["advisories"] == ["CVE-2026-12345", "DSA-5999-1"]'
ls /tmp/patchlayer-debs.* > /dev/null 2>&1 && fail "build left its extraction directory"

# --- the installed system as the base: its dpkg database and files
root=$work/root
cp -a "$work/t-base" "$root"
rm -rf "$root/DEBIAN"
mkdir -p "$root/var/lib/dpkg/info"
printf '%s\n' "Package: libdemo1" "Status: install ok installed" "Version: 1.0-1" \
	"Architecture: amd64" "Maintainer: T <t@example.org>" "Description: test" "" \
	> "$root/var/lib/dpkg/status"
(cd "$root" && find . ! -path ./var\* ! -name . | sed 's|^\.||') > "$root/var/lib/dpkg/info/libdemo1.list"
expect_rc 0 build "$work/l2" --from-deb "$work/libdemo1_1.0-1+sec1.deb" --base-root "$root"
expect_rc 0 diff <(grep -v '^advisory' "$work/expected") "$work/l2/manifest"
# a base that is not the packaged one (changed by hand) is read as it is
echo "changed" > "$root$L/plugins/same.so"
expect_rc 0 build "$work/l3" --from-deb "$work/libdemo1_1.0-1+sec1.deb" --base-root "$root"
expect_match "$(cat "$work/l3/manifest")" "^file: $L/plugins/same.so " "the changed base's replacement"

# --- a fixed package that adds, removes or renames a library file: refused, each named
cp -a "$work/t-fixed" "$work/t-bad"
echo new > "$work/t-bad$L/engines-3/added.so"
rm "$work/t-bad$L/plugins/same.so"
ln -sfn libdemo.so.1.1 "$work/t-bad$L/libdemo.so.1"
mkdeb libdemo1 1.0-1+sec2 "$work/t-bad"
expect_rc 4 build "$work/bad" --from-deb "$work/libdemo1_1.0-1+sec2.deb" --base-deb "$work/libdemo1_1.0-1.deb"
expect_line "$err" "patchlayer: build: $L/engines-3/added.so is added by the fixed package"
expect_line "$err" "patchlayer: build: $L/plugins/same.so is removed by the fixed package"
expect_line "$err" "patchlayer: build: $L/libdemo.so.1 is renamed: a symlink to libdemo.so.1.0 in the base, to libdemo.so.1.1 in the fixed package"
expect_nothing_written "$work/bad"
# a library that became a symlink (to bytes elsewhere) is no replacement
cp -a "$work/t-fixed" "$work/t-link"
rm "$work/t-link$L/engines-3/fast.so"
ln -s ../libdemo.so.1.0 "$work/t-link$L/engines-3/fast.so"
mkdeb libdemo1 1.0-1+sec3 "$work/t-link"
expect_rc 4 build "$work/bad" --from-deb "$work/libdemo1_1.0-1+sec3.deb" --base-deb "$work/libdemo1_1.0-1.deb"
expect_match "$err" "engines-3/fast.so is a symlink in the fixed package and a regular file in the base"
# a downgrade is no fix; the base must be the fixed package's
expect_rc 1 build "$work/bad" --from-deb "$work/libdemo1_1.0-1.deb" --base-deb "$work/libdemo1_1.0-1+sec1.deb"
expect_match "$err" "libdemo1 1.0-1 is not newer than its base 1.0-1\+sec1"
expect_rc 2 build "$work/bad" --from-deb "$work/libdemo1_1.0-1+sec1.deb"
expect_rc 2 build "$work/bad" --advisory USN-1-1 --from-deb "$work/libdemo1_1.0-1+sec1.deb" --base-root "$root"

# --- package: the layer unchanged, Depends: patchlayer only, lintian clean
expect_rc 2 "$PL" package -o "$work" "$work/l1"	# no maintainer
export DEBFULLNAME="Example Security" DEBEMAIL=security@example.org
expect_rc 0 "$PL" package -o "$work" --name demo "$work/l1"
deb=$work/patchlayer-layer-demo_1.0-1+sec1_all.deb
expect_eq "$out" "$deb" "package output"
expect_eq "$(dpkg-deb -f "$deb" Package Version Architecture Depends Pre-Depends Conflicts Breaks | tr '\n' ' ')" \
	"Package: patchlayer-layer-demo Version: 1.0-1+sec1 Architecture: all Depends: patchlayer " "control"
dpkg-deb -x "$deb" "$work/x"
for f in manifest manifest.p7s "files$L/libdemo.so.1.0" "files$L/engines-3/fast.so"; do
	cmp "$work/l1/$f" "$work/x/usr/share/patchlayer/layers/demo-sec1/$f" || fail "$f differs in the package"
done
dpkg-deb -e "$deb" "$work/ctl"
expect_match "$(cat "$work/ctl/postinst")" "patchlayer deliver --wait 120 /usr/share/patchlayer/layers/demo-sec1$" "postinst"
expect_match "$(cat "$work/ctl/prerm")" "patchlayer undeliver demo-sec1 " "prerm"
lintian --fail-on error,warning "$deb" > "$work/lintian.log" 2>&1 || fail "lintian: $(cat "$work/lintian.log")"
expect_rc 2 "$PL" package -o "$work" --name Demo "$work/l1"
expect_rc 2 "$PL" package -o "$work" --deb-version v1 "$work/l1"

# --- deliver: whole, under a dot name first; a second time is nothing
mkdir -p "$work/inbox" "$work/store"
printf 'inbox = %s\nstore = %s\n' "$work/inbox" "$work/store" > "$work/conf"
expect_rc 0 "$PL" deliver --config "$work/conf" "$work/x/usr/share/patchlayer/layers/demo-sec1"
expect_eq "$(ls -A "$work/inbox")" "demo-sec1" "inbox"
expect_rc 0 diff -r "$work/l1" "$work/inbox/demo-sec1"
mv "$work/inbox/demo-sec1" "$work/store/"
expect_rc 0 "$PL" deliver --config "$work/conf" "$work/l1"
expect_match "$out" "already in the store"
expect_eq "$(ls -A "$work/inbox")" "" "inbox after a second delivery"
# the same name with another manifest: a new version needs a new name
expect_rc 0 build "$work/l4" --version 2 --from-deb "$work/libdemo1_1.0-1+sec1.deb" --base-deb "$work/libdemo1_1.0-1.deb"
expect_rc 1 "$PL" deliver --config "$work/conf" "$work/l4"
expect_match "$err" "a new version needs a new name"
# a replacement that is not what the manifest says is not delivered
rm -rf "$work/store/demo-sec1"
cp -a "$work/l1" "$work/l5"
echo tampered >> "$work/l5/files$L/libdemo.so.1.0"
expect_rc 1 "$PL" deliver --config "$work/conf" "$work/l5"
expect_eq "$(ls -A "$work/inbox")" "" "inbox after a refused delivery"
