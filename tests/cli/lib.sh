# SPDX-License-Identifier: GPL-2.0
# Helpers for the CLI tests (sourced). They need no kernel: $PL is the
# patchlayer binary (tests/run passes the ASan+UBSan build), and every
# file, key and base tree is made in a throwaway directory.
# shellcheck shell=bash
set -eu -o pipefail
# the configurations written here must pass patchlayer.conf's ownership
# check (not writable by group or others) whatever the caller's umask
umask 022

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

if [ -z "${PL:-}" ] || [ ! -x "$PL" ]; then
	fail "PL must name the patchlayer binary (PL=${PL:-unset})"
fi
command -v openssl > /dev/null || fail "the openssl command is not installed"
command -v python3 > /dev/null || fail "python3 is not installed"

work=$(mktemp -d "${TMPDIR:-/tmp}/pl-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT

# expect_rc WANT CMD...: CMD exits with WANT; its stdout is kept in $out,
# its stderr in $err.
expect_rc() {
	local want=$1 rc=0
	shift
	"$@" > "$work/.stdout" 2> "$work/.stderr" || rc=$?
	out=$(cat "$work/.stdout")
	err=$(cat "$work/.stderr")
	[ "$rc" = "$want" ] ||
		fail "'$*' exited $rc, expected $want; stdout: $out; stderr: $err"
}

expect_eq() { # GOT WANT [WHAT]
	[ "$1" = "$2" ] || fail "${3:-value}: got '$1', expected '$2'"
}

expect_line() { # TEXT LINE [WHAT]: one line of TEXT is exactly LINE
	grep -qxF -- "$2" <<< "$1" || fail "${3:-output} has no line '$2': $1"
}

expect_match() { # TEXT ERE [WHAT]
	grep -qE -- "$2" <<< "$1" || fail "${3:-output} does not match /$2/: $1"
}

expect_no_match() { # TEXT ERE [WHAT]
	! grep -qE -- "$2" <<< "$1" || fail "${3:-output} matches /$2/: $1"
}

# No layer and no temporary sibling of one may be left in DIR's parent.
expect_nothing_written() { # DIR
	local tmp
	[ ! -e "$1" ] || fail "$1 was created"
	for tmp in "$(dirname "$1")/.$(basename "$1").tmp"*; do
		[ ! -e "$tmp" ] || fail "a temporary directory was left next to $1: $tmp"
	done
}

sha256() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

# gen_key NAME: a throwaway RSA-2048 key and self-signed certificate,
# $work/NAME.key and $work/NAME.pem, subject CN=patchlayer test NAME.
gen_key() {
	openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 \
		-subj "/CN=patchlayer test $1" \
		-addext "basicConstraints=critical,CA:FALSE" \
		-addext "keyUsage=digitalSignature" \
		-keyout "$work/$1.key" -out "$work/$1.pem" 2> "$work/openssl.log" ||
		fail "openssl req: $(cat "$work/openssl.log")"
}

# serial NAME: the serial of $work/NAME.pem in lower-case hex.
serial() {
	openssl x509 -in "$work/$1.pem" -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f'
}

T1=/usr/lib/x86_64-linux-gnu/libdemo.so.1
T2=/lib/x86_64-linux-gnu/libother.so.2

# make_fixture: a fake base tree $root holding T1 and T2, and their
# replacements $new1 and $new2.
make_fixture() {
	root=$work/root
	mkdir -p "$root/usr/lib/x86_64-linux-gnu" "$root/lib/x86_64-linux-gnu" "$work/new"
	printf 'libdemo 1.2.13 as shipped\n' > "$root$T1"
	printf 'libother 2.0 as shipped\n' > "$root$T2"
	new1=$work/new/libdemo.so.1
	new2=$work/new/libother.so.2
	printf 'libdemo 1.2.13 with the fix\n' > "$new1"
	# larger than one read chunk, so that hashing loops
	for i in $(seq 1 20000); do echo "libother 2.0 fixed, line $i"; done > "$new2"
}

# build_layer DIR [OPTION...]: the two-file layer "demo" 1.0 signed by
# "vendor", base hashes from $root. Targets are given unsorted on purpose.
build_layer() {
	local dir=$1
	shift
	"$PL" build --name demo --version 1.0 --key "$work/vendor.key" \
		--cert "$work/vendor.pem" --base-root "$root" -o "$dir" "$@" \
		"$new1=$T1" "$new2=$T2"
}

# verify_layer [OPTION...] DIR: verify against vendor's certificate and $root.
verify_layer() {
	"$PL" verify --cert "$work/vendor.pem" --base-root "$root" "$@"
}

# json_check JSON PYTHON: runs PYTHON with the parsed document as d and
# the environment as E; a failed assert, or JSON that does not parse,
# fails the test.
json_check() {
	python3 -c '
import json, os, sys
d = json.loads(sys.argv[1])
E = os.environ
exec(sys.argv[2])
' "$1" "$2" || fail "JSON check failed: $2; document: $1"
}
