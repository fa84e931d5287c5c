# show, inbox, log --layer/--since and both dry runs on a real layer: the
# dry run changes nothing and names the processes activation then leaves
# stale; a process renamed to invalid UTF-8 keeps every -j document valid.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemonlib.sh"
. "$(dirname "$0")/bpflib.sh"
sleepers=
trap 'kill $sleepers 2>/dev/null || true; daemon_cleanup' EXIT
daemon_setup
export PATCHLAYER_CONF=$CONF

# strict: one document, UTF-8 without surrogate escapes
json_strict() { # WHAT: stdin
	python3 -c '
import json, sys
json.loads(sys.stdin.buffer.read().decode("utf-8", "strict"))
' || fail "$1: not valid JSON"
}
pl_json() { # ARGS...: "$PL" ARGS -j, its stdout (only) in $out, checked strictly
	local rc=0
	out=$("$PL" "$@" -j 2> "$T/stderr") || rc=$?
	[ "$rc" = "${want_rc:-0}" ] || fail "$* -j exited $rc: $out $(cat "$T/stderr")"
	json_strict "$*" <<< "$out"
}

daemon_config "auto_install = no" "restart_services = all"
daemon_start
deliver $T/zfix zfix
wait_store zlib-fix pending
# a delivery the kernel refuses: a replacement changed after signing
build_layer "$T/zbad" vendor zlib-bad 1 "$T/libz.so=$ZLIB"
printf 'x' >> "$T/zbad/files$ZLIB"
deliver $T/zbad zbad
for _ in $(seq 50); do [ -e $INBOX/rejected/zbad ] && break; sleep 0.1; done
pl_json inbox
python3 - "$out" <<'PY' || fail "inbox -j: $out"
import json, sys
d = json.loads(sys.argv[1])
assert d["pending"] == [], d
r = {e["name"]: e for e in d["rejected"]}
assert "EBADMSG" in r["zbad"]["reason"] and r["zbad"]["type"] == "directory", r
PY
expect_rc 0 "$PL" inbox
expect_match "$out" "^  zbad +directory +[0-9TZ:-]+ +.*EBADMSG" "inbox text"

# old processes map the base; one renamed to bytes that are not UTF-8
"$PL" bpf load > /dev/null
for i in 1 2; do zlib_sleeper "$T/old$i"; done
python3 -c '
import ctypes, time, zlib
ctypes.CDLL(None).prctl(15, b"\xff\xfe", 0, 0, 0)
print(zlib.ZLIB_RUNTIME_VERSION, flush=True)
time.sleep(600)' > "$T/odd" &
sleepers="$sleepers $!"
odd=$!
for _ in $(seq 100); do [ -s "$T/odd" ] && break; sleep 0.1; done
expect_eq "$(od -An -tx1 /proc/$odd/comm | tr -d ' ')" fffe0a "renamed process"

# --- the dry runs: what they predict, and nothing changed
for verb in activate install; do
	pl_json $verb --dry-run zlib-fix
	python3 - "$out" "$sleepers" "$verb" <<'PY' || fail "$verb --dry-run -j: $out"
import json, sys
d = json.loads(sys.argv[1])
assert d["dry_run"] and d["verb"] == sys.argv[3] and d["kernel"] == "loaded", d
assert d["state"] == "pending" and d["would"] == "activate it" and d["base_fits"], d
assert [b["ok"] for b in d["base"]] == [True], d
pids = {p["pid"] for p in d["stale"]}
assert {int(p) for p in sys.argv[2].split()} <= pids, (pids, sys.argv[2])
assert "\ufffd\ufffd" in [p["comm"] for p in d["stale"]], d["stale"]
PY
	expect_eq "$(layer_state zlib-fix)" loaded "kernel after $verb --dry-run"
	expect_eq "$(store_state zlib-fix)" pending "store after $verb --dry-run"
done
predicted=$(python3 -c 'import json, sys; print(" ".join(sorted(str(p["pid"]) for p in json.loads(sys.argv[1])["stale"])))' "$out")
expect_rc 0 "$PL" activate --dry-run zlib-fix
expect_match "$out" "^activate zlib-fix --dry-run: would activate it; nothing was changed" "dry run text"
expect_match "$out" "^ok +base $ZLIB: sha256 " "dry run base"
expect_match "$out" "^ +$odd +" "dry run lists the renamed process"

# --- activation does what the dry run said
pl_json install zlib-fix
json_check_py() { python3 -c "import json, sys; d = json.loads(sys.argv[1]); $1" "$out" || fail "$2: $out"; }
json_check_py 'assert d == {"layer": "zlib-fix", "verb": "install", "state": "active", "kernel": "active",
                            "why": "install by the administrator"}, d' "install -j"
expect_eq "$(layer_state zlib-fix)" active "after install"
got=$("$PL" -j usage zlib-fix | python3 -c '
import json, sys
d = json.loads(sys.stdin.buffer.read().decode("utf-8", "strict"))
print(" ".join(sorted(str(p["pid"]) for l in d["layers"] for p in l["stale"])))')
# the same processes, but the patchlayer commands that were running then
for p in $predicted; do
	[ -d /proc/$p ] || continue
	[[ " $got " == *" $p "* ]] || fail "predicted stale $p, usage says stale: $got"
done
for p in $got; do
	[ -d /proc/$p ] || continue	# the usage command itself, gone now
	[[ " $predicted " == *" $p "* ]] || fail "usage says $p is stale, the dry run did not: $predicted"
done
pl_json activate --dry-run zlib-fix
json_check_py 'assert d["would"] == "nothing: zlib-fix is active already" and d["stale"] == [], d' \
	"dry run of an active layer"

# --- show
pl_json show zlib-fix
python3 - "$out" "$ZLIB" "$odd" <<'PY' || fail "show -j: $out"
import json, sys
d = json.loads(sys.argv[1])
assert d["name"] == "zlib-fix" and d["version"] == "26.3 (b)" and d["state"] == "active", d
assert d["kernel"] == "active" and d["signer"]["verified"], d
assert "CN=" in d["signer"]["who"] and d["source"] is None and d["packages"] == [], d
f = d["files"][0]
assert f["target"] == sys.argv[2] and f["package"].startswith("zlib1g"), f
assert f["replacement"].endswith("/zlib-fix/files" + sys.argv[2]), f
assert d["processes"]["counted"], d["processes"]
assert int(sys.argv[3]) in [p["pid"] for p in d["processes"]["stale"]], d["processes"]
assert any("install by the administrator" in h["message"] for h in d["history"]), d["history"]
assert all(h["layer"] == "zlib-fix" for h in d["history"]), d["history"]
PY
expect_rc 0 "$PL" show zlib-fix
expect_match "$out" "^state: +active since .*install by the administrator" "show state"
expect_match "$out" "^  $ZLIB +zlib1g" "show file and package"
expect_match "$out" "^processes: [0-9]+ patched, [3-9] stale" "show processes"
want_rc=1 pl_json show nosuch
json_check_py 'assert d["errno"] == "ENOENT" and "nosuch" in d["error"], d' "show of an unknown layer"

# --- log: by layer and by time
pl_json log --layer zlib-fix
json_check_py 'assert d and all(e["layer"] == "zlib-fix" for e in d), d' "log --layer"
pl_json log --layer zbad
json_check_py 'assert d and all(e["layer"] == "zbad" and "rejected" in e["message"] for e in d), d' \
	"log --layer zbad"
pl_json log --since -1h
json_check_py 'assert {e["layer"] for e in d} >= {"zlib-fix", "zbad"}, d' "log --since -1h"
pl_json log --since "$(date -d tomorrow '+%Y-%m-%d %H:%M')"
expect_eq "$out" "[]" "log --since tomorrow"
expect_rc 0 "$PL" log --layer zlib-fix --since "$(date '+%Y-%m-%d')"
! grep -q " zbad " <<< "$out" || fail "log --layer zlib-fix lists zbad: $out"
expect_match "$out" "zlib-fix .*install by the administrator" "log --layer, text"
expect_rc 2 "$PL" log --since yesterday-ish
daemon_stop
