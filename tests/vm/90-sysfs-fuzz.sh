# Random and truncated bytes into every writable file under
# /sys/kernel/patchlayer, the layers' state files included: each write
# fails with an errno the ABI allows (or does what it would do anyway),
# the kernel stays clean, and the layers still load, activate and unload.
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d /var/tmp/pl-test.XXXXXX)
S=/usr/lib/pl-fuzz
make_libdir $S
make_key "$T" vendor
patched_zlib "$T/libz.so"
build_layer "$T/zfix" vendor zfix "1" "$T/libz.so=$S/libdemo.so.1.0"

modprobe patchlayer
expect_write OK $SYSFS/trust --bytes-from "$T/vendor.der"
expect_write OK $SYSFS/load "$T/zfix"
expect_rc 0 "$PL" protect $S

# every writable file there is, found rather than listed, so that a new
# one is fuzzed too
writable=$(find $SYSFS -type f -perm /222 | sort)
echo "writable files:" $writable
for f in load unload trust trust_locked layers/zfix/state; do
	grep -qx "$SYSFS/$f" <<< "$writable" || fail "$f is not among the writable files"
done

python3 - "$T" $writable <<'PY'
import collections, errno, os, random, sys

tmp, files = sys.argv[1], sys.argv[2:]
# a new seed each run, printed: PL_SEED=N in the test's environment replays it
seed = int(os.environ.get("PL_SEED") or int.from_bytes(os.urandom(4), "little"))
rng = random.Random(seed)
print(f"seed {seed}; errno counts per file below")
der = open(f"{tmp}/vendor.der", "rb").read()
valid = {
    "load": f"{tmp}/zfix\n".encode(),
    "unload": b"zfix\n",
    "trust": der,
    "trust_locked": b"0\n",
    "state": b"activate\n",
}
# what each file may answer to garbage (docs/ABI/sysfs-kernel-patchlayer)
allowed = {
    "load": {"EINVAL", "ENOENT", "ENAMETOOLONG", "ENOTDIR", "EACCES", "ELOOP", "EEXIST", "EXDEV", "EPERM", "EMEDIUMTYPE"},
    "unload": {"EINVAL", "ENOENT"},
    # a flipped bit in the key still parses: refused, never displacing
    "trust": {"EINVAL", "EEXIST"},
    "trust_locked": {"EINVAL"},
    "state": {"EINVAL"},
}

def locks_trust(data):
    # kstrtobool's "true": writing it would close the keyring until reboot
    return data[:1] in (b"1", b"y", b"Y", b"t", b"T") or data[:2].lower() == b"on"

def inputs(kind):
    v = valid[kind]
    for cut in range(len(v)):
        yield v[:cut]                          # every truncation
    for _ in range(300):
        n = rng.choice([1, 2, 7, 64, 255, 256, 4095, 4096, 5000])
        yield bytes(rng.getrandbits(8) for _ in range(rng.randint(1, n)))
    for _ in range(200):                       # valid bytes with a few flipped
        b = bytearray(v)
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(len(b))] = rng.getrandbits(8)
        yield bytes(b)
    yield b"\0" * 10
    yield b"\n\n"
    yield v.rstrip(b"\n") + b"\0junk"
    yield v + v

total = 0
for path in files:
    kind = os.path.basename(path)
    seen = collections.Counter()
    for data in inputs(kind):
        if kind == "trust_locked" and locks_trust(data):
            continue
        if kind == "unload" and data.rstrip(b"\n") == b"zfix":
            continue
        try:
            fd = os.open(path, os.O_WRONLY)
        except FileNotFoundError:
            break                              # a layer directory went away
        try:
            os.write(fd, data)
            res = "OK"
        except OSError as e:
            res = errno.errorcode.get(e.errno, str(e.errno))
        finally:
            os.close(fd)
        seen[res] += 1
        total += 1
        ok = {"OK"} | allowed[kind]
        if kind == "state":
            # a flipped byte may still spell "drop" or "activate"
            ok |= {"EBUSY"}
        if res not in ok:
            sys.exit(f"FAIL: {len(data)} bytes {data[:40]!r} to {path}: {res}")
    print(f"  {path}: {dict(seen)}")
print(f"{total} writes")
PY

# after all that, the layer still works as it should
state=$(layer_state zfix)
case "$state" in loaded|active) ;; *) fail "zfix is $state after the fuzzing" ;; esac
expect_write OK $SYSFS/layers/zfix/state activate
expect_eq "$(layer_state zfix)" active "state"
expect_write OK $SYSFS/layers/zfix/state drop
expect_write OK $SYSFS/unload zfix
no_layers
expect_eq "$(cat $SYSFS/trust_locked)" 0 "trust_locked"
expect_write OK $SYSFS/load "$T/zfix"
expect_write OK $SYSFS/unload zfix
expect_rc 0 "$PL" unprotect $S
module_unload
