# patchlayer-generator: a LazyUnmount drop-in for the mount unit of each protected directory, named as systemd-escape names it
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

GEN=$(dirname "$PL")/patchlayer-generator
[ -x "$GEN" ] || fail "no $GEN beside $PL"
command -v systemd-escape > /dev/null || fail "systemd-escape is not installed"
conf=$work/patchlayer.conf
export PATCHLAYER_CONF=$conf

# the directories systemd would see mounted, some needing escapes
dirs=(/usr/lib/x86_64-linux-gnu /opt/vendor-libs/lib64 /usr/lib/ü /.hidden/lib)
echo "protect = ${dirs[*]}" > "$conf"
"$PL" config check --config "$conf" > /dev/null || fail "the test's configuration does not parse"

out_dir=$work/normal
mkdir "$out_dir"
expect_rc 0 "$GEN" "$out_dir" "$work/early" "$work/late"
[ -z "$err" ] || fail "the generator said: $err"
want=$'[Mount]\nLazyUnmount=yes'
n=0
for d in "${dirs[@]}"; do
	unit=$(systemd-escape --path --suffix=mount "$d")
	f=$out_dir/$unit.d/50-patchlayer.conf
	[ -f "$f" ] || fail "no drop-in for $d ($unit): $(cd "$out_dir" && find . | sort)"
	expect_eq "$(grep -v '^#' "$f")" "$want" "the drop-in of $d"
	grep -qF "# $unit: " "$f" || fail "the drop-in of $d does not name its unit"
	n=$((n + 1))
done
expect_eq "$(find "$out_dir" -type f | wc -l)" "$n" "drop-ins written"
# systemd reads it as it is meant (no unknown key or section)
if command -v systemd-analyze > /dev/null; then
	unit=$(systemd-escape --path --suffix=mount /usr/lib/x86_64-linux-gnu)
	cp "$out_dir/$unit.d/50-patchlayer.conf" "$work/probe.mount"
	printf '[Mount]\nWhat=/dev/null\nWhere=/probe\n' >> "$work/probe.mount"
	systemd-analyze verify "$work/probe.mount" > "$work/verify.out" 2>&1 || true
	! grep -qiE 'unknown|lazy' "$work/verify.out" || fail "systemd-analyze: $(cat "$work/verify.out")"
fi

# again over the same directory (daemon-reload): the same files
expect_rc 0 "$GEN" "$out_dir"
expect_eq "$(find "$out_dir" -type f | wc -l)" "$n" "drop-ins after a second run"

# no configuration: nothing protected, nothing written, no complaint
rm -rf "$out_dir" && mkdir "$out_dir"
PATCHLAYER_CONF=$work/none expect_rc 0 "$GEN" "$out_dir"
expect_eq "$(find "$out_dir" -mindepth 1 | wc -l)" 0 "written without a configuration"

# a bad configuration: named with its line, nothing written
printf 'protect = /usr/lib\nbogus = 1\n' > "$conf"
expect_rc 1 "$GEN" "$out_dir"
expect_match "$err" "^patchlayer-generator: $conf:2: " "a bad configuration"
expect_eq "$(find "$out_dir" -mindepth 1 | wc -l)" 0 "written from a bad configuration"

# ... but what the module has mounted keeps its drop-in (and one protected by hand)
mkdir -p "$work/sysfs"
printf '/usr/lib/x86_64-linux-gnu\n/opt/by-hand\n' > "$work/sysfs/mounts"
PATCHLAYER_SYSFS=$work/sysfs expect_rc 1 "$GEN" "$out_dir"
for u in 'usr-lib-x86_64\x2dlinux\x2dgnu' opt-by\\x2dhand; do
	[ -f "$out_dir/$u.mount.d/50-patchlayer.conf" ] ||
		fail "no drop-in for the mounted $u: $(cd "$out_dir" && find . | sort)"
done
rm -rf "$out_dir" && mkdir "$out_dir"

# a configuration others may write is refused, as the daemon refuses it
echo "protect = /usr/lib" > "$conf"
chmod 0666 "$conf"
expect_rc 1 "$GEN" "$out_dir"
expect_match "$err" "writable by others than root" "a world-writable configuration"
chmod 0644 "$conf"

# resolved as the daemon resolves it before mounting (merged /usr: /lib)
mkdir -p "$work/real/lib"
ln -s real "$work/link"
echo "protect = $work/link/lib $work/real/lib" > "$conf"
expect_rc 0 "$GEN" "$out_dir"
unit=$(systemd-escape --path --suffix=mount "$work/real/lib")
[ -f "$out_dir/$unit.d/50-patchlayer.conf" ] || fail "no drop-in for the resolved $work/link/lib"
expect_eq "$(find "$out_dir" -type f | wc -l)" 1 "drop-ins for a directory named twice"
rm -rf "$out_dir" && mkdir "$out_dir"

# the mount point of another filesystem: its unit is that filesystem's too
echo "protect = /proc /usr/lib" > "$conf"
expect_rc 0 "$GEN" "$out_dir"
expect_match "$err" "^patchlayer-generator: /proc: also the mount point of a proc filesystem: no drop-in" "/proc"
[ ! -e "$out_dir/proc.mount.d" ] || fail "a drop-in for /proc"
[ -f "$out_dir/usr-lib.mount.d/50-patchlayer.conf" ] || fail "the other directory's drop-in is missing"
rm -rf "$out_dir" && mkdir "$out_dir"

# a unit name over 255 bytes, which systemd hashes: said, the others still written
long=$(printf '/component%.0s' $(seq 30))
echo "protect = $long /usr/lib" > "$conf"
expect_rc 0 "$GEN" "$out_dir"
expect_match "$err" "^patchlayer-generator: $long: its unit name is longer than 255 bytes: no drop-in$" "a name too long"
expect_eq "$(find "$out_dir" -type f | wc -l)" 1 "drop-ins beside a name too long"

# under systemd ($SYSTEMD_SCOPE) messages go to the kernel log, if it can be written
if [ -w /dev/kmsg ]; then
	echo "protect = /proc" > "$conf"
	said() { dmesg 2> /dev/null | grep -c "patchlayer-generator: /proc: also the mount point" || true; }
	before=$(said)
	SYSTEMD_SCOPE=system expect_rc 0 "$GEN" "$out_dir"
	if [ -n "$err" ]; then
		# the kernel refused the write (printk.devkmsg=off): stderr, unprefixed
		expect_match "$err" "^patchlayer-generator: /proc: also the mount point" "stderr under systemd"
	elif dmesg > /dev/null 2>&1; then
		# where the kernel log can be read back: one record more
		expect_eq "$(said)" "$((before + 1))" "the warning's records in the kernel log"
	fi
fi

# the output directory missing, or no directory given
echo "protect = /usr/lib" > "$conf"
expect_rc 1 "$GEN" "$work/missing"
expect_match "$err" "$work/missing: No such file or directory" "a missing directory"
expect_rc 2 "$GEN"
expect_match "$err" "usage: patchlayer-generator NORMAL_DIR" "no argument"
echo "ok: drop-ins for ${#dirs[@]} directories, as systemd-escape names their units"
