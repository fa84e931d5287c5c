#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Malformed generic netlink messages to the patchlayer family.

usage: netlink-fuzz.py COUNT
Sends well-formed requests with bad attributes (unknown, known but not
accepted, wrong lengths, nested), bad commands, truncated headers and
random bytes. Every reply must be an error with an errno from a small set
(or no reply at all, for what the netlink core drops); after each message
a valid GET_INFO still answers. Prints the errno counts.
"""
import collections, errno, os, random, select, socket, struct, sys

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR, NLMSG_DONE = 2, 3
CMD_GET_INFO, CMD_EVENT = 1, 2
ATTR_MAX = 8

seq = 0


def attr(t, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, t) + payload + b"\0" * ((4 - n % 4) % 4)


def msg(ftype, cmd, payload, flags=NLM_F_REQUEST | NLM_F_ACK, version=1, length=None):
    global seq
    seq += 1
    body = struct.pack("=BBH", cmd, version, 0) + payload
    n = 16 + len(body) if length is None else length
    return struct.pack("=IHHII", n, ftype, flags, seq, 0) + body


def replies(s, timeout=1.0):
    """The errnos of the NLMSG_ERROR replies (0 is an ACK), and other types."""
    out = []
    while select.select([s], [], [], timeout)[0]:
        data = s.recv(65536)
        off = 0
        while off + 16 <= len(data):
            n, t = struct.unpack_from("=IH", data, off)
            if t == NLMSG_ERROR:
                out.append(-struct.unpack_from("=i", data, off + 16)[0])
            else:
                out.append(("type", t))
            if n < 16:
                break
            off += (n + 3) & ~3
        timeout = 0.05
    return out


def family_id(s):
    s.send(msg(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, attr(CTRL_ATTR_FAMILY_NAME, b"patchlayer\0"),
               flags=NLM_F_REQUEST))
    data = s.recv(65536)
    off = 20
    while off < len(data):
        n, t = struct.unpack_from("=HH", data, off)
        if t == CTRL_ATTR_FAMILY_ID:
            return struct.unpack_from("=H", data, off + 4)[0]
        off += (n + 3) & ~3
    sys.exit("FAIL: no patchlayer family")


def get_info_works(s, fam):
    s.send(msg(fam, CMD_GET_INFO, b"", flags=NLM_F_REQUEST))
    r = replies(s)
    if ("type", fam) not in r:
        sys.exit(f"FAIL: GET_INFO no longer answers: {r}")


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    # a new seed each run, printed: PL_SEED=N in the environment replays it
    seed = int(os.environ.get("PL_SEED") or int.from_bytes(os.urandom(4), "little"))
    rng = random.Random(seed)
    print(f"seed {seed}")
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    s.bind((0, 0))
    fam = family_id(s)
    get_info_works(s, fam)

    cases = []
    # every attribute the family knows, and some it does not: requests take none
    for t in list(range(0, ATTR_MAX + 3)) + [0x7fff, 0x8001, 0xffff]:
        for p in (b"", b"\0", b"1234", b"patchlayer\0", b"x" * 300):
            cases.append(("attr %d len %d" % (t, len(p)), msg(fam, CMD_GET_INFO, attr(t, p))))
    # nested flag, bad attribute lengths
    cases.append(("nested", msg(fam, CMD_GET_INFO, attr(0x8000 | 1, attr(1, b"ab")))))
    for n in (0, 1, 3, 4, 5, 200, 0xffff):
        cases.append(("nla_len %d" % n, msg(fam, CMD_GET_INFO, struct.pack("=HH", n, 1) + b"abcd")))
    # commands: none, the multicast-only EVENT, unknown
    for c in (0, CMD_EVENT, 3, 100, 255):
        cases.append(("cmd %d" % c, msg(fam, c, b"")))
    cases.append(("version 0", msg(fam, CMD_GET_INFO, b"", version=0)))
    cases.append(("version 255", msg(fam, CMD_GET_INFO, b"", version=255)))
    # lengths that disagree with the datagram
    for n in (0, 8, 15, 16, 17, 19, 21, 64, 4096, 0xffffffff):
        cases.append(("nlmsg_len %d" % n, msg(fam, CMD_GET_INFO, b"\1\0\1\0", length=n)))
    cases.append(("header only", msg(fam, CMD_GET_INFO, b"")[:16]))
    cases.append(("short header", msg(fam, CMD_GET_INFO, b"")[:10]))
    cases.append(("dump", msg(fam, CMD_GET_INFO, b"", flags=NLM_F_REQUEST | 0x300)))
    while len(cases) < count:
        kind = rng.randrange(3)
        if kind == 0:
            payload = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 200)))
            cases.append(("random payload", msg(fam, rng.choice([0, 1, 2, 3, rng.randrange(256)]), payload)))
        elif kind == 1:
            payload = b"".join(attr(rng.randrange(ATTR_MAX + 4), bytes(rng.getrandbits(8)
                               for _ in range(rng.randint(0, 40)))) for _ in range(rng.randint(1, 5)))
            cases.append(("random attrs", msg(fam, CMD_GET_INFO, payload)))
        else:
            b = bytearray(msg(fam, CMD_GET_INFO, attr(1, b"abcdefgh")))
            # nlmsg_type (bytes 4-5) stays ours: a flip there addresses
            # another family, whose answers (ESRCH, ...) are not ours to judge
            for _ in range(rng.randint(1, 4)):
                b[rng.choice([i for i in range(len(b)) if i not in (4, 5)])] = rng.getrandbits(8)
            cases.append(("flipped bytes", bytes(b)))

    # what a request may be answered: refused for its attributes, command
    # or rights; or (0) acknowledged when it was a plain valid request
    allowed = {0, errno.EINVAL, errno.EOPNOTSUPP, errno.ERANGE, errno.EPERM, errno.E2BIG,
               errno.EMSGSIZE, errno.ENOENT, errno.ENODATA}
    seen = collections.Counter()
    for i, (what, m) in enumerate(cases):
        try:
            s.send(m)
        except OSError as e:
            seen["send " + errno.errorcode[e.errno]] += 1
            continue
        for r in replies(s, 0.2):
            if isinstance(r, tuple):
                seen["reply"] += 1
                continue
            seen[errno.errorcode.get(r, str(r)) if r else "ack"] += 1
            if r not in allowed:
                t = struct.unpack_from("=H", m, 4)[0] if len(m) >= 6 else None
                sys.exit(f"FAIL: {what}: errno {r} (nlmsg_type {t}, family {fam}): {m[:24].hex()}")
        if i % 50 == 0:
            get_info_works(s, fam)
    get_info_works(s, fam)
    print(f"{len(cases)} messages as uid {os.getuid()}: {dict(seen)}")


main()
