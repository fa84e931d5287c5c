# patchlayer usage from the per-process lists the BPF side keeps (one
# visit per process, not one per mapping), against /proc/*/maps: a process
# started before the BPF side was loaded is counted (the first scan walks
# every mapping and seeds the lists; the next ones answer from them), one
# that dlclose()s the layer's library or execs something else is no
# longer counted, one that maps it again is, and each scan after the first
# walks only the processes that changed. usage --rescan walks every
# mapping and gives the same answer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bpflib.sh"

trap 'kill $sleepers $dl 2>/dev/null || true; bpf_cleanup' EXIT
dl=
bpf_zlib_setup
expect_rc 0 "$PL" protect $LIBDIR
expect_write OK $SYSFS/layers/zlib-fix/state activate
layer_inodes zlib-fix

# dlopen LIB, say so; on SIGUSR1 dlclose it, on SIGUSR2 dlopen it again,
# on SIGHUP exec sleep: each step says "ready N" when done
cat > $T/dl.c <<'EOF'
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
static volatile sig_atomic_t sig;
static void on(int s) { sig = s; }
int main(int argc, char **argv)
{
	void *h = dlopen(argv[1], RTLD_NOW);
	int step = 0;

	if (!h || argc != 2)
		return 1;
	signal(SIGUSR1, on);
	signal(SIGUSR2, on);
	signal(SIGHUP, on);
	for (;;) {
		printf("ready %d\n", step++);
		fflush(stdout);
		while (!sig)
			usleep(10000);
		if (sig == SIGUSR1 && h)
			dlclose(h), h = NULL;
		else if (sig == SIGUSR2 && !h)
			h = dlopen(argv[1], RTLD_NOW);
		else if (sig == SIGHUP)
			execl("/bin/sleep", "sleep", "600", (char *)NULL);
		sig = 0;
	}
}
EOF
gcc -O1 -Wall -o $T/dl $T/dl.c
# dl_step N: the helper finished step N
dl_step() {
	for _ in $(seq 200); do grep -q "^ready $1\$" $T/dl.out && return 0; sleep 0.05; done
	fail "the helper did not reach step $1: $(cat $T/dl.out)"
}

# before the BPF side: the sleeper (patched) and the helper (patched)
zlib_sleeper $T/sleeper.out
sleeper=${sleepers# }
$T/dl $ZLIB > $T/dl.out &
dl=$!
dl_step 0
expect_rc 0 "$PL" bpf load

# check WHAT MODE [--rescan]: usage's answer (pid, kind, files) is /proc's
# for every process alive in both; the scan answered as MODE says ("walk":
# one pass over every mapping; "lists": the lists, a few processes walked;
# "any": either, when every process needs a walk, one pass or one each)
check() {
	local json ans procs
	json=$("$PL" -j usage ${3:-})
	ans=$(python3 -c '
import json, sys
d = json.load(sys.stdin)
s = d["scan"]
print("scan", s["mode"], s["walked"], file=sys.stderr)
for l in d["layers"]:
    for kind in ("patched", "stale"):
        for p in l.get(kind, []):
            print(p["pid"], kind, ",".join(map(str, p["files"])))' <<< "$json" 2> $T/scan | sort -u)
	procs=$(proc_scan "$file_id" "$base_id" | sed 's/$/ 0/')
	alive() { while read -r pid kind f; do [ -d /proc/$pid ] && echo "$pid $kind $f"; done; }
	diff <(alive <<< "$ans") <(alive <<< "$procs") || fail "$1: usage and /proc/*/maps disagree"
	read -r _ mode walked < $T/scan
	[ "$2" = any ] || expect_eq "$mode" "$2" "$1: the scan's mode"
	# the helper or the sleeper, patchlayer's own commands racing a scan
	[ "$2" != lists ] || [ "$walked" -le 4 ] || fail "$1: $walked processes walked"
	echo "$1: $mode, $walked walked"
}

check "first scan" any
expect_match "$(usage_scan zlib-fix)" "^$sleeper patched" "the sleeper, started before the BPF side"
expect_match "$(usage_scan zlib-fix)" "^$dl patched" "the helper, started before the BPF side"
check "from the lists" lists
check "from the lists, --rescan" walk --rescan
check "after --rescan" lists

kill -USR1 $dl
dl_step 1
check "after dlclose" lists
usage_scan zlib-fix | grep -q "^$dl " && fail "the helper still counted after dlclose"
kill -USR2 $dl
dl_step 2
check "after dlopen again" lists
expect_match "$(usage_scan zlib-fix)" "^$dl patched" "the helper after dlopen again"
kill -HUP $dl
for _ in $(seq 200); do [ "$(cat /proc/$dl/comm)" = sleep ] && break; sleep 0.05; done
expect_eq "$(cat /proc/$dl/comm)" sleep "the helper after exec"
check "after exec" lists
usage_scan zlib-fix | grep -q "^$dl " && fail "the helper still counted after exec"

# a layer loaded later: its keys are new to every list, one walk again
CAP=$LIBDIR/libcap.so.2.66
cp $CAP $T/libcap.so
build_layer "$T/cfix" vendor cap-fix 1 "$T/libcap.so=$CAP"
expect_write OK $SYSFS/load "$T/cfix"
check "a layer loaded" any
check "a layer loaded, then" lists

kill $sleepers $dl
wait $sleepers $dl 2>/dev/null || true
sleepers= dl=
expect_rc 0 "$PL" bpf unload
expect_write OK $SYSFS/layers/zlib-fix/state drop
expect_rc 0 "$PL" unprotect $LIBDIR
expect_write OK $SYSFS/unload zlib-fix
expect_write OK $SYSFS/unload cap-fix
modprobe -r patchlayer
