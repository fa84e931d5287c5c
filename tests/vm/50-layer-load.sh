# A signed layer for the guest's real libz loads once its certificate is
# trusted: sysfs, write denial, netlink events and the verify tracepoint.
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d /var/tmp/pl-test.XXXXXX)
make_key "$T" vendor
patched_zlib "$T/libz.so"
build_layer "$T/zfix" vendor zlib-fix "26.3 (b)" "$T/libz.so=$ZLIB"
"$PL" verify --cert "$T/vendor.pem" "$T/zfix" > /dev/null || fail "patchlayer verify refuses the layer"

modprobe patchlayer
echo 1 > $TRACEFS/events/patchlayer/patchlayer_verify/enable
"$PL" -j monitor > "$T/events" 2> "$T/monitor.err" &
monitor=$!
trap 'kill $monitor 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q listening "$T/monitor.err" && break; sleep 0.1; done

# not trusted yet
expect_write EKEYREJECTED $SYSFS/load "$T/zfix"
no_layers
expect_write OK $SYSFS/trust --bytes-from "$T/vendor.der"
expect_write OK $SYSFS/trust --bytes-from "$T/vendor.der"	# idempotent
expect_write OK $SYSFS/load "$T/zfix"
expect_write EEXIST $SYSFS/load "$T/zfix"

L=$SYSFS/layers/zlib-fix
expect_eq "$(cat $L/state)" loaded "state"
expect_eq "$(cat $L/version)" "26.3 (b)" "version"
expect_eq "$(cat $L/replaces)" "" "replaces"
expect_eq "$(cat $L/path)" "$T/zfix" "path"
# target, digest, verdict, then "major:minor:inode" of the replacement and
# of the base (inode only: the guest's root maps 9p devices)
expect_match "$(cat $L/files)" "^$ZLIB $(sha256sum < "$T/libz.so" | cut -d' ' -f1) verified [0-9]+:[0-9]+:$(stat -c %i "$T/zfix/files$ZLIB") [0-9]+:[0-9]+:$(stat -c %i $ZLIB)\$" "files"
[ "$(wc -l < $L/files)" = 1 ] || fail "files: more than one line"

# verified bytes cannot change while the layer is loaded
rc=0
python3 -c 'import sys; open(sys.argv[1], "r+b")' "$T/zfix/files$ZLIB" 2> "$T/err" || rc=$?
[ "$rc" != 0 ] && grep -q 'Errno 26' "$T/err" || fail "replacement opened for writing while loaded: $(cat "$T/err")"

# a zero-file layer is the "security test": it only proves delivery works
build_layer "$T/test-a" vendor security-test "26.3 (a)"
expect_eq "$(grep -c '^file:' "$T/test-a/manifest" || true)" 0 "file records of the test layer"
expect_write OK $SYSFS/load "$T/test-a"
expect_eq "$(cat $SYSFS/layers/security-test/files)" "" "files of the test layer"

# a cumulative layer names its predecessor
build_layer "$T/zfix2" vendor zlib-fix-2 "26.3 (c)" --replaces zlib-fix "$T/libz.so=$ZLIB"
expect_write OK $SYSFS/load "$T/zfix2"
expect_eq "$(cat $SYSFS/layers/zlib-fix-2/replaces)" zlib-fix "replaces"

# unload
expect_write ENOENT $SYSFS/unload "no-such-layer"
expect_write EINVAL $SYSFS/unload "../zlib-fix"
expect_write EINVAL $SYSFS/unload $'\n'
expect_write OK $SYSFS/unload "zlib-fix"
[ ! -e $L ] || fail "$L left after unload"
writable "$T/libz.so"
expect_write ENOENT $SYSFS/unload "zlib-fix"
# the replacement of zlib-fix-2 is a different copy, still held
expect_write OK $SYSFS/unload "zlib-fix-2"
writable "$T/zfix/files$ZLIB"
writable "$T/zfix2/files$ZLIB"
expect_write OK $SYSFS/unload "security-test"
no_layers

# the verdicts on the tracepoint
trace=$(grep patchlayer_verify $TRACEFS/trace)
expect_match "$trace" "path=$T/zfix layer= err=-129 reason=manifest.p7s: signature rejected" "verify trace"
expect_match "$trace" "path=$T/zfix layer=zlib-fix err=0 reason=verified" "verify trace"
expect_match "$trace" "layer=zlib-fix err=-17 reason=a layer named zlib-fix is already loaded" "verify trace"

# the same story on netlink, in order
sleep 0.5
kill $monitor
python3 - "$T/events" "$T/zfix" <<'PY'
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
got = [(e["event"], e["layer"], e["errno"]) for e in events]
want = [("rejected", None, "EKEYREJECTED"), ("loaded", "zlib-fix", None),
        ("rejected", "zlib-fix", "EEXIST"), ("loaded", "security-test", None),
        ("loaded", "zlib-fix-2", None), ("unloaded", "zlib-fix", None),
        ("unloaded", "zlib-fix-2", None), ("unloaded", "security-test", None)]
assert got == want, got
assert events[1]["version"] == "26.3 (b)" and events[1]["path"] == sys.argv[2], events[1]
assert "signature" in events[0]["detail"], events[0]
PY

# status lists loaded layers
expect_write OK $SYSFS/load "$T/zfix"
expect_write OK $SYSFS/load "$T/zfix2"
expect_rc 0 "$PL" status
expect_match "$out" "zlib-fix +26.3 \(b\) +loaded +1 +0  -" "status"
expect_match "$out" "zlib-fix-2 +26.3 \(c\) +loaded +1 +0  zlib-fix" "status"
python3 - "$("$PL" -j status)" <<'PY'
import json, sys
layers = json.loads(sys.argv[1])["layers"]
assert [l["name"] for l in layers] == ["zlib-fix", "zlib-fix-2"], layers
assert layers[1] == {"name": "zlib-fix-2", "version": "26.3 (c)", "state": "loaded",
                     "replaces": "zlib-fix", "files": 1, "hits": 0,
                     "source": None, "packages": [], "advisories": []}, layers[1]
PY
