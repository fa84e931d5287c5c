# A layer's files change between build and load: the replacement or the
# base grows, shrinks, vanishes, or is replaced by a symlink, a FIFO, a
# device, a socket or a directory; so are the manifest and its signature.
# Each load is refused with its errno at once (a FIFO never blocks it),
# nothing is left behind, and the untouched layer still loads.
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d /var/tmp/pl-test.XXXXXX)
S=/usr/lib/pl-race
make_libdir $S
make_key "$T" vendor
patched_zlib "$T/libz.so"
BASE=$S/libdemo.so.1.0
build_layer "$T/good" vendor zfix "1" "$T/libz.so=$BASE"
R=files$BASE

modprobe patchlayer
expect_write OK $SYSFS/trust --bytes-from "$T/vendor.der"

variant() {
	rm -rf "${T:?}/$1"
	cp -a "$T/good" "$T/$1"
	echo "$T/$1"
}

# replace PATH KIND: PATH becomes something else than the file it was
replace() {
	rm -rf "$1"
	case "$2" in
	symlink) ln -s "$T/libz.so" "$1" ;;
	dangling) ln -s "$T/nowhere" "$1" ;;
	fifo) mkfifo "$1" ;;
	chardev) mknod "$1" c 1 3 ;;	# /dev/null
	blockdev) mknod "$1" b 7 0 ;;	# a loop device
	socket) python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$1" ;;
	directory) mkdir "$1" ;;
	vanish) ;;
	esac
}

# try WANT DIR: the load gives WANT within 20 seconds; a refusal leaves no layer
try() {
	local got
	got=$(timeout 20 python3 "$PLVM_ROOT/tests/vm/sysfs-write.py" $SYSFS/load "$2") ||
		fail "loading $2 hung or died (a FIFO opened?)"
	[ "$got" = "$1" ] || fail "load $2: got $got, expected $1"
	[ "$1" = OK ] || no_layers
}

n=0
# the replacement
for kind in symlink dangling; do	# nothing beneath a layer directory may be a symlink
	d=$(variant "repl-$kind"); replace "$d/$R" "$kind"; try ELOOP "$d"; n=$((n + 1))
done
for kind in fifo chardev blockdev socket directory; do
	d=$(variant "repl-$kind"); replace "$d/$R" "$kind"; try EINVAL "$d"; n=$((n + 1))
done
d=$(variant repl-vanish); replace "$d/$R" vanish; try ENOENT "$d"
d=$(variant repl-grow); echo x >> "$d/$R"; try EBADMSG "$d"
d=$(variant repl-shrink); truncate -s 1000 "$d/$R"; try EBADMSG "$d"
d=$(variant repl-empty); : > "$d/$R"; try EBADMSG "$d"
d=$(variant repl-samesize); python3 - "$d/$R" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[-1] ^= 0xff
open(sys.argv[1], "wb").write(b)
PY
try EBADMSG "$d"
# the layer directory's own path components
d=$(variant dirlink); rm -rf "$d"; ln -s "$T/good" "$d"; try OK "$d"
expect_write OK $SYSFS/unload zfix
d=$(variant filesdir-file); rm -rf "$d/files"; echo x > "$d/files"; try ENOTDIR "$d"
n=$((n + 12))

# the manifest and the signature
for f in manifest manifest.p7s; do
	for kind in fifo chardev socket directory; do
		d=$(variant "$f-$kind"); replace "$d/$f" "$kind"
		try EINVAL "$d"
		n=$((n + 1))
	done
done
d=$(variant manifest-vanish); rm "$d/manifest"; try ENOENT "$d"
# even one that stays inside the layer directory
d=$(variant manifest-link); mv "$d/manifest" "$d/m"; ln -s m "$d/manifest"; try ELOOP "$d"
n=$((n + 2))

# the base, in the library directory
cp "$BASE" "$T/base.orig"
restore_base() { rm -rf "$BASE"; cp "$T/base.orig" "$BASE"; }
for kind in symlink fifo chardev socket directory; do
	replace "$BASE" "$kind"; try EINVAL "$T/good"; restore_base; n=$((n + 1))
done
replace "$BASE" vanish; try ENOENT "$T/good"; restore_base
echo x >> "$BASE"; try ESTALE "$T/good"; restore_base
truncate -s 100 "$BASE"; try ESTALE "$T/good"; restore_base
n=$((n + 3))

# and the base changing between load and activation: stale, never active
expect_rc 0 "$PL" protect $S
expect_write OK $SYSFS/load "$T/good"
# in place, under the mount, as a writer that bypasses it would
umount $S
echo x >> "$BASE"
expect_rc 0 "$PL" protect $S
expect_write ESTALE $SYSFS/layers/zfix/state activate
expect_eq "$(layer_state zfix)" stale "state after a base changed"
expect_write OK $SYSFS/unload zfix
expect_rc 0 "$PL" unprotect $S
restore_base
n=$((n + 1))

echo "$n changed layers refused with their errno"
expect_write OK $SYSFS/load "$T/good"
expect_write OK $SYSFS/unload zfix
writable "$T/good/$R"
module_unload
