# show, inbox and log --layer/--since read the store without the kernel; -j parses
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

gen_key vendor
make_fixture
store=$work/store inbox=$work/inbox
mkdir -p "$store" "$inbox/rejected" "$work/dpkg/info"
build_layer "$store/demo" > /dev/null
printf 'trust = %s\nstore = %s\ninbox = %s\n' "$work/vendor.pem" "$store" "$inbox" > "$work/conf"
export PATCHLAYER_CONF=$work/conf PATCHLAYER_SYSFS=$work/no-sysfs DPKG_ADMINDIR=$work/dpkg
export T1 T2 store
# the package lists: T1 as named, T2 under its /usr-merged name
printf '/.\n/usr\n%s\n' "$T1" > "$work/dpkg/info/libdemo1:amd64.list"
printf '/usr%s\n' "$T2" > "$work/dpkg/info/libother2.list"
printf '/usr/share/doc/x\n' > "$work/dpkg/info/unrelated.list"
now=$(date -u +%s)
stamp() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
{
	echo "$(stamp $((now - 7200))) demo pending: auto_install is off"
	echo "$(stamp $((now - 7000))) other rejected: the kernel refused it: EBADMSG (Bad message)"
	echo "a line cut short by a crash"
	echo "$(stamp $((now - 60))) demo active: install by the administrator"
} > "$store/.log"

# --- show
expect_rc 0 "$PL" show demo
expect_line "$out" "layer:    demo ($store/demo)"
expect_line "$out" "version:  1.0"
expect_line "$out" "state:    no record yet"
expect_line "$out" "kernel:   absent"
expect_match "$out" "^signer:   CN=patchlayer test vendor, serial [0-9a-f]+$" "show signer"
expect_match "$out" "^  $T1 +libdemo1:amd64 +sha256 [0-9a-f]{12} +sha256 [0-9a-f]{12}, 28 bytes$" "show file"
expect_match "$out" "^  $T2 +libother2 " "show /usr-merged file"
expect_line "$out" "processes: none: the layer is not active"
expect_match "$out" "^  [0-9TZ:-]+ active: install by the administrator$" "show history"
expect_no_match "$out" "rejected|cut short" "show history of another layer"
expect_rc 0 "$PL" show demo -j
json_check "$out" '
assert d["name"] == "demo" and d["version"] == "1.0" and d["replaces"] is None, d
assert d["state"] is None and d["kernel"] == "absent" and d["source"] is None and d["advisories"] == [], d
assert d["signer"]["verified"] and d["signer"]["who"].startswith("CN=patchlayer test vendor"), d
f = {x["target"]: x for x in d["files"]}
assert f[E["T1"]]["package"] == "libdemo1:amd64" and f[E["T2"]]["package"] == "libother2", f
assert f[E["T1"]]["replacement"] == E["store"] + "/demo/files" + E["T1"] and f[E["T1"]]["size"] == 28, f
assert d["processes"] == {"counted": False, "why": "none: the layer is not active",
                          "patched": [], "stale": []}, d["processes"]
assert [h["message"] for h in d["history"]] == ["pending: auto_install is off",
                                               "active: install by the administrator"], d
'
# an untrusted signer is named, not verified
printf 'store = %s\n' "$store" > "$work/conf2"
expect_rc 0 "$PL" show --config "$work/conf2" demo
expect_match "$out" "^signer:   issuer CN=patchlayer test vendor, serial [0-9a-f]+ \(not verified" "untrusted signer"
expect_rc 1 "$PL" show nosuch
expect_eq "$err" "patchlayer: show: no layer nosuch in the store $store: No such file or directory"
expect_rc 1 "$PL" -j show nosuch
json_check "$out" 'assert d["errno"] == "ENOENT" and d["exit"] == 1, d'
expect_rc 1 "$PL" show ../demo
expect_rc 2 "$PL" show

# --- inbox
mkdir "$inbox/incoming" "$inbox/rejected/other" "$inbox/.partial.tmp"
printf 'the kernel refused it: EBADMSG (Bad message)\n' > "$inbox/rejected/other.reason"
expect_rc 0 "$PL" inbox
expect_line "$out" "inbox: $inbox"
expect_match "$out" "^  incoming +directory +[0-9TZ:-]+$" "inbox pending"
expect_match "$out" "^  other +directory +[0-9TZ:-]+ +the kernel refused it: EBADMSG \(Bad message\)$" "inbox rejected"
expect_no_match "$out" "partial|\.reason" "inbox hides temporaries"
expect_rc 0 "$PL" -j inbox
json_check "$out" '
assert [e["name"] for e in d["pending"]] == ["incoming"], d
r = d["rejected"]
assert len(r) == 1 and r[0]["reason"] == "the kernel refused it: EBADMSG (Bad message)", r
assert d["quarantined"] == [], d
'
# a record the daemon could not parse, kept aside
printf 'garbage\n' > "$store/.demo.state.bad"
expect_rc 0 "$PL" inbox
expect_match "$out" "^quarantined: $" "inbox quarantined"
expect_match "$out" "^  demo +file +[0-9TZ:-]+ +$store/.demo.state.bad: its state file did not parse$" "inbox quarantined"
expect_rc 0 "$PL" inbox -j
json_check "$out" '
q = d["quarantined"]
assert [e["name"] for e in q] == ["demo"] and q[0]["reason"].endswith(".demo.state.bad: its state file did not parse"), q
'
printf 'inbox = %s/none\nstore = %s\n' "$work" "$store" > "$work/conf3"
expect_rc 0 "$PL" inbox --config "$work/conf3" -j
json_check "$out" 'assert d["pending"] == [] and d["rejected"] == [], d'

# --- log
expect_rc 0 "$PL" log
expect_eq "$(wc -l <<< "$out")" 4 "log lines"
expect_rc 0 "$PL" log --layer demo
expect_eq "$(wc -l <<< "$out")" 2 "log --layer demo"
expect_rc 0 "$PL" log --since -1h
expect_eq "$out" "$(stamp $((now - 60))) demo active: install by the administrator" "log --since -1h"
expect_rc 0 "$PL" log --layer other --since "$(date -d @$((now - 10800)) '+%Y-%m-%d %H:%M')" -j
json_check "$out" 'assert [e["layer"] for e in d] == ["other"] and "EBADMSG" in d[0]["message"], d'
expect_rc 0 "$PL" -j log --since "$(date -d tomorrow +%Y-%m-%d)"
expect_eq "$out" "[]" "log of the future"
expect_rc 0 "$PL" -j log
json_check "$out" 'assert len(d) == 4 and d[2] == {"time": None, "layer": None, "message": "a line cut short by a crash"}, d'
expect_rc 2 "$PL" log --since yesterday-ish
expect_match "$err" "is not a time" "log --since error"
expect_rc 2 "$PL" log --frob
expect_rc 0 "$PL" log --config "$work/conf" --layer demo
expect_eq "$(wc -l <<< "$out")" 2 "log --config --layer"
rm "$store/.log"
expect_rc 0 "$PL" -j log
expect_eq "$out" "[]" "no history yet"
echo "ok"
