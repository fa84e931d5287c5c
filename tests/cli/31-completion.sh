# bash completion: every object, command and option, prefixes, old verbs, stored and loaded layer names
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

# bash-completion's helpers, as far as dist/bash-completion/patchlayer uses them
_init_completion() {
	words=("${COMP_WORDS[@]}")
	cword=$COMP_CWORD
	cur=${words[cword]}
	prev=${words[cword - 1]}
}
_filedir() { COMPREPLY+=("<files${1:+ $1}>"); }
# shellcheck source=../../dist/bash-completion/patchlayer
. "$(dirname "$0")/../../dist/bash-completion/patchlayer"

comp() { # LINE: what completes the last word of LINE, sorted, space-separated
	read -r -a COMP_WORDS <<< "$1"
	[[ $1 == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_patchlayer
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

expect_comp() { # LINE WANT
	expect_eq "$(comp "$1")" "$2" "completion of '$1'"
}

store=$work/store
mkdir -p "$store/zlib-fix" "$store/openssl-fix" "$store/.inbox-tmp"
touch "$store/zlib-fix.state" "$store/openssl-fix.state" "$store/.log" "$store/.x.state.bad"
printf 'store = %s\n' "$store" > "$work/conf"
export PATCHLAYER_SYSFS=$work/no-sysfs

objs=$("$PL" --help | awk '/^(Objects|Commands)/ { on = 1; next } /^$/ { on = 0 } on && /^  [a-z]/ { print $1 }' | sort | tr '\n' ' ')
expect_eq "${objs% }" "bpf config daemon dir help inbox layer log monitor status" "objects and commands in --help"
expect_comp "$PL " "${objs% }"
expect_comp "$PL st" "status"
expect_comp "$PL -" "--help --json --pretty --version -V -h -j -p"
expect_comp "$PL status -" "--json --pretty -j -p"
# each object's commands, from "patchlayer OBJECT help"; objects by a prefix
expect_comp "$PL layer " "activate build deliver drop enforce help install list package remove show undeliver usage verify"
expect_comp "$PL lay " "activate build deliver drop enforce help install list package remove show undeliver usage verify"
expect_comp "$PL dir " "help list protect unprotect"
expect_comp "$PL bpf " "events help load status unload"
expect_comp "$PL inbox " "help list"
expect_comp "$PL log " "help show"
expect_comp "$PL config " "check help"
expect_comp "$PL layer sh" "show"
expect_comp "$PL bpf events --" "--count --json --pretty"
expect_comp "$PL bpf ev --" "--count --json --pretty"
expect_comp "$PL config check --" "--config --json --pretty"
expect_comp "$PL config check --config " "<files>"
expect_comp "$PL dir protect " "<files -d>"
expect_comp "$PL layer verify --" "--base-root --cert --json --no-base --pretty"
expect_comp "$PL layer build --" "--base-root --cert --json --key --name --pretty --replaces --version"
expect_comp "$PL layer package --" "--deb-version --json --maintainer --name --pretty"
expect_comp "$PL layer deliver --" "--config --json --pretty --retire --wait"
expect_comp "$PL layer enforce " "off on"
# layer names from the store the configuration names (PATCHLAYER_CONF or --config)
PATCHLAYER_CONF=$work/conf expect_comp "$PL layer enforce on " "openssl-fix zlib-fix"
PATCHLAYER_CONF=$work/conf expect_comp "$PL layer drop z" "zlib-fix"
PATCHLAYER_CONF=$work/conf expect_comp "$PL layer deliver --retire z" "zlib-fix"
expect_comp "$PL --config $work/conf layer remove " "openssl-fix zlib-fix"
expect_comp "$PL layer activate --config $work/conf " "openssl-fix zlib-fix"
expect_comp "$PL layer install --config $work/conf --d" "--dry-run"
expect_comp "$PL layer install --config $work/conf zlib-fix " ""
PATCHLAYER_CONF=$work/conf expect_comp "$PL layer show " "openssl-fix zlib-fix"
PATCHLAYER_CONF=$work/conf expect_comp "$PL -j layer sh " "openssl-fix zlib-fix"
PATCHLAYER_CONF=$work/conf expect_comp "$PL log show --layer o" "openssl-fix"
PATCHLAYER_CONF=$work/conf expect_comp "$PL log --layer o" "openssl-fix"
expect_comp "$PL log --" "--config --json --layer --pretty --since"
expect_comp "$PL log show --" "--config --json --layer --pretty --since"
expect_comp "$PL inbox --" "--config --json --pretty"
expect_comp "$PL layer usage --config $work/conf -" "--json --pretty --stale -j -p"
# each flat verb of old completes its arguments as its new spelling does
export PATCHLAYER_CONF=$work/conf
for v in layers show install activate drop remove usage enforce build verify package deliver \
	undeliver protect unprotect; do
	case $v in
		layers) new="layer list" ;;
		protect | unprotect) new="dir $v" ;;
		*) new="layer $v" ;;
	esac
	for rest in " " " -" " --" " on " " x --c"; do
		expect_eq "$(comp "$PL $v$rest")" "$(comp "$PL $new$rest")" "completion of '$v$rest'"
	done
done
expect_comp "$PL enforce on " "openssl-fix zlib-fix"
expect_comp "$PL protect " "<files -d>"
echo "ok"
