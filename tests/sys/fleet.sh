#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# fleet: layers from a signed reprepro repository over HTTP by apt and unattended-upgrades (phased, withdrawn), bad signatures refused, metrics in node_exporter
#
# On the Debian 12 system image (scripts/sysimage), as a fleet's machine
# meets it (docs/operators-guide.md, "Running a fleet"): the patchlayer
# package installed with dpkg, Debian's prometheus-node-exporter running,
# and a vendor's repository made with scripts/fleet-repo (reprepro, a gpg
# test key), served by python3's http.server on 127.0.0.1. The layer
# packages are made on the host by "patchlayer package" from three signed
# layers: zlib-fix 1, zlib-fix-2 2 which replaces it and zlib-fix-3 3, all
# as patchlayer-layer-zlib-fix. Checked:
#   - node_exporter's /metrics before any layer: the daemon up, no layer;
#   - apt-get update && apt-get install makes zlib-fix active; /metrics
#     then says so (state, activation time), with the patched and stale
#     processes the BPF side counts ("patchlayer layers -j"): a python3
#     started before is stale, one started after patched; when the stale
#     one exits, the count follows;
#   - a crash of a patched service (systemd-run): crashes_total 1;
#   - version 2 published at Phased-Update-Percentage 0: apt's candidate
#     stays 1 with APT::Get::Phase-Policy (2 without: unattended-upgrades
#     has no phasing of its own) and unattended-upgrade installs nothing;
#     at 100 it installs version 2 unattended, zlib-fix-2 active and
#     zlib-fix gone;
#   - apt-get remove drops and removes it; installed again, a vendor's
#     withdrawal (fleet-repo withdraw) removes it through
#     unattended-upgrades;
#   - a repository whose InRelease was changed after signing is refused by
#     apt-get update (BADSIG: it keeps its last good index, exit 0), and
#     the version 3 published meanwhile is not seen.
# The metrics file's atomic rewrite is tested in tests/unit/test_metrics.c.
set -eu -o pipefail

if [ -z "${PLVM_BOOT:-}" ]; then
	cd "$(dirname "$0")/../.."
	. scripts/lib.sh
	W=$PL_BUILD/sys/fleet
	rm -rf "$W" && mkdir -p "$W/debs"
	# the patchlayer package of this tree (taken as built when the pkg suite
	# or deb-reboot.sh just built it)
	PL_PKG_REUSE=${PL_PKG_REUSE:-1} bash tests/pkg/10-debian.sh > "$W/pkg.log" 2>&1 ||
		{ tail -n 20 "$W/pkg.log"; echo "FAIL: the packages did not build"; exit 1; }
	cp "$PL_BUILD"/pkg/patchlayer_*_amd64.deb "$W/"
	PLVM_ROOT=$PL_ROOT
	. tests/vm/lib.sh
	PL=$PL_BUILD/userspace/patchlayer
	make_key "$W" vendor
	patched_zlib "$W/libz.so"
	# an advisory id in the manifest: the advisory label of its series
	"$PL" build --name zlib-fix --version 1 --advisory DSA-5999-1 --key "$W/vendor.key" \
		--cert "$W/vendor.pem" -o "$W/l1" "$W/libz.so=$ZLIB" > /dev/null
	"$PL" build --name zlib-fix-2 --version 2 --replaces zlib-fix --key "$W/vendor.key" \
		--cert "$W/vendor.pem" -o "$W/l2" "$W/libz.so=$ZLIB" > /dev/null
	"$PL" build --name zlib-fix-3 --version 3 --replaces zlib-fix-2 --key "$W/vendor.key" \
		--cert "$W/vendor.pem" -o "$W/l3" "$W/libz.so=$ZLIB" > /dev/null
	for l in l1 l2 l3; do
		"$PL" package -o "$W/debs" --name zlib-fix \
			--maintainer "patchlayer tests <tests@example.invalid>" "$W/$l" > /dev/null
	done
	exec scripts/vm --timeout "${PL_VM_TIMEOUT:-2400}" --sysimage "$0"
fi

. "$PLVM_ROOT/tests/vm/lib.sh"
W=$PLVM_ROOT/build/sys/fleet
PL=/usr/sbin/patchlayer
CONF=/etc/patchlayer/patchlayer.conf
STORE=/var/lib/patchlayer/layers
PKG=patchlayer-layer-zlib-fix
REPO=/srv/fleet/repo
FR=$PLVM_ROOT/scripts/fleet-repo
export GNUPGHOME=/root/fleet-gnupg DEBIAN_FRONTEND=noninteractive

journal() {
	journalctl -b -u patchlayer.service --no-pager | tail -n 20
}

# metric NAME [LABEL=VALUE...]: the value of the series of node_exporter's
# /metrics with that name and those labels (node_exporter sorts labels and
# prints floats: 1.7e+09), as an integer; nothing when there is none
metric() {
	curl -sf http://127.0.0.1:9100/metrics | python3 -c '
import re, sys
want = dict(a.split("=", 1) for a in sys.argv[2:])
for line in sys.stdin:
    m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:[{](.*)[}])? (\S+)$", line.strip())
    if not m or m.group(1) != sys.argv[1]:
        continue
    labels = dict(re.findall(r"(\w+)=\"((?:[^\"\\]|\\.)*)\"", m.group(2) or ""))
    if all(labels.get(k) == v for k, v in want.items()):
        print(int(float(m.group(3))))
        break' "$@"
}

series() { # the patchlayer series of /metrics, for messages
	curl -sf http://127.0.0.1:9100/metrics | grep '^patchlayer_' | head -n 40
}

# wait_metric VALUE NAME [LABEL=VALUE...]: node_exporter shows it within 10 s
wait_metric() {
	local want=$1 got=
	shift
	for _ in $(seq 40); do
		got=$(metric "$@")
		[ "$got" = "$want" ] && return 0
		sleep 0.25
	done
	fail "/metrics: $* is '$got', expected '$want'; series: $(series)"
}

# usage NAME FIELD: the BPF side's count in "patchlayer layers -j"
usage() {
	$PL layers -j | python3 -c 'import json, sys
for l in json.load(sys.stdin):
    if l["name"] == sys.argv[1]: print(l[sys.argv[2]])' "$1" "$2"
}

kstate() { cat "$SYSFS/layers/$1/state" 2>/dev/null || echo absent; }

wait_kstate() { # NAME STATE
	for _ in $(seq 100); do
		[ "$(kstate "$1")" = "$2" ] && return 0
		sleep 0.2
	done
	fail "$1 is $(kstate "$1") in the kernel, expected $2; journal: $(journal)"
}

L1=(name=zlib-fix version=1 package= advisory=DSA-5999-1)
L2=(name=zlib-fix-2 version=2 package= advisory=)

# --- the machine: the patchlayer package, a vendor key, node_exporter
dpkg -i "$W"/patchlayer_*_amd64.deb > /root/dpkg.log 2>&1 || fail "dpkg -i patchlayer: $(tail -n 20 /root/dpkg.log)"
install -m 0644 "$W/vendor.der" /etc/patchlayer/vendor.der
# metrics_file: its default, node_exporter's directory
cat > $CONF <<EOF
protect = $LIBDIR
trust = /etc/patchlayer/vendor.der
metrics_interval = 1s
EOF
systemctl restart patchlayer.service || fail "patchlayer.service: $(journal)"
systemctl start prometheus-node-exporter.service
for _ in $(seq 100); do
	curl -sf -o /dev/null http://127.0.0.1:9100/metrics && break
	sleep 0.2
done
wait_metric 1 patchlayer_daemon_up
wait_metric 1 patchlayer_crash_watch_up
[ -n "$(metric patchlayer_daemon_last_reconcile_timestamp_seconds)" ] || fail "no last reconcile: $(series)"
expect_eq "$(series | grep -c '^patchlayer_layer_' || true)" 0 "layer series before any layer"
expect_eq "$(stat -c %a /var/lib/prometheus/node-exporter/patchlayer.prom)" 644 "the metrics file's mode"

# a process on the base libz, before the layer: stale once it is active
systemd-run -q --unit pl-old python3 -c 'import zlib, time; time.sleep(600)'

# --- the vendor's repository, signed by a test key, served on 127.0.0.1
mkdir -p -m 700 $GNUPGHOME
gpg --batch --passphrase '' --quick-gen-key "patchlayer fleet test <fleet@example.invalid>" \
	ed25519 sign never 2> /root/gpg.log || fail "gpg: $(cat /root/gpg.log)"
fpr=$(gpg --batch --with-colons --list-secret-keys | awk -F: '/^fpr/ { print $10; exit }')
mkdir -p $REPO
$FR init $REPO --key "$fpr" > /root/repo.log 2>&1 || fail "fleet-repo init: $(cat /root/repo.log)"
$FR publish $REPO "$W/debs/${PKG}_1_all.deb" >> /root/repo.log 2>&1 ||
	fail "fleet-repo publish: $(cat /root/repo.log)"
systemd-run -q --unit pl-http python3 -m http.server --bind 127.0.0.1 --directory $REPO 8080
for _ in $(seq 100); do
	curl -sf -o /dev/null http://127.0.0.1:8080/dists/layers/InRelease && break
	sleep 0.2
done

# --- the machine trusts that key for that repository only (Signed-By)
install -d -m 0755 /etc/apt/keyrings
gpg --batch --export "$fpr" > /etc/apt/keyrings/patchlayer-fleet.gpg
$FR sources http://127.0.0.1:8080 /etc/apt/keyrings/patchlayer-fleet.gpg \
	> /etc/apt/sources.list.d/patchlayer-fleet.sources
# no network in the guest: Debian's archive is not asked
mv /etc/apt/sources.list /etc/apt/sources.list.off
cat > /etc/apt/apt.conf.d/52patchlayer-fleet <<'EOF'
// phasing for apt and unattended-upgrades alike (docs/operators-guide.md)
APT::Get::Phase-Policy "true";
// a fixed id, so that this test's machine falls the same way every run
APT::Machine-ID "a7d3c5e1f0b24c6d8e9f00112233aabb";
Unattended-Upgrade::Origins-Pattern { "origin=patchlayer-fleet,label=patchlayer-layers"; };
EOF

expect_rc 0 apt-get -q update
expect_rc 0 apt-get -q -y install $PKG
wait_kstate zlib-fix active
expect_eq "$(dpkg-query -W -f '${Version}' $PKG)" 1 "$PKG version"

# --- /metrics: active, its activation time, stale and patched processes
now=$(date +%s)
wait_metric 1 patchlayer_layer_state "${L1[@]}" state=active
wait_metric 0 patchlayer_layer_state "${L1[@]}" state=pending
act=$(metric patchlayer_layer_activation_timestamp_seconds "${L1[@]}")
[ -n "$act" ] && [ "$act" -le "$now" ] && [ "$act" -gt $((now - 300)) ] ||
	fail "activation time '$act', now $now; series: $(series)"
systemd-run -q --unit pl-new python3 -c 'import zlib, time; time.sleep(600)'
for _ in $(seq 50); do
	grep -q libz "/proc/$(systemctl show -P MainPID pl-new)/maps" && break
	sleep 0.2
done
# stale: started before the activation, a set that does not move; patched
# ones come and go (curl maps libz)
stale=$(usage zlib-fix stale)
[ "$stale" -ge 1 ] || fail "usage: $stale stale"
wait_metric "$stale" patchlayer_layer_stale_processes "${L1[@]}"
patched=$(metric patchlayer_layer_patched_processes "${L1[@]}")
[ -n "$patched" ] && [ "$patched" -ge 1 ] || fail "patched processes '$patched'; series: $(series)"
systemctl stop pl-old
wait_metric $((stale - 1)) patchlayer_layer_stale_processes "${L1[@]}"
hits=$(metric patchlayer_layer_hits_total "${L1[@]}")
[ -n "$hits" ] && [ "$hits" -ge 1 ] || fail "hits_total '$hits'; series: $(series)"

# --- a crash of a patched service
expect_eq "$(metric patchlayer_layer_crashes_total "${L1[@]}")" 0 "crashes before"
# (no D-Bus in the image: systemd-run cannot --wait)
systemd-run -q --unit pl-crash python3 -c 'import zlib, ctypes; ctypes.string_at(0)'
for _ in $(seq 100); do
	case "$(systemctl show -P Result pl-crash)" in core-dump|signal) break ;; esac
	sleep 0.2
done
expect_match "$(systemctl show -P Result pl-crash)" "^(core-dump|signal)$" "pl-crash's result"
wait_metric 1 patchlayer_layer_crashes_total "${L1[@]}"
wait_metric 1 patchlayer_layer_state "${L1[@]}" state=active

# --- version 2, phased at 0 %: held back on this machine
$FR phase $REPO $PKG 0 >> /root/repo.log 2>&1 || fail "fleet-repo phase: $(cat /root/repo.log)"
$FR publish $REPO "$W/debs/${PKG}_2_all.deb" >> /root/repo.log 2>&1 ||
	fail "fleet-repo publish 2: $(cat /root/repo.log)"
expect_rc 0 apt-get -q update
expect_match "$(apt-cache policy $PKG)" "Candidate: 1$" "the candidate at 0 %"
expect_match "$(apt-cache -o APT::Get::Phase-Policy=false policy $PKG)" "Candidate: 2$" \
	"the candidate at 0 % without Phase-Policy"
expect_rc 0 unattended-upgrade -v
expect_eq "$(dpkg-query -W -f '${Version}' $PKG)" 1 "$PKG version after unattended-upgrade at 0 %"
# at 100 %: installed with nobody typing
$FR phase $REPO $PKG 100 >> /root/repo.log 2>&1 || fail "fleet-repo phase 100: $(cat /root/repo.log)"
expect_rc 0 apt-get -q update
expect_rc 0 unattended-upgrade -v
expect_eq "$(dpkg-query -W -f '${Version}' $PKG)" 2 "$PKG version after unattended-upgrade at 100 %"
wait_kstate zlib-fix-2 active
wait_kstate zlib-fix absent
wait_metric 1 patchlayer_layer_state "${L2[@]}" state=active
wait_metric "" patchlayer_layer_state "${L1[@]}" state=active

# --- apt-get remove drops it
expect_rc 0 apt-get -q -y remove $PKG
wait_kstate zlib-fix-2 absent
[ ! -e $STORE/zlib-fix-2 ] || fail "zlib-fix-2 still in the store after the remove"
wait_metric "" patchlayer_layer_state "${L2[@]}" state=active

# --- the vendor withdraws it: every machine drops it, unattended
expect_rc 0 apt-get -q -y install $PKG
wait_kstate zlib-fix-2 active
$FR withdraw $REPO $PKG >> /root/repo.log 2>&1 || fail "fleet-repo withdraw: $(cat /root/repo.log)"
expect_rc 0 apt-get -q update
expect_rc 0 unattended-upgrade -v
expect_eq "$(dpkg-query -W -f '${Version}' $PKG)" 2+withdrawn1 "$PKG version after the withdrawal"
wait_kstate zlib-fix-2 absent
[ ! -e $STORE/zlib-fix-2 ] || fail "zlib-fix-2 still in the store after the withdrawal"

# --- a repository changed after signing: apt keeps its last good index
# (exit 0, "not updated"), and version 3, published meanwhile, is not seen
$FR publish $REPO "$W/debs/${PKG}_3_all.deb" >> /root/repo.log 2>&1 ||
	fail "fleet-repo publish 3: $(cat /root/repo.log)"
sed -i 's/^Label: patchlayer-layers$/Label: patchlayer-layerz/' $REPO/dists/layers/InRelease
expect_rc 0 apt-get -q update
expect_match "$out" "BADSIG" "apt-get update of a changed InRelease"
expect_match "$out" "The repository is not updated" "apt-get update of a changed InRelease"
expect_match "$(apt-cache policy $PKG)" "Candidate: 2\+withdrawn1$" "the candidate after a bad signature"
# as a failure, when asked (docs/operators-guide.md)
expect_rc 100 apt-get -q update --error-on=any
echo "ok - fleet"
