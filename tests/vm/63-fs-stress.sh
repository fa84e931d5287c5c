# A two-file layer (a library and the library it needs) activated and
# dropped 1000 times while 8 processes start a program using both in a
# loop: no process ever sees one file patched and the other not, nothing
# crashes, the kernel log stays clean (run-all checks it).
. "$(dirname "$0")/lib.sh"

S=/usr/lib/pl-two
T=/var/lib/pl-store
mkdir -p $T && mount -t tmpfs tmpfs $T
bash "$(dirname "$0")/data/two-libs.sh" $S 1
bash "$(dirname "$0")/data/two-libs.sh" $S 2 $T/v2
expect_eq "$($S/pl-two)" "pa=1 pb=1" "the base"
make_key $T vendor
build_layer $T/two vendor two-fix "2" "$T/v2/libpa.so.1=$S/libpa.so.1" "$T/v2/libpb.so.1=$S/libpb.so.1"
modprobe patchlayer
expect_write OK $SYSFS/trust --bytes-from $T/vendor.der
expect_write OK $SYSFS/load $T/two
expect_rc 0 "$PL" protect $S
L=$SYSFS/layers/two-fix/state

expect_write OK $L activate
expect_eq "$($S/pl-two)" "pa=2 pb=2" "the layer"
expect_write OK $L drop

# The view is inherited by fork, renewed by exec: a server that mapped
# libpb before the activation forks a worker after it, whose child loads
# libpa: both the base. An exec'd grandchild gets the layer whole.
python3 - $S $T <<'PY' > $T/fork.out &
import ctypes, os, sys, time
S, T = sys.argv[1:]
ctypes.CDLL(S + "/libpb.so.1")
open(T + "/ready", "w").close()
while not os.path.exists(T + "/go"):
    time.sleep(0.02)
def fork(child):
    pid = os.fork()
    if pid == 0:
        try:
            child()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
def load_pa():
    pa = ctypes.CDLL(S + "/libpa.so.1")
    pa.pa_version.restype = pa.pa_peer.restype = ctypes.c_char_p
    print("pa=%s pb=%s" % (pa.pa_version().decode(), pa.pa_peer().decode()), flush=True)
fork(lambda: fork(load_pa))
fork(lambda: fork(lambda: os.execv(S + "/pl-two", ["pl-two"])))
PY
fork_py=$!
while [ ! -e $T/ready ]; do sleep 0.05; done
expect_write OK $L activate
touch $T/go
wait $fork_py || fail "the forking process failed"
expect_eq "$(cat $T/fork.out)" "pa=1 pb=1
pa=2 pb=2" "a forked worker's view, then an exec'd one's"
expect_write OK $L drop

touch $T/run
for w in $(seq 8); do
	( while [ -e $T/run ]; do $S/pl-two || echo "crash $?"; done > $T/worker.$w ) &
done
cycles=${PL_STRESS_CYCLES:-1000}
for i in $(seq "$cycles"); do
	echo activate > $L || fail "activate $i"
	echo drop > $L || fail "drop $i"
done
rm $T/run
wait
sort $T/worker.* | uniq -c | sed 's/^/  /'
runs=$(cat $T/worker.* | wc -l)
[ "$runs" -ge 8 ] || fail "the workers ran only $runs times"
bad=$(grep -v -x -e 'pa=1 pb=1' -e 'pa=2 pb=2' $T/worker.* || true)
[ -z "$bad" ] || fail "$(wc -l <<< "$bad") of $runs runs saw a torn or broken view: $(sort <<< "$bad" | uniq -c | head -n 3)"
grep -q -x 'pa=2 pb=2' $T/worker.* || fail "no run saw the layer in $cycles activations"
echo "$runs runs over $cycles activations, each saw the layer whole or not at all"
expect_rc 0 "$PL" unprotect $S
