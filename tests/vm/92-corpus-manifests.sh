# Every manifest of the fuzz corpus, and mutations of them (truncated,
# bytes flipped, lines repeated), signed by a trusted key and loaded through
# sysfs: the signature passes, so the kernel's parser and the checks after
# it see hostile text. Each load succeeds or fails with a documented errno,
# and nothing is left behind.
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d /var/tmp/pl-test.XXXXXX)
make_key "$T" vendor
corpus=$PLVM_ROOT/tests/fuzz/corpus/fuzz_manifest
[ -n "$(ls "$corpus")" ] || fail "empty corpus $corpus"

modprobe patchlayer
expect_write OK $SYSFS/trust --bytes-from "$T/vendor.der"

python3 - "$T" "$corpus" "${PL_CORPUS_MUTATIONS:-80}" <<'PY'
import collections, errno, os, random, re, subprocess, sys

tmp, corpus, mutations = sys.argv[1], sys.argv[2], int(sys.argv[3])
# a new seed each run, printed: PL_SEED=N in the test's environment replays it
seed = int(os.environ.get("PL_SEED") or int.from_bytes(os.urandom(4), "little"))
rng = random.Random(seed)
print(f"seed {seed}")
seeds = [open(os.path.join(corpus, f), "rb").read() for f in sorted(os.listdir(corpus))]
allowed = {"OK", "EINVAL", "EFBIG", "ENOENT", "EBADMSG", "ESTALE", "EEXIST"}

def mutate(b):
    b = bytearray(b)
    op = rng.randrange(4)
    if op == 0 and b:
        del b[rng.randrange(len(b)):]
    elif op == 1 and b:
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.choice([0, 10, 13, 32, 47, 58, 0xc0, 0xff, rng.getrandbits(8)])
    elif op == 2:
        lines = bytes(b).split(b"\n")
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
        b = bytearray(b"\n".join(lines))
    else:
        b += rng.choice(seeds)
    return bytes(b)

def load(manifest, i):
    d = f"{tmp}/l{i}"
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/manifest", "wb") as f:
        f.write(manifest)
    subprocess.run(["openssl", "cms", "-sign", "-binary", "-noattr", "-nocerts", "-nosmimecap",
                    "-md", "sha256", "-outform", "DER", "-signer", f"{tmp}/vendor.pem",
                    "-inkey", f"{tmp}/vendor.key", "-in", f"{d}/manifest", "-out",
                    f"{d}/manifest.p7s"], check=True)
    fd = os.open("/sys/kernel/patchlayer/load", os.O_WRONLY)
    try:
        os.write(fd, d.encode())
        res = "OK"
    except OSError as e:
        res = errno.errorcode.get(e.errno, str(e.errno))
    finally:
        os.close(fd)
    if res == "OK":
        name = re.search(rb"^name: (.*)$", manifest, re.M).group(1).decode()
        with open("/sys/kernel/patchlayer/unload", "w") as f:
            f.write(name)
    left = os.listdir("/sys/kernel/patchlayer/layers")
    if left:
        sys.exit(f"FAIL: layers left behind: {left}")
    return res

seen = collections.Counter()
inputs = seeds + [mutate(rng.choice(seeds)) for _ in range(mutations)]
for i, m in enumerate(inputs):
    res = load(m, i)
    seen[res] += 1
    if res not in allowed:
        sys.exit(f"FAIL: manifest {m[:80]!r}...: {res}")
if not seen["OK"]:
    sys.exit("FAIL: not even the valid seeds loaded")
print(f"{len(inputs)} signed manifests: {dict(seen)}")
PY
no_layers
module_unload
