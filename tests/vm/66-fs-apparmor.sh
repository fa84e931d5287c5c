# Processes confined by AppArmor load libraries from a protected directory
# as from a plain one, with and without an active layer, and get the
# layer's file through the protected path when it is active: a profile
# written here (it allows /usr/** mr, not the layer store, and has no
# attach_disconnected flag), and Debian's own profile for man, running a
# real man. No apparmor="DENIED" in the log but the one denial each run of
# the test profile provokes on purpose, which proves the profile enforced
# and its denials logged. (The real files used to be reached through the
# private clone mount, which AppArmor cannot name: "Failed name lookup -
# disconnected path" on getattr, and the loader's "cannot stat shared
# object".)
. "$(dirname "$0")/lib.sh"

AA=/sys/kernel/security/apparmor
[ -d $AA ] || mount -t securityfs securityfs /sys/kernel/security
# both supported Debian kernels boot with AppArmor: no skip there; the
# debug kernel is built without it (scripts/debug-kernel.d/debug.config)
if [ ! -d $AA ] && debug_kernel; then
	echo "SKIP: the debug kernel is built without AppArmor"
	exit 77
fi
[ -d $AA ] || fail "no $AA: AppArmor is not available"
expect_eq "$(cat /sys/module/apparmor/parameters/enabled)" Y "AppArmor enabled"
expect_match "$(cat /sys/kernel/security/lsm)" '(^|,)apparmor(,|$)' "active LSMs"

# the layer store on a plain tmpfs: the layer's file has its own device
T=/var/lib/pl-store
mkdir -p $T && mount -t tmpfs tmpfs $T
make_key "$T" vendor
patched_zlib "$T/libz.so"
build_layer "$T/zfix" vendor zlib-fix "26.3 (b)" "$T/libz.so=$ZLIB"
STORE_FILE=$T/zfix/files$ZLIB
MAN_PROFILE=/etc/apparmor.d/usr.bin.man
W=/run/pl-aa
mkdir -p $W

# the test profile: libraries and programs under /usr, the loader's cache,
# glibc's locale aliases (python3's setlocale) and the process's own label
cat > "$W/pl-test.profile" <<'EOF'
abi <abi/3.0>,
include <tunables/global>

profile pl-test {
  /usr/** mr,
  /etc/ld.so.cache r,
  /etc/locale.alias r,
  /dev/null rw,
  owner @{PROC}/@{pid}/attr/{apparmor/,}current r,
}
EOF

# man's pager: it runs in man's profile (ix), as man's child; it reports
# its label and man's pid, and waits while the test reads man's mappings
cat > $W/pager <<EOF
#!/bin/sh
echo "pager: \$(cat /proc/self/attr/current 2>&1)"
echo "man-pid: \$PPID"
while [ ! -e $W/go ]; do sleep 0.1; done
exec cat
EOF
chmod +x $W/pager

# the denial each confined run provokes: the store's file, opened directly
intended="apparmor=\"DENIED\" operation=\"open\" .*profile=\"pl-test\" name=\"$STORE_FILE\""
log_start=$(dmesg | wc -l)
# new_log: the kernel's lines since the test started
new_log() {
	dmesg | tail -n +"$((log_start + 1))"
}

# every audit line reaches the log (without auditd they go through a
# rate-limited printk); the profiles go at the end, whatever happens
ratelimit=$(cat /proc/sys/kernel/printk_ratelimit)
echo 0 > /proc/sys/kernel/printk_ratelimit
cleanup() {
	local rc=$?
	[ $rc = 0 ] || new_log | grep 'apparmor="DENIED"' | grep -vE "$intended" |
		head -n 5 | sed 's/^/denied: /' >&2
	touch $W/go
	if grep -q '^pl-test ' $AA/profiles; then
		apparmor_parser -R -K "$W/pl-test.profile" || true
	fi
	if grep -q '^/usr/bin/man ' $AA/profiles; then
		apparmor_parser -R -K $MAN_PROFILE || true
	fi
	echo "$ratelimit" > /proc/sys/kernel/printk_ratelimit
}
trap cleanup EXIT

expect_rc 0 apparmor_parser -r -K "$W/pl-test.profile"
expect_rc 0 apparmor_parser -r -K $MAN_PROFILE
profiles=$(cat $AA/profiles)
for p in 'pl-test' '/usr/bin/man' 'man_groff' 'man_filter'; do
	grep -qxF "$p (enforce)" <<< "$profiles" || fail "profile $p not loaded in enforce mode: $profiles"
done

# what the python3 of the runs reports; then it waits for a line on its
# standard input while the test reads its mappings
PY='
import os, sys, zlib
print(zlib.ZLIB_RUNTIME_VERSION)
print(open("/proc/self/attr/current").read().strip())
try:
    open(sys.argv[1], "rb").close()
    print("store: opened")
except PermissionError:
    print("store: denied")
print("pid", os.getpid())
print("ready", flush=True)
sys.stdin.readline()
'
runs=0 man_runs=0

# mapped PID: libz and libc as PID maps them, "major:minor inode path",
# from the mapped files themselves (exec-maps.py); libz's is left in $libz
mapped() {
	local maps
	maps=$(python3 "$PLVM_ROOT/tests/vm/exec-maps.py" "$1")
	libz=$(awk 'index($4, "/libz.so") { print $2, $3, $4; exit }' <<< "$maps")
	expect_match "$maps" " $LIBDIR/libc\.so\.6\$" "the mappings of $(cat "/proc/$1/comm")"
}

# py WHEN VERSION CONFINE...: python3, run by CONFINE..., imports zlib
# and gets VERSION; its report is left in $out, its libz mapping in $libz
py() {
	local when=$1 version=$2 job line pid to status=
	shift 2
	# anonymous pipes: AppArmor checks the files a confined process
	# inherits, and the profile allows none. The coprocess outlives
	# python3 until its input ends, so its pipes stay open meanwhile.
	coproc PYC {
		rc=0
		env -i "$@" /usr/bin/python3 -I -S -c "$PY" "$STORE_FILE" 2>&1 || rc=$?
		echo "exit $rc"
		cat > /dev/null
	}
	job=$PYC_PID
	# its report up to "ready", or up to its end when it failed
	out=
	while read -r -t 120 -u "${PYC[0]}" line; do
		case $line in
		ready) break ;;
		"exit "*) status=${line#exit }; break ;;
		esac
		out+=$line$'\n'
	done
	pid=$(sed -n 's/^pid //p' <<< "$out")
	if [ -z "$status" ] && [ -n "$pid" ]; then
		mapped "$pid"
		echo go >&"${PYC[1]}"
		read -r -t 60 -u "${PYC[0]}" line
		status=${line#exit }
	fi
	to=${PYC[1]}
	exec {to}>&-
	wait "$job" || true
	if [ "$status" != 0 ] || [ -z "$pid" ]; then
		fail "python3 $when exited ${status:-?}: ${out%$'\n'}"
	fi
	expect_eq "$(sed -n 1p <<< "$out")" "$version" "zlib of python3 $when"
}

# confined WHEN VERSION: python3 confined by pl-test gets zlib VERSION; its
# libz mapping is left in $libz
confined() {
	py "$1" "$2" /usr/bin/aa-exec -p pl-test --
	expect_eq "$(sed -n 2p <<< "$out")" "pl-test (enforce)" "label of the confined process $1"
	expect_eq "$(sed -n 3p <<< "$out")" "store: denied" "the store's file opened directly $1"
	runs=$((runs + 1))
	# its denial is in the log: denials are logged, so none missing is none
	for _ in $(seq 50); do
		[ "$(new_log | grep -cE "$intended")" -ge $runs ] && return 0
		sleep 0.1
	done
	fail "no denial of $STORE_FILE logged for the confined process $1: $(new_log | grep apparmor=)"
}

# man WHEN: a real man, confined by Debian's profile, formats its own page;
# its libz mapping is left in $libz
man_run() {
	local job pid rc=0
	rm -f $W/go $W/man.out
	# on a terminal, or man does not use the pager
	env -i PATH=/usr/bin:/bin MANPAGER=$W/pager script -qec 'man man' /dev/null \
		< /dev/null > $W/man.out 2>&1 &
	job=$!
	for _ in $(seq 600); do
		pid=$(sed -n 's/^man-pid: \([0-9]*\).*/\1/p' $W/man.out)
		[ -z "$pid" ] || break
		kill -0 $job 2>/dev/null || break
		sleep 0.1
	done
	if [ -n "$pid" ]; then
		expect_eq "$(cat "/proc/$pid/comm")" man "the pager's parent $1"
		expect_eq "$(cat "/proc/$pid/attr/current")" "/usr/bin/man (enforce)" "man's label $1"
		mapped "$pid"
	fi
	touch $W/go
	wait $job || rc=$?
	out=$(tr -d '\r' < $W/man.out)
	if [ -z "$pid" ] || [ $rc != 0 ]; then
		fail "man $1 exited $rc: $out"
	fi
	expect_match "$out" '^pager: /usr/bin/man \(enforce\)$' "the pager's label $1"
	expect_match "$out" '^ +man - an interface to the system reference manuals$' "man's page $1"
	man_runs=$((man_runs + 1))
}

# the base as mapped: the guest's overlayfs root maps its 9p inode, only
# the number matches
base_ino=$(stat -c %i $ZLIB)
base() {
	cut -d' ' -f2,3 <<< "$libz"
}

# the control: the plain directory
confined "before protect" 1.2.13
expect_eq "$(base)" "$base_ino $ZLIB" "libz mapping, unprotected"
man_run "before protect"
expect_eq "$(base)" "$base_ino $ZLIB" "man's libz mapping, unprotected"

modprobe patchlayer
expect_write OK $SYSFS/trust --bytes-from "$T/vendor.der"
expect_write OK $SYSFS/load "$T/zfix"
expect_rc 0 "$PL" protect $LIBDIR
expect_eq "$(findmnt -n -o FSTYPE --target $ZLIB)" patchlayer "file system of $ZLIB"

confined "protected, no layer" 1.2.13
expect_eq "$(base)" "$base_ino $ZLIB" "libz mapping, protected"
man_run "protected, no layer"
expect_eq "$(base)" "$base_ino $ZLIB" "man's libz mapping, protected"

expect_write OK $SYSFS/layers/zlib-fix/state activate
layer="$(devino "$STORE_FILE") $ZLIB"
confined "with the layer active" "$ZLIB_FIXED_VERSION"
expect_eq "$libz" "$layer" "libz mapping, layer active"
man_run "with the layer active"
expect_eq "$libz" "$layer" "man's libz mapping, layer active"

expect_write OK $SYSFS/layers/zlib-fix/state drop
confined "after drop" 1.2.13
expect_eq "$(base)" "$base_ino $ZLIB" "libz mapping, after drop"
man_run "after drop"
expect_eq "$(base)" "$base_ino $ZLIB" "man's libz mapping, after drop"

expect_rc 0 "$PL" unprotect $LIBDIR
expect_write OK $SYSFS/unload zlib-fix

sleep 0.5	# the audit thread's last lines
denied=$(new_log | grep 'apparmor="DENIED"' | grep -vE "$intended" || true)
[ -z "$denied" ] || fail "AppArmor denials: $denied"
expect_eq "$(new_log | grep -cE "$intended")" $runs "the intended denials"
expect_rc 0 apparmor_parser -R -K "$W/pl-test.profile"
expect_rc 0 apparmor_parser -R -K $MAN_PROFILE
grep -qE '^(pl-test|/usr/bin/man|man_groff|man_filter) ' $AA/profiles &&
	fail "profiles left loaded: $(cat $AA/profiles)"
echo "AppArmor: $runs confined runs of pl-test and $man_runs of man, no denial but the intended ones"
