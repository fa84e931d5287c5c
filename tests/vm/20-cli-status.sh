# patchlayer status: plain and -j, module loaded or not, usage errors.
. "$(dirname "$0")/lib.sh"

expect_rc 3 "$PL" status
expect_match "$out" "module not loaded" "status without module"
expect_match "$out" "hint: modprobe patchlayer" "status without module"
expect_rc 3 "$PL" -j status
json=$("$PL" -j status 2>/dev/null || true)
expect_eq "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["module"]["loaded"])' <<< "$json")" False "-j status loaded"

modprobe patchlayer
expect_rc 0 "$PL" status
expect_match "$out" "^module: +patchlayer $(cat $SYSFS/version) " "status"
expect_match "$out" "netlink: family patchlayer id [0-9]+, events group [0-9]+" "status"
expect_match "$out" "layers: +none loaded" "status"

json=$("$PL" -j status)
python3 - "$json" "$(cat $SYSFS/version)" <<'PY'
import json, sys
doc = json.loads(sys.argv[1])
assert doc["module"] == {"loaded": True, "version": sys.argv[2],
                         "sysfs": "/sys/kernel/patchlayer", "trust_locked": False,
                         "generation": 1}, doc
assert doc["layers"] == [] and doc["protected"] == [], doc
nl = doc["netlink"]
assert nl["family"] == "patchlayer" and nl["version"] == sys.argv[2], nl
assert nl["family_id"] > 0 and nl["events_group"] > 0, nl
PY
# -p is indented JSON and the same document
python3 -c 'import json,sys; a,b=json.loads(sys.argv[1]),json.loads(sys.argv[2]); assert a==b' \
	"$json" "$("$PL" -p status)"
[ "$("$PL" -p status | wc -l)" -gt 5 ] || fail "-p output is not indented"

expect_rc 2 "$PL" status extra
expect_rc 2 "$PL" frobnicate
expect_match "$out" "unknown command 'frobnicate'" "unknown command"
expect_rc 2 "$PL"
expect_rc 2 "$PL" --bogus status
expect_rc 0 "$PL" --help
expect_match "$out" "^Usage: patchlayer" "--help"
expect_rc 0 "$PL" -V
expect_match "$out" "^patchlayer $(cat $SYSFS/version)$" "-V"

# dir list: the module's protected directories, as status names them
expect_rc 0 "$PL" dir list
expect_eq "$out" "" "dir list with none protected"
D=$(mktemp -d /tmp/pl20.XXXXXX)
make_libdir "$D/lib"
expect_rc 0 "$PL" dir protect "$D/lib"
expect_rc 0 "$PL" dir
expect_eq "$out" "$D/lib" "dir list"
expect_eq "$("$PL" status | sed -n 's/^protected: //p')" "$D/lib" "status's protected line"
expect_rc 0 "$PL" -j dir list
expect_eq "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["protected"])' <<< "$out")" "['$D/lib']" "dir list -j"
expect_rc 0 "$PL" dir unprotect "$D/lib"
expect_rc 0 "$PL" dir list
expect_eq "$out" "" "dir list after unprotect"
