# make install puts every file in a DESTDIR with its mode; make uninstall empties it again
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

root=$(cd "$(dirname "$0")/../.." && pwd)
D=$work/root
cd "$root"

make -s install DESTDIR="$D" PREFIX=/usr > "$work/install.log" 2>&1 ||
	fail "make install: $(tail -n 20 "$work/install.log")"
kver=$(modinfo -F vermagic module/patchlayer.ko | cut -d' ' -f1)
[ -n "$kver" ] || fail "no vermagic in module/patchlayer.ko"

# every file, with its mode; the lists of BPF objects, docs and units
# follow the tree, so a new one is expected without editing this test
{
	echo "644 /etc/patchlayer/patchlayer.conf"
	echo "644 /lib/modules/$kver/extra/patchlayer.ko"
	echo "644 /usr/lib/modules-load.d/patchlayer.conf"
	for b in bpf/*.bpf.c; do
		b=${b#bpf/}
		echo "644 /usr/lib/patchlayer/bpf/${b%.c}.o"
	done
	for u in dist/*.service; do
		[ -e "$u" ] && echo "644 /usr/lib/systemd/system/${u#dist/}"
	done
	echo "755 /usr/lib/systemd/system-generators/patchlayer-generator"
	echo "755 /usr/sbin/patchlayer"
	echo "644 /usr/share/bash-completion/completions/patchlayer"
	for a in docs/ABI/*; do echo "644 /usr/share/doc/patchlayer/ABI/${a#docs/ABI/}"; done
	echo "644 /usr/share/doc/patchlayer/examples/modprobe.d-patchlayer.conf"
	echo "644 /usr/share/doc/patchlayer/examples/patchlayer.conf"
	echo "644 /usr/share/doc/patchlayer/examples/prometheus-patchlayer.rules.yml"
	for m in docs/*.md; do echo "644 /usr/share/doc/patchlayer/${m#docs/}"; done
	echo "644 /usr/share/man/man5/patchlayer.conf.5"
	echo "644 /usr/share/man/man8/patchlayer.8"
} | sort -k2 > "$work/want"
(cd "$D" && find . -type f -printf '%m /%P\n' -o ! -type d -printf 'not a file: /%P\n') |
	sort -k2 > "$work/got"
diff -u "$work/want" "$work/got" > "$work/diff" || fail "installed tree: $(cat "$work/diff")"

# a staging install runs no depmod: no index is written into DESTDIR
[ ! -e "$D/lib/modules/$kver/modules.dep" ] || fail "depmod ran for a DESTDIR install"

# what was installed is what was built, and it works
cmp -s "$D/usr/sbin/patchlayer" build/userspace/patchlayer || fail "the installed command is not the build's"
cmp -s "$D/lib/modules/$kver/extra/patchlayer.ko" module/patchlayer.ko || fail "the installed module is not the build's"
cmp -s "$D/usr/lib/systemd/system-generators/patchlayer-generator" build/userspace/patchlayer-generator ||
	fail "the installed generator is not the build's"
expect_rc 0 "$D/usr/sbin/patchlayer" --version
expect_eq "$out" "patchlayer $(sed -n 's/^#define PATCHLAYER_VERSION "\(.*\)"/\1/p' module/patchlayer.h)" "--version"
expect_eq "$(grep -v "^#" "$D/usr/lib/modules-load.d/patchlayer.conf")" patchlayer "modules-load.d"
bash -n "$D/usr/share/bash-completion/completions/patchlayer" || fail "bash completion does not parse"
for m in man8/patchlayer.8 man5/patchlayer.conf.5; do
	# troff warnings (-ww) on stderr are defects too
	LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$D/usr/share/man/$m" > "$work/man.out" 2> "$work/man.err" ||
		fail "man -l $m: $(cat "$work/man.err")"
	[ ! -s "$work/man.err" ] || fail "man -l $m: $(cat "$work/man.err")"
	groff -man -ww -z "$D/usr/share/man/$m" 2> "$work/man.err"
	[ ! -s "$work/man.err" ] || fail "groff warns on $m: $(cat "$work/man.err")"
	expect_match "$(head -n 1 "$work/man.out")" "^PATCHLAYER" "$m's header"
done

# the shipped configuration: every key of patchlayer.conf(5), each once
keys=$(sed -n 's/^\([a-z_]*\) =.*/\1/p' "$D/etc/patchlayer/patchlayer.conf" | sort | tr '\n' ' ')
expect_eq "$keys" "auto_install crash_scope crash_threshold health_window inbox inbox_settle install_window metrics_file metrics_interval protect restart_never restart_services store " \
	"the keys of patchlayer.conf"
for k in $keys; do
	grep -q "^\.B[IR]\? $k " man/patchlayer.conf.5 || fail "patchlayer.conf(5) does not document $k"
done

# an administrator's configuration survives a new install and the uninstall
echo "auto_install = no" >> "$D/etc/patchlayer/patchlayer.conf"
make -s install-userspace DESTDIR="$D" PREFIX=/usr > "$work/install.log" 2>&1 ||
	fail "make install again: $(tail -n 20 "$work/install.log")"
expect_match "$(tail -n 1 "$D/etc/patchlayer/patchlayer.conf")" "^auto_install = no$" "the changed configuration"
make -s uninstall DESTDIR="$D" PREFIX=/usr > "$work/uninstall.log" 2>&1 ||
	fail "make uninstall: $(cat "$work/uninstall.log")"
expect_eq "$(cd "$D" && find . -mindepth 1 -printf '/%P\n')" $'/etc\n/etc/patchlayer\n/etc/patchlayer/patchlayer.conf' \
	"what uninstall keeps"

# unchanged, it goes too, and nothing is left at all
make -s install DESTDIR="$D" PREFIX=/usr > /dev/null 2>&1 || fail "make install"
cp dist/patchlayer.conf "$D/etc/patchlayer/patchlayer.conf"
make -s uninstall DESTDIR="$D" PREFIX=/usr > /dev/null 2>&1 || fail "make uninstall"
expect_eq "$(find "$D" -mindepth 1)" "" "left after uninstall"

# PREFIX moves everything but the module and /etc
make -s install DESTDIR="$D" PREFIX=/opt/pl > /dev/null 2>&1 || fail "make install PREFIX=/opt/pl"
[ -x "$D/opt/pl/sbin/patchlayer" ] || fail "PREFIX=/opt/pl: no /opt/pl/sbin/patchlayer"
[ -z "$(find "$D/usr" 2>/dev/null)" ] || fail "PREFIX=/opt/pl installed into /usr"
make -s uninstall DESTDIR="$D" PREFIX=/opt/pl > /dev/null 2>&1 || fail "make uninstall PREFIX=/opt/pl"
expect_eq "$(find "$D" -mindepth 1)" "" "left after uninstall with PREFIX=/opt/pl"
