# O_DIRECT and splice through a protected directory on ext4: O_DIRECT
# opens, reads and writes work where the real filesystem does them (they
# were EINVAL: our inode had no ->direct_IO), and splice and sendfile into
# a protected file write the real file under its freeze protection, taken
# before the pipe's lock as for any splice: lockdep, on the debug kernel,
# sees that order first in a splice into the filesystem uncovered (bind
# mount), then ours.
. "$(dirname "$0")/lib.sh"

D=/var/tmp/pl-direct
mkdir -p $D
truncate -s 64M $D.img
mkfs.ext4 -q -F $D.img
modprobe loop 2>/dev/null || true
expect_rc 0 mount -o loop $D.img $D
U=/mnt/pl-direct
mkdir -p $U
trap 'umount -l $U 2>/dev/null || true; umount -l $D 2>/dev/null || true; umount -l $D 2>/dev/null || true; rm -f $D.img' EXIT
expect_rc 0 mount --bind $D $U
head -c 65536 /dev/urandom > $D/data
: > $D/out
: > $U/direct-out

modprobe patchlayer
expect_rc 0 "$PL" protect $D

python3 - $D $U <<'PY' || fail "O_DIRECT and splice"
import mmap, os, sys
D, U = sys.argv[1:3]
want = open(D + "/data", "rb").read()
failures = 0

def check(what, ok):
    global failures
    if not ok:
        failures += 1
        print("FAIL: " + what)

# O_DIRECT wants buffers aligned to the block size: an anonymous mapping is
buf = mmap.mmap(-1, 65536)
try:
    fd = os.open(D + "/data", os.O_RDONLY | os.O_DIRECT)
    check("O_DIRECT read", os.readv(fd, [buf]) == 65536 and buf[:] == want)
    os.close(fd)
    fd = os.open(D + "/direct", os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o644)
    check("O_DIRECT write", os.writev(fd, [buf]) == 65536)
    os.close(fd)
    check("O_DIRECT write's content", open(D + "/direct", "rb").read() == want)
except OSError as e:
    check("O_DIRECT: %s" % e, False)

# splice from a pipe into the filesystem uncovered, then into a protected
# file, then sendfile from another
r, w = os.pipe()
fd = os.open(U + "/direct-out", os.O_WRONLY)
os.write(w, want[:4096])
check("splice uncovered", os.splice(r, fd, 4096) == 4096)
os.close(fd)
fd = os.open(D + "/out", os.O_WRONLY)
os.write(w, want[:4096])
check("splice", os.splice(r, fd, 4096) == 4096)
src = os.open(D + "/data", os.O_RDONLY)
check("sendfile", os.sendfile(fd, src, 4096, 8192) == 8192)
os.close(src)
os.close(fd)
check("splice and sendfile's content", open(D + "/out", "rb").read() == want[:4096] + want[4096:12288])
sys.exit(1 if failures else 0)
PY

expect_rc 0 "$PL" unprotect $D
module_unload
