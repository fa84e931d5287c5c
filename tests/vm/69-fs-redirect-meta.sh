# A redirected name serves its replacement's content and nothing else of
# the layer's file: mode (setuid), owner, times, inode number, xattrs and
# file capabilities are the base's, since a layer directory is untrusted
# and the signature covers content only; identity and size are the
# replacement's. And the name is read-only, its metadata too (ETXTBSY, as
# for a write): truncate, chmod, chown, utimes and xattrs are refused, for
# root and for the base's owner, and the base is intact afterwards. A new
# link to it serves what it serves.
. "$(dirname "$0")/lib.sh"

T=/var/lib/pl-meta-store
S=/usr/lib/pl-meta
mkdir -p $T $S && mount -t tmpfs tmpfs $T
make_key "$T" vendor
cp /usr/bin/cat $S/pl-cat
chown 1234:1234 $S/pl-cat
cp /usr/bin/cat "$T/cat"
printf 'layer' >> "$T/cat"	# a size of its own
build_layer "$T/meta" vendor meta-fix 1 "$T/cat=$S/pl-cat"
R=$T/meta/files$S/pl-cat
# user.* where the filesystem has it (tmpfs from 6.6), trusted.* before
x=user.pl
touch "$T/probe"
python3 -c "import os; os.setxattr('$T/probe', '$x', b'x')" 2>/dev/null || x=trusted.pl
python3 -c "import os; os.setxattr('$S/pl-cat', '$x', b'base')"
xattr() { python3 -c "import os, sys; print(os.getxattr(sys.argv[1], sys.argv[2]))" "$@"; }
as_user() { setpriv --reuid="$1" --regid="$1" --clear-groups "${@:2}"; }
meta() { stat -c '%a %u %g %Y %Z' "$1"; }

modprobe patchlayer
expect_write OK $SYSFS/trust --bytes-from "$T/vendor.der"
expect_write OK $SYSFS/load "$T/meta"
expect_rc 0 "$PL" protect $S
base=$(meta $S/pl-cat)
base_size=$(stat -c %s $S/pl-cat)
# the layer's file, changed after the load checked it: setuid nobody, a
# capability and an xattr of its own
chown 65534:65534 "$R"
chmod 4755 "$R"
setcap cap_setuid+ep "$R"
python3 -c "import os; os.setxattr('$R', '$x', b'layer')"
# a listing agrees with stat on the name's inode number (find, du and fts
# match d_ino against st_ino), in each process's own view: one started
# before the activation still sees the base, and lists the base's number
ids() { python3 -c "import os, sys
d, n = os.path.split(sys.argv[1])
if len(sys.argv) > 2: open(sys.argv[2]).read()
print([e.inode() for e in os.scandir(d) if e.name == n], [os.stat(sys.argv[1]).st_ino])" "$@"; }
base_ino=$(stat -c %i $S/pl-cat)
mkfifo "$T/go"
ids $S/pl-cat "$T/go" > "$T/old-view" &
old_view=$!
expect_write OK $SYSFS/layers/meta-fix/state activate
echo > "$T/go"
wait $old_view
expect_eq "$(cat "$T/old-view")" "[$base_ino] [$base_ino]" "d_ino and st_ino before the activation"
expect_eq "$(ids $S/pl-cat)" "[$(stat -c %i "$R")] [$(stat -c %i "$R")]" "d_ino and st_ino after it"

cmp -s $S/pl-cat "$T/cat" || fail "the replacement is not served"
expect_eq "$(meta $S/pl-cat)" "$base" "mode, owner and times served"
expect_eq "$(stat -c '%d %i %s' $S/pl-cat)" "$(stat -c '%d %i %s' "$R")" "identity and size served"
expect_eq "$(as_user 4321 stat -c %a $S/pl-cat)" 755 "mode served to a user"
expect_eq "$(xattr $S/pl-cat $x)" "b'base'" "xattr served"
expect_eq "$(getcap $S/pl-cat)" "" "capability served"
expect_eq "$(python3 -c "import os; print('security.capability' in os.listxattr('$S/pl-cat'))")" \
	False "capability listed"
# neither the layer file's setuid nor its capability takes effect
expect_eq "$(as_user 4321 $S/pl-cat /proc/self/status | awk '/^Uid:/ { print $3 } /^CapEff:/ { print $2 }')" \
	"4321
0000000000000000" "effective uid and capabilities of the served program"

# changes through the redirected name: refused, for root and for the owner
for who in 0 1234; do
	for op in "truncate -s 0" "chmod 700" "chown $who:0" "touch -m -d @0"; do
		# shellcheck disable=SC2086
		expect_rc 1 as_user $who $op $S/pl-cat
		expect_match "$out" "Text file busy" "$op by uid $who"
	done
	for op in "os.setxattr(f, '$x', b'new')" "os.removexattr(f, '$x')" \
		"os.setxattr(f, 'system.posix_acl_access', bytes.fromhex('02000000010006000000000004000400ffffffff20000400ffffffff'))"; do
		expect_rc 0 as_user $who python3 -c "import os, errno
f = '$S/pl-cat'
try:
    $op
    print('done')
except OSError as e:
    print(errno.errorcode[e.errno])"
		want=ETXTBSY
		# trusted.* is root's alone
		[[ $who != 0 && $x == trusted.* && $op == *"'$x'"* ]] && want=EPERM
		expect_eq "$out" $want "$op by uid $who"
	done
done
expect_eq "$(meta $S/pl-cat)" "$base" "the base's metadata after the changes refused"

# a new link (dpkg's backup) serves the same, before and after the drop
ln $S/pl-cat $S/pl-link
cmp -s $S/pl-link "$T/cat" || fail "the new link does not serve the replacement"
expect_write OK $SYSFS/layers/meta-fix/state drop
cmp -s $S/pl-link /usr/bin/cat || fail "the new link does not serve the base after drop"
cmp -s $S/pl-cat /usr/bin/cat || fail "the base changed"
expect_eq "$(stat -c '%a %u %g %Y %s' $S/pl-cat)" "$(cut -d' ' -f1-4 <<< "$base") $base_size" \
	"the base's metadata"
expect_eq "$(xattr $S/pl-cat $x)" "b'base'" "the base's xattr"
expect_write OK $SYSFS/unload meta-fix
expect_rc 0 "$PL" unprotect $S
rm -rf $S
umount $T
