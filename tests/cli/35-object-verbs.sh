# object-verb shape: each new spelling as its old flat verb (text, -j before and after), prefixes, help
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

gen_key vendor
make_fixture
store=$work/store inbox=$work/inbox
mkdir -p "$store" "$inbox/rejected" "$work/sysfs"
build_layer "$store/demo" > /dev/null
printf 'trust = %s\nstore = %s\ninbox = %s\n' "$work/vendor.pem" "$store" "$inbox" > "$work/conf"
printf '%s demo active: install by the administrator\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$store/.log"
printf '/usr/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n' > "$work/sysfs/mounts"
export PATCHLAYER_CONF=$work/conf PATCHLAYER_SYSFS=$work/no-sysfs DPKG_ADMINDIR=$work/no-dpkg

run() { # NAME ARGS...: NAME.out, NAME.err, NAME.rc
	local name=$1 rc=0
	shift
	"$PL" "$@" > "$work/$name.out" 2> "$work/$name.err" || rc=$?
	echo "$rc" > "$work/$name.rc"
}

# same NEW OLD: both spellings print the same and exit the same, as text,
# with -j before and after the words and with -p; the JSON parses
same() {
	local new=$1 old=$2 opt f
	for opt in "" "-j" "after -j" "-p"; do
		# shellcheck disable=SC2086 # the spellings are words
		case $opt in
			"") run new $new; run old $old ;;
			after*) run new $new -j; run old $old -j ;;
			*) run new "$opt" $new; run old "$opt" $old ;;
		esac
		for f in out err rc; do
			cmp -s "$work/new.$f" "$work/old.$f" ||
				fail "'$new' and '$old' ($opt) differ in std$f/rc: $(diff "$work/new.$f" "$work/old.$f")"
		done
		if [ -n "$opt" ]; then
			python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$work/new.out" ||
				fail "'$opt $new': not JSON: $(cat "$work/new.out")"
		fi
	done
}

ok_verify="--cert $work/vendor.pem --base-root $root $store/demo"
same "layer list" "layers"
same "layer show demo" "show demo"
same "layer show nosuch" "show nosuch"
same "layer verify $ok_verify" "verify $ok_verify"
same "layer usage" "usage"
same "layer install demo" "install demo"
same "layer activate --dry-run demo" "activate --dry-run demo"
same "layer drop demo" "drop demo"
same "layer remove nosuch" "remove nosuch"
same "layer enforce on demo" "enforce on demo"
same "layer build" "build"
same "layer package" "package"
same "layer deliver" "deliver"
same "layer undeliver nosuch" "undeliver nosuch"
same "dir protect $work/nosuch" "protect $work/nosuch"
same "dir unprotect $work" "unprotect $work"
same "inbox list" "inbox"
same "log show --layer demo" "log --layer demo"
# an object alone runs its first command
same "layer" "layer list"
same "log" "log show"
same "config" "config check"
same "bpf" "bpf status"
same "dir" "dir list"
# unambiguous prefixes of objects and commands
same "lay sh demo" "layer show demo"
same "i l" "inbox list"
same "conf ch" "config check"
same "s" "status"
expect_eq "$(cat "$work/new.rc")" 3 "status without the module"

# dir list: the module's protected directories
PATCHLAYER_SYSFS=$work/sysfs expect_rc 0 "$PL" dir list
expect_eq "$out" "$(cat "$work/sysfs/mounts")" "dir list"
PATCHLAYER_SYSFS=$work/sysfs expect_rc 0 "$PL" dir -j
json_check "$out" 'assert d == {"protected": ["/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu"]}, d'
expect_rc 3 "$PL" dir list
expect_rc 2 "$PL" dir list extra

# an ambiguous prefix is refused with exit 2, naming the candidates
expect_rc 2 "$PL" l
expect_eq "$err" "patchlayer: ambiguous object or command 'l': layer, log"
expect_rc 2 "$PL" d
expect_eq "$err" "patchlayer: ambiguous object or command 'd': dir, daemon"
expect_rc 2 "$PL" layer d demo
expect_eq "$err" "patchlayer: ambiguous command 'd': drop, deliver"
expect_rc 2 "$PL" -j layer u
json_check "$out" 'assert d["exit"] == 2 and d["error"] == "ambiguous command '"'u'"': usage, undeliver", d'
expect_rc 2 "$PL" layer frobnicate
expect_eq "$err" "patchlayer: layer: unknown command 'frobnicate' (see 'patchlayer layer help')"
expect_rc 2 "$PL" frobnicate
# the old verbs are exact names, not prefixes
expect_rc 2 "$PL" inst demo

# help at each level, text even with -j; "h" is its prefix
expect_rc 0 "$PL" help
expect_eq "$out" "$("$PL" --help)" "help and --help"
for o in layer dir bpf inbox log config; do
	expect_rc 0 "$PL" -j "$o" help
	expect_line "$out" "Usage: patchlayer [OPTIONS] $o {COMMAND | help} [ARGS]" "$o help"
	help=$out
	for c in $(awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' <<< "$help"); do
		[ "$c" = help ] || expect_match "$("$PL" --help)" " $c( |$)" "--help naming $o $c"
	done
	expect_rc 0 "$PL" "$o" h
	expect_eq "$out" "$help" "$o h"
done
expect_rc 0 "$PL" layer help
for c in list show install activate drop remove usage enforce build verify package deliver undeliver help; do
	expect_match "$out" "^  $c " "layer help naming $c"
done
echo "ok"
