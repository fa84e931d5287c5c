# A read-only open opens its real file at first use (module/fs_file.c):
# whatever happens to the name between open and first use, the descriptor
# reads, maps and seeks the file it opened; racing first uses agree; opens
# for writing still take write access at open(2).
. "$(dirname "$0")/lib.sh"

S=/usr/lib/pl-test
T=/var/lib/pl-store
mkdir -p $T && mount -t tmpfs tmpfs $T
make_libdir $S
make_key $T vendor
{ cat $S/libdemo.so.1.0; echo patched; } > $T/repl
build_layer $T/lazy vendor lazy 1 "$T/repl=$S/libdemo.so.1.0"
modprobe patchlayer
expect_rc 0 "$PL" protect $S
expect_write OK $SYSFS/trust --bytes-from $T/vendor.der
expect_write OK $SYSFS/load $T/lazy

# Each check opens first, changes the world, then uses the descriptor.
python3 - $S <<'PY' || fail "lazy open checks"
import mmap, os, sys, threading
S = sys.argv[1]
base = open(S + "/libdemo.so.1.0", "rb").read()
failures = 0

def check(what, got, want):
    global failures
    if got != want:
        failures += 1
        print("FAIL: %s: %r... != %r..." % (what, got[:16], want[:16]))

# the name is replaced (as dpkg does) after open: the old file is read
with open(S + "/README", "w") as f:
    f.write("old\n")
fd = os.open(S + "/README", os.O_RDONLY)
with open(S + "/README.new", "w") as f:
    f.write("new\n")
os.rename(S + "/README.new", S + "/README")
check("read after rename over", os.read(fd, 100), b"old\n")
os.close(fd)

# unlinked after open
fd = os.open(S + "/README", os.O_RDONLY)
os.unlink(S + "/README")
check("read after unlink", os.read(fd, 100), b"new\n")
os.close(fd)

# mmap as the first use, no read before it (the loader reads first)
fd = os.open(S + "/libdemo.so.1.0", os.O_RDONLY)
m = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
maps = [l for l in open("/proc/self/maps") if l.rstrip().endswith(S + "/libdemo.so.1.0")]
if not maps:
    failures += 1
    print("FAIL: the mapping does not name the protected path")
check("mmap first", m[:len(base)], base)
m.close()
os.close(fd)

# lseek as the first use: SEEK_END needs the real file's size
fd = os.open(S + "/libdemo.so.1.0", os.O_RDONLY)
if os.lseek(fd, 0, os.SEEK_END) != len(base):
    failures += 1
    print("FAIL: SEEK_END as first use")
os.close(fd)

# 16 threads make the first use of one descriptor at once, 200 times
for _ in range(200):
    fd = os.open(S + "/libdemo.so.1.0", os.O_RDONLY)
    got = []
    start = threading.Barrier(16)
    def reader():
        start.wait()
        got.append(os.pread(fd, 4096, 0))
    threads = [threading.Thread(target=reader) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    os.close(fd)
    if got != [base[:4096]] * 16:
        failures += 1
        print("FAIL: racing first reads")
        break

sys.exit(1 if failures else 0)
PY

# opened while the layer is active, first used after the drop: the layer's
# (a process started after the activation: each sees the layers of its start)
expect_write OK $SYSFS/layers/lazy/state activate
python3 - $S/libdemo.so.1.0 $T/repl $SYSFS/layers/lazy/state <<'PY' || fail "read after drop"
import os, sys
target, repl, state = sys.argv[1:4]
fd = os.open(target, os.O_RDONLY)
with open(state, "w") as f:
    f.write("drop")
want = open(repl, "rb").read()
got = os.pread(fd, len(want) + 1, 0)
sys.exit(0 if got == want else "read after drop: not the layer's file")
PY
expect_eq "$(layer_state lazy)" loaded "state after the drop"

# every real file is released: opens never used, used once, used racing
filp() {
	settle
	awk '$1 == "filp" { print $2 }' /proc/slabinfo
}
before=$(filp)
python3 - $S/libdemo.so.1.0 <<'PY' || fail "open loop"
import os, sys
for i in range(3000):
    fd = os.open(sys.argv[1], os.O_RDONLY)
    if i % 3:
        os.pread(fd, 64, 0)
    os.close(fd)
PY
after=$(filp)
if debug_kernel; then
	echo "filp objects: $before before, $after after 3000 opens (debug kernel: kmemleak judges)"
else
	[ $((after - before)) -lt 300 ] || fail "filp objects grew from $before to $after over 3000 opens"
fi

# write access is still taken by open(2): a running program's file
cp /usr/bin/sleep $S/plsleep
$S/plsleep 60 &
sleeper=$!
sleep 1
expect_rc 1 python3 -c 'import sys; open(sys.argv[1], "r+b")' $S/plsleep
expect_match "$out" "Text file busy" "open for writing of a running program"
kill $sleeper
wait $sleeper 2>/dev/null || true

expect_rc 0 "$PL" unprotect $S
expect_write OK $SYSFS/unload lazy
no_layers
module_unload
