# Enforcement: with it on, an executable mapping of the stale base through
# a bind mount of the unprotected lower directory gets EPERM (counted,
# streamed); with it off, or once the layer is dropped, it succeeds.
# Through the protected path too, for a process started before the
# activation, when it maps with no read first (the real file is opened at
# first use): a name a layer knows at open(2), and a base on a plain
# filesystem opened before any layer knew it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bpflib.sh"

# a loaded layer holds its base inode: unloaded before the base's filesystem goes
trap 'kill $events $early 2>/dev/null || true; umount /mnt/pl-usrlib 2>/dev/null || true; bpf_cleanup
	echo demo-fix > $SYSFS/unload 2>/dev/null || true; umount -l /usr/lib/pl-enforce 2>/dev/null || true' EXIT
events= early=
bpf_zlib_setup
expect_rc 0 "$PL" protect $LIBDIR
# a protected directory on tmpfs, whose inodes the mappings name as is
D=/usr/lib/pl-enforce
mkdir -p $D && mount -t tmpfs tmpfs $D
make_libdir $D
build_layer "$T/dfix" vendor demo-fix 1 "$T/libz.so=$D/libdemo.so.1.0"
expect_write OK $SYSFS/load "$T/dfix"
expect_rc 0 "$PL" protect $D

# early CMD...: what the process started before the activations answers,
# in $ans: "open NAME PATH" opens, "map NAME" maps PROT_READ|PROT_EXEC with
# no read ("mapped" or the errno's name), "openmap PATH" both
mkfifo "$T/early.in"
python3 -u -c '
import errno, mmap, os, sys
fds = {}
def map(fd):
    try:
        mmap.mmap(fd, 4096, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_EXEC)
        return "mapped"
    except OSError as e:
        return errno.errorcode[e.errno]
for line in sys.stdin:
    cmd = line.split()
    if cmd[0] == "open":
        fds[cmd[1]] = os.open(cmd[2], os.O_RDONLY)
        print("opened")
    elif cmd[0] == "map":
        print(map(fds[cmd[1]]))
    else:
        print(map(os.open(cmd[1], os.O_RDONLY)))
' < "$T/early.in" > "$T/early.out" 2>&1 &
early=$!
exec {early_in}> "$T/early.in"
early_n=0
early() {
	early_n=$((early_n + 1))
	echo "$*" >&$early_in
	for _ in $(seq 600); do
		[ "$(wc -l < "$T/early.out")" -lt $early_n ] || break
		sleep 0.1
	done
	ans=$(sed -n "${early_n}p" "$T/early.out")
}
early open demo $D/libdemo.so.1.0
expect_eq "$ans" opened "open before the activation"
# /usr/lib without its submounts: the lower directory, uncovered
mkdir -p /mnt/pl-usrlib
mount --bind /usr/lib /mnt/pl-usrlib
mount --make-private /mnt/pl-usrlib
lower=/mnt/pl-usrlib/x86_64-linux-gnu/${ZLIB##*/}
expect_write OK $SYSFS/layers/zlib-fix/state activate
expect_write OK $SYSFS/layers/demo-fix/state activate
cmp -s $lower $ZLIB && fail "the bind mount shows the layer's file, not the base"

# map FILE [PROT]: "mapped" or the errno's name
map() {
	python3 - "$@" <<'PY'
import errno, mmap, os, sys
prot = mmap.PROT_READ | (mmap.PROT_EXEC if len(sys.argv) < 3 else 0)
fd = os.open(sys.argv[1], os.O_RDONLY)
try:
    mmap.mmap(fd, 4096, flags=mmap.MAP_PRIVATE, prot=prot)
    print("mapped")
except OSError as e:
    print(errno.errorcode[e.errno])
PY
}

expect_rc 1 "$PL" enforce on zlib-fix-not-there
expect_eq "$(map $lower)" mapped "enforcement not loaded"
expect_rc 0 "$PL" bpf load
expect_eq "$(map $lower)" mapped "enforcement off by default"
"$PL" -j bpf events > "$T/events" 2> "$T/events.err" &
events=$!
for _ in $(seq 100); do grep -q listening "$T/events.err" && break; sleep 0.1; done

expect_rc 0 "$PL" enforce on zlib-fix
expect_match "$out" "enforcement on for layer zlib-fix" "enforce on"
expect_eq "$(map $lower)" EPERM "stale base, executable"
expect_eq "$(map $lower ro)" mapped "stale base, not executable"
expect_eq "$(map $ZLIB)" mapped "the layer's file"
# mapped writable-private, then made executable: refused too
rc=0; python3 - $lower <<'PY' || rc=$?
import ctypes, errno, mmap, os, sys
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open(sys.argv[1], os.O_RDONLY)
m = mmap.mmap(fd, 4096, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
r = libc.mprotect(ctypes.c_void_p(addr), 4096, mmap.PROT_READ | mmap.PROT_EXEC)
sys.exit(0 if r != 0 and ctypes.get_errno() == errno.EPERM else 1)
PY
expect_eq $rc 0 "mprotect(PROT_EXEC) of the stale base refused with EPERM"
rc=0; python3 -c 'import ctypes, sys; ctypes.CDLL(sys.argv[1])' $lower 2> "$T/dlopen.err" || rc=$?
[ $rc != 0 ] && grep -q 'failed to map segment' "$T/dlopen.err" ||
	fail "dlopen of the stale base: $(cat "$T/dlopen.err")"
expect_rc 0 "$PL" -j usage zlib-fix
expect_match "$out" '"enforce":true,"crashes":0,"denied":3' "denied count"
sleep 1
grep -q '"event":"denied","layer":"zlib-fix"' "$T/events" || fail "no denied event: $(cat "$T/events")"

# the protected path, in the process started before the activation
early openmap $ZLIB
expect_eq "$ans" EPERM "stale base through the protected path, no read first"
expect_rc 0 "$PL" enforce on demo-fix
early map demo
expect_eq "$ans" EPERM "stale base opened before the activation, no read since"

expect_rc 0 "$PL" enforce off zlib-fix
expect_eq "$(map $lower)" mapped "enforcement off again"

# dropping the layer ends enforcement, without anyone syncing
expect_rc 0 "$PL" enforce on zlib-fix
expect_eq "$(map $lower)" EPERM "enforcement on again"
expect_write OK $SYSFS/layers/zlib-fix/state drop
expect_eq "$(map $lower)" mapped "after drop"
expect_rc 1 "$PL" enforce on zlib-fix
expect_match "$out" "layer 'zlib-fix' is loaded, not active" "enforce on a dropped layer"
expect_write OK $SYSFS/layers/zlib-fix/state activate
expect_eq "$(map $lower)" mapped "activated again: enforcement stays off"
expect_rc 0 "$PL" -j bpf status
expect_match "$out" '"name":"zlib-fix","synced":true,"active":true,"enforce":false' "status"
