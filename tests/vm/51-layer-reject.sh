# Every broken layer is refused with its errno and leaves no trace: no
# sysfs directory, no held file, no leak over 1000 tries. Broken: bad
# bytes or signature, symlinks or mounts beneath the layer directory, a
# filesystem that cannot hold verified bytes still, metadata the signature
# does not cover, two targets on one base.
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d /var/tmp/pl-test.XXXXXX)
make_key "$T" vendor
make_key "$T" stranger
patched_zlib "$T/libz.so"
build_layer "$T/good" vendor zlib-fix "1" "$T/libz.so=$ZLIB"
R=files$ZLIB

# variant NAME: a copy of the good layer to break
variant() {
	cp -a "$T/good" "$T/$1"
	echo "$T/$1"
}
# sign DIR KEY: re-sign DIR/manifest as the vendor tool does
sign() {
	openssl cms -sign -binary -noattr -nocerts -nosmimecap -md sha256 -outform DER \
		-signer "$T/$2.pem" -inkey "$T/$2.key" -in "$1/manifest" -out "$1/manifest.p7s"
}

d=$(variant flipped); python3 - "$d/$R" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[4096] ^= 1
open(sys.argv[1], "wb").write(b)
PY
d=$(variant edited); sed -i 's/^version: 1$/version: 2/' "$d/manifest"
build_layer "$T/untrusted" stranger zlib-fix "1" "$T/libz.so=$ZLIB"
d=$(variant unsigned); rm "$d/manifest.p7s"
# built against another libz than the guest's
mkdir -p "$T/otherbase${ZLIB%/*}"; head -c 5000 /dev/urandom > "$T/otherbase$ZLIB"
"$PL" build --name zlib-fix --version 1 --key "$T/vendor.key" --cert "$T/vendor.pem" \
	--base-root "$T/otherbase" -o "$T/stalebase" "$T/libz.so=$ZLIB" > /dev/null
d=$(variant relative); sed -i "s|^file: /|file: |" "$d/manifest"; sign "$d" vendor
d=$(variant dotdot); sed -i "s|^file: /usr/lib/|file: /usr/lib/../lib/|" "$d/manifest"; sign "$d" vendor
d=$(variant outside); sed -i "s|^file: /usr/lib/x86_64-linux-gnu/libz.so.1.2.13|file: /etc/ld.so.cache|" "$d/manifest"; sign "$d" vendor
d=$(variant huge); python3 -c 'print("x" * 70 * 1024)' >> "$d/manifest"; sign "$d" vendor
d=$(variant truncated); head -c 300 "$T/good/manifest.p7s" > "$d/manifest.p7s"
d=$(variant randmanifest); head -c 400 /dev/urandom > "$d/manifest"
d=$(variant randsig); head -c 700 /dev/urandom > "$d/manifest.p7s"
d=$(variant randfile); head -c "$(stat -c %s "$T/libz.so")" /dev/urandom > "$d/$R"
d=$(variant missing); rm "$d/$R"
d=$(variant symlink); rm "$d/$R"; ln -s "$T/libz.so" "$d/$R"
d=$(variant fifo); rm "$d/$R"; mkfifo "$d/$R"
d=$(variant directory); rm "$d/$R"; mkdir "$d/$R"
d=$(variant shorter); truncate -s -1 "$d/$R"
d=$(variant malformed); sed -i 's/^name: zlib-fix$/name: zlib fix/' "$d/manifest"; sign "$d" vendor
# resolved beneath the layer directory only: no symlink anywhere, no other
# mount, and on a filesystem that holds verified bytes still
d=$(variant dirsymlink); mv "$d/files/usr" "$T/usr-elsewhere"; ln -s "$T/usr-elsewhere" "$d/files/usr"
d=$(variant mansymlink); rm "$d/manifest"; ln -s "$T/good/manifest" "$d/manifest"
d=$(variant mounted); mount -t tmpfs -o mode=0755 tmpfs "$d/files/usr"; cp -a "$T/good/files/usr/." "$d/files/usr/"
d=$(variant bindfile); mount --bind "$T/good/$R" "$d/$R"
mkdir "$T/onoverlay" "$T/empty"; mount -t overlay -o lowerdir="$T/good:$T/empty" overlay "$T/onoverlay"
# served metadata is not signed: root's, not writable by others, no
# setuid, setgid, file capabilities or POSIX ACL
d=$(variant owner); chown 65534 "$d/$R"
d=$(variant groupw); chmod g+w "$d/$R"
d=$(variant otherw); chmod o+w "$d/$R"
d=$(variant setuid); chmod u+s "$d/$R"
d=$(variant setgid); chmod g+s "$d/$R"
d=$(variant caps); setcap cap_net_raw+ep "$d/$R"
# user nobody may read: an ACL that leaves the mode as it was
acl() {	# FILE XATTR: sets that ACL xattr to user::rw- user:65534:r-- group::r-- mask::r-- other::r--
	python3 - "$1" "$2" <<'PY'
import os, struct, sys
e = [(0x01, 6, 0xffffffff), (0x02, 4, 65534), (0x04, 4, 0xffffffff), (0x10, 4, 0xffffffff), (0x20, 4, 0xffffffff)]
os.setxattr(sys.argv[1], sys.argv[2], struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *x) for x in e))
PY
}
d=$(variant acl); acl "$d/$R" system.posix_acl_access
d=$(variant dirowner); chown 65534 "$d/files/usr"
d=$(variant dirgroupw); chmod g+w "$d/files/usr/lib"
d=$(variant dirdefacl); acl "$d/files" system.posix_acl_default
d=$(variant topowner); chown 65534 "$d"
d=$(variant manifestw); chmod o+w "$d/manifest"
[ "$(stat -c %a "$T/acl/$R")" = 644 ] || fail "the ACL changed the mode: $(stat -c %a "$T/acl/$R")"
# two targets, one base: /lib is /usr/lib on a merged /usr
[ "$(stat -c %i /lib${ZLIB#/usr/lib})" = "$(stat -c %i $ZLIB)" ] || fail "/lib is not /usr/lib"
build_layer "$T/alias" vendor zlib-fix "1" "$T/libz.so=$ZLIB" "$T/libz.so=/lib${ZLIB#/usr/lib}"

cases="flipped=EBADMSG edited=EKEYREJECTED untrusted=EKEYREJECTED unsigned=EKEYREJECTED
stalebase=ESTALE relative=EINVAL dotdot=EINVAL outside=EINVAL huge=EFBIG
truncated=EKEYREJECTED randmanifest=EKEYREJECTED randsig=EKEYREJECTED randfile=EBADMSG
missing=ENOENT symlink=ELOOP fifo=EINVAL directory=EINVAL shorter=EBADMSG malformed=EINVAL
dirsymlink=ELOOP mansymlink=ELOOP mounted=EXDEV bindfile=EXDEV onoverlay=EMEDIUMTYPE
owner=EPERM groupw=EPERM otherw=EPERM setuid=EPERM setgid=EPERM caps=EPERM acl=EPERM
dirowner=EPERM dirgroupw=EPERM dirdefacl=EPERM topowner=EPERM manifestw=EPERM alias=EINVAL"

modprobe patchlayer
expect_write OK $SYSFS/trust --bytes-from "$T/vendor.der"
expect_write ENOENT $SYSFS/load "$T/no-such-layer"
expect_write EINVAL $SYSFS/load "relative/path"
expect_write EINVAL $SYSFS/load $'\n'
for c in $cases; do
	expect_write "${c#*=}" $SYSFS/load "$T/${c%=*}"
	no_layers
	# (the overlay is read-only)
	[ -f "$T/${c%=*}/$R" ] && [ ! -L "$T/${c%=*}/$R" ] && [ "${c%=*}" != onoverlay ] &&
		writable "$T/${c%=*}/$R"
done
writable "$T/good/$R"
echo "each case refused with its errno"

# 1000 tries, in one process: refusals must not leak
settle
before=$(slab_kb)
python3 - "$T" $cases <<'PY'
import errno, os, sys
root, cases = sys.argv[1], [c.split("=") for c in sys.argv[2:]]
for i in range(1000):
    name, want = cases[i % len(cases)]
    fd = os.open("/sys/kernel/patchlayer/load", os.O_WRONLY)
    try:
        os.write(fd, f"{root}/{name}".encode())
        sys.exit(f"{name} was accepted")
    except OSError as e:
        if errno.errorcode[e.errno] != want:
            sys.exit(f"{name}: {errno.errorcode[e.errno]}, expected {want}")
    finally:
        os.close(fd)
PY
settle
after=$(slab_kb)
no_layers
slab_check "$before" "$after" 1024 "1000 refused loads"

# and the good layer still loads after all that
expect_write OK $SYSFS/load "$T/good"
expect_write OK $SYSFS/unload zlib-fix

# each refusal says why, for the daemon and the tracepoint
echo 1 > $TRACEFS/events/patchlayer/patchlayer_verify/enable
echo > $TRACEFS/trace
for c in mounted onoverlay setuid alias; do
	sysfs_write $SYSFS/load "$T/$c" > /dev/null
done
trace=$(cat $TRACEFS/trace)
expect_match "$trace" "files/usr: on another mount than the layer directory" "reason for mounted"
expect_match "$trace" "the layer directory is on overlay, where verified bytes can change" "reason for onoverlay"
expect_match "$trace" "files$ZLIB: setuid or setgid" "reason for setuid"
expect_match "$trace" "base [/a-z0-9_-]*/libz\.so\.1\.2\.13: the same file as base [/a-z0-9_-]*/libz\.so\.1\.2\.13" "reason for alias"
echo 0 > $TRACEFS/events/patchlayer/patchlayer_verify/enable
umount "$T/onoverlay" "$T/bindfile/$R" "$T/mounted/files/usr"
