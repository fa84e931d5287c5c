# Least privilege: the running daemon keeps only the capabilities it needs
# (and they are enough to install a layer) with no_new_privs set, from
# before its first look at the store and the inbox; the CLI
# refuses the changing verbs to a user who is not root; a store writable by
# others than root, or not owned by root, is refused at start.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemonlib.sh"
trap daemon_cleanup EXIT
daemon_setup
daemon_config "auto_install = yes"

nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all "$@"
}

# a delivery waiting at start: taken with the reduced set, not before it
deliver $T/zfix zfix
daemon_start
wait_store zlib-fix active 100
first_step=$(grep -n "step [0-9]*: load zlib-fix" $T/daemon.log | head -n 1 | cut -d: -f1)
reduced=$(grep -n "capabilities reduced" $T/daemon.log | head -n 1 | cut -d: -f1)
[ -n "$first_step" ] && [ -n "$reduced" ] && [ "$reduced" -lt "$first_step" ] ||
	fail "the inbox was scanned before the capabilities were reduced: $(head -n 20 $T/daemon.log)"
expect_rc 0 env PATCHLAYER_CONF="$CONF" "$PL" remove zlib-fix
# cap_dac_read_search 2, cap_sys_admin 21, cap_perfmon 38, cap_bpf 39
want=$(printf '%016x' $(((1 << 2) | (1 << 21) | (1 << 38) | (1 << 39))))
expect_eq "$(awk '$1 == "CapEff:" { print $2 }' /proc/$daemon_pid/status)" "$want" "CapEff"
expect_eq "$(awk '$1 == "CapPrm:" { print $2 }' /proc/$daemon_pid/status)" "$want" "CapPrm"
expect_eq "$(awk '$1 == "NoNewPrivs:" { print $2 }' /proc/$daemon_pid/status)" 1 "NoNewPrivs"
# and what it kept is enough for a whole install
deliver $T/zfix zfix
wait_store zlib-fix active 50
wait_state zlib-fix active

# the CLI: the verbs that change state refuse politely, exit 1
for v in install activate drop remove; do
	expect_rc 1 nobody "$PL" "$v" zlib-fix
	expect_match "$out" "$v: needs root .*Operation not permitted" "$v as nobody"
done
expect_eq "$(layer_state zlib-fix)" active "state after the refused verbs"
daemon_stop

# a store others than root may write, or that root does not own: refused
for how in "chmod 0775" "chmod 0757" "chown 65534"; do
	$how $STORE
	expect_rc 1 timeout 30 env PATCHLAYER_CONF="$CONF" "$PL" daemon
	expect_match "$out" "$STORE: refused: writable by others than root" "store after $how"
	chmod 0700 $STORE
	chown 0 $STORE
done
# so is a configuration others may write: it names the keys to trust
for how in "chmod 0664" "chmod 0646" "chown 65534"; do
	$how "$CONF"
	expect_rc 1 timeout 30 env PATCHLAYER_CONF="$CONF" "$PL" daemon
	expect_match "$out" "$CONF: refused: writable by others than root" "config after $how"
	chmod 0644 "$CONF"
	chown 0 "$CONF"
done
# and restored, it starts again with the layer still active
daemon_start
expect_eq "$(store_state zlib-fix)" active "store after the refusals"

# the process counts come from the BPF side the daemon loads; without it,
# layers says they are unknown rather than 0
expect_rc 0 env PATCHLAYER_CONF="$CONF" "$PL" layers
expect_match "$out" "zlib-fix .* active .* patched [0-9]+ stale [0-9]+" "layers with the BPF side"
daemon_stop
expect_rc 0 "$PL" bpf unload
expect_rc 0 env PATCHLAYER_CONF="$CONF" "$PL" layers
expect_match "$out" "zlib-fix .* processes unknown \(the BPF side is not loaded\)" "layers without it"
