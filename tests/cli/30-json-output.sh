# -j before or after every verb parses, errors included; stdout write errors; config check
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

# No kernel here: the verbs that need the module fail, with -j as a document.
export PATCHLAYER_SYSFS=$work/no-sysfs work

# json_valid WHAT: stdin is one JSON document in strict UTF-8 (python's
# json.load on text would let surrogate escapes through).
json_valid() {
	python3 -c '
import json, sys
json.loads(sys.stdin.buffer.read().decode("utf-8", "strict"))
' || fail "$1: stdout is not one valid JSON document: $(cat "$work/.stdout")"
}

# json_lines_valid WHAT: every line of stdin is one JSON document.
json_lines_valid() {
	python3 -c '
import json, sys
for line in sys.stdin.buffer.read().decode("utf-8", "strict").splitlines():
    json.loads(line)
' || fail "$1: a line of stdout is not valid JSON: $(cat "$work/.stdout")"
}

gen_key vendor
make_fixture
build_layer "$work/layer" > /dev/null
printf 'auto_install = no\ninstall_window = 22:30-04:15\nhealth_window = 90m\n' > "$work/good.conf"
printf '# fine\nauto_install = yes\n\ncrash_threshold = 0\n' > "$work/bad.conf"
# a directory whose name is not UTF-8: the path is in verify's document
bad=$work/$'\xff\xfe'-layer
cp -r "$work/layer" "$bad"

verbs=(
	"status" "monitor --count 1" "protect $work" "unprotect $work" "enforce on demo"
	"bpf load" "bpf unload" "bpf status" "bpf events --count 1" "bpf"
	"usage" "usage --stale demo" "bogus" "config" "config check --config $work/good.conf"
	"config check --config $work/bad.conf" "config check --config $work/missing.conf"
	"verify --cert $work/vendor.pem --base-root $root $work/layer" "verify $work/missing"
	"verify --cert $work/vendor.pem --no-base $bad" "build" "build --name x"
	"layers" "log" "log --layer demo --since -1h" "log --since never" "show demo" "show nosuch"
	"inbox" "install demo" "install --dry-run demo" "activate demo" "activate --dry-run demo"
	"drop demo" "remove demo" "daemon extra"
)
# the store's verbs read a store of their own
mkdir -p "$work/store" "$work/inbox"
cp -r "$work/layer" "$work/store/demo"
printf 'store = %s/store\ninbox = %s/inbox\n' "$work" "$work" > "$work/store.conf"
export PATCHLAYER_CONF=$work/store.conf
for v in "${verbs[@]}"; do
	read -r -a args <<< "$v"
	for form in before after pretty; do
		case $form in
		before) cmd=("$PL" -j "${args[@]}") ;;
		after) cmd=("$PL" "${args[@]}" -j) ;;
		pretty) cmd=("$PL" "${args[@]}" --pretty) ;;
		esac
		rc=0
		"${cmd[@]}" > "$work/.stdout" 2> "$work/.stderr" || rc=$?
		json_valid "${cmd[*]}" < "$work/.stdout"
		if [ "$rc" != 0 ]; then
			# a failure's document names its exit code and the message
			python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d.get("exit", int(sys.argv[2])) == int(sys.argv[2]), d
if "error" in d:
    assert d["error"] and d["error"] in open(sys.argv[3]).read(), d
' "$work/.stdout" "$rc" "$work/.stderr" || fail "${cmd[*]}: error document: $(cat "$work/.stdout")"
		fi
	done
done
expect_rc 3 "$PL" enforce on demo -j
json_check "$out" 'assert d["exit"] == 3 and d["errno"] == "ENOENT" and E["work"] in d["error"], d'
expect_rc 0 "$PL" verify --cert "$work/vendor.pem" --no-base "$bad" -j
json_check "$out" 'assert d["layer"].endswith("\ufffd\ufffd-layer"), d["layer"]'
expect_rc 0 "$PL" -V -j
json_check "$out" 'assert d["version"]'

# --- stdout that cannot be written: the command fails and says so
expect_write_error() { # ERRNO-TEXT CMD...
	local want=$1 rc=0
	shift
	"$@" 2> "$work/.stderr" || rc=$?
	[ "$rc" != 0 ] || fail "'$*' with a failing stdout exited 0"
	grep -qxF "patchlayer: write error on stdout: $want" "$work/.stderr" ||
		fail "'$*': stderr does not say '$want': $(cat "$work/.stderr")"
}
expect_write_error "Bad file descriptor" "$PL" config check --config "$work/good.conf" >&-
expect_write_error "Bad file descriptor" "$PL" -j config check --config "$work/good.conf" >&-
expect_write_error "No space left on device" verify_layer "$work/layer" > /dev/full
expect_write_error "No space left on device" "$PL" -j status > /dev/full
expect_write_error "Bad file descriptor" "$PL" --version >&-
# a closed stdout is not handed to a file the command opens for writing
expect_write_error "Bad file descriptor" build_layer "$work/layer3" >&-
[ "$(head -c 8 "$work/layer3/manifest")" = "format: " ] || fail "layer3's manifest was overwritten"

# --- config check: the effective values, the line of an error, a missing file
expect_rc 0 "$PL" config check --config "$work/good.conf"
expect_line "$out" "# $work/good.conf: valid; the effective values:"
expect_line "$out" "auto_install = no"
expect_line "$out" "install_window = 22:30-04:15"
expect_line "$out" "health_window = 90m"
expect_line "$out" "inbox = /var/lib/patchlayer/inbox"
# what it prints is a configuration file that gives the same values
printf '%s\n' "$out" > "$work/again.conf"
expect_rc 0 "$PL" config check --config "$work/again.conf"
expect_eq "$(tail -n +2 <<< "$out")" "$(tail -n +2 "$work/again.conf")" "config check round trip"
expect_rc 0 "$PL" config check -j --config "$work/good.conf"
json_check "$out" '
c = d["config"]
assert d["file"] == E["work"] + "/good.conf", d
assert c["auto_install"] is False and c["install_window"] == "22:30-04:15", c
assert c["health_window"] == 5400 and c["crash_threshold"] == 3 and c["protect"] == [], c
assert c["restart_services"] == "no" and c["restart_never_default"] is True, c
'
PATCHLAYER_CONF=$work/good.conf expect_rc 0 "$PL" config check
expect_line "$out" "# $work/good.conf: valid; the effective values:"
expect_rc 1 "$PL" config check --config "$work/bad.conf"
expect_eq "$err" "patchlayer: $work/bad.conf:4: expected a number of crashes from 1 to 1000000"
expect_eq "$out" ""
expect_rc 1 "$PL" config check --config "$work/bad.conf" -j
json_check "$out" 'assert d["line"] == 4 and d["errno"] == "EINVAL" and d["exit"] == 1, d'
expect_rc 2 "$PL" config check --config "$work/missing.conf"
expect_eq "$err" "patchlayer: $work/missing.conf: No such file or directory"
expect_rc 2 "$PL" -j config check --config "$work/missing.conf"
json_check "$out" 'assert d["errno"] == "ENOENT" and d["line"] is None and d["exit"] == 2, d'
chmod 666 "$work/good.conf"
expect_rc 1 "$PL" config check --config "$work/good.conf"
expect_match "$err" "^patchlayer: $work/good.conf: refused: writable by others than root \\(mode 0666, uid [0-9]+\\)$"
# deliver reads the configuration as the daemon does: one that others may
# write names the inbox a layer goes to, and is refused before any copy
mkdir "$work/dinbox" "$work/dstore"
printf 'store = %s/dstore\ninbox = %s/dinbox\n' "$work" "$work" > "$work/deliver.conf"
chmod 664 "$work/deliver.conf"
expect_rc 1 "$PL" deliver --config "$work/deliver.conf" "$work/layer"
expect_match "$err" "^patchlayer: $work/deliver.conf: refused: writable by others than root \\(mode 0664, uid [0-9]+\\)$"
expect_eq "$(ls -A "$work/dinbox")" "" "the inbox of a refused configuration"
chmod 644 "$work/deliver.conf"
expect_rc 0 "$PL" deliver --config "$work/deliver.conf" "$work/layer"
expect_eq "$out" "demo: delivered to $work/dinbox/demo"
cmp -s "$work/layer/manifest" "$work/dinbox/demo/manifest" || fail "the delivered manifest differs"
expect_rc 2 "$PL" config check extra
expect_rc 2 "$PL" config frob
echo "ok"
