# dpkg -i of the built patchlayer-dkms and patchlayer packages in the VM: DKMS
# builds the module for the running kernel, modprobe loads that build, the
# installed command protects the library directory and serves a layer; purge
# takes it all away again. (No reboot: the harness boots the host's userland,
# not a disk image; tests/sys/deb-reboot.sh installs and reboots on the
# Debian 12 system image.) Compiling the module under TCG over 9p takes over ten minutes,
# so this test is not in the default run: tests/vm/run-slow runs it, and
# "tests/run pkg-vm" runs that in the VM.
. "$(dirname "$0")/lib.sh"

P=$PLVM_ROOT/build/pkg
kver=$(uname -r)
dkmsdeb=$(ls "$P"/patchlayer-dkms_*_all.deb 2> /dev/null | head -n 1)
deb=$(ls "$P"/patchlayer_*_amd64.deb 2> /dev/null | head -n 1)
[ -n "$dkmsdeb" ] && [ -n "$deb" ] || fail "no packages in $P: run tests/run pkg on the host"
version=$(dpkg-deb -f "$deb" Version)
T=/var/lib/pl-store
mkdir -p $T && mount -t tmpfs tmpfs $T

# the man-db trigger would index every manual page over 9p: not under test
rm -f /var/lib/man-db/auto-update
# the harness's own module must not be what modprobe finds
rm -f /lib/modules/$kver/extra/patchlayer.ko
dpkg -i "$dkmsdeb" "$deb" > "$T/dpkg.log" 2>&1 || fail "dpkg -i: $(cat "$T/dpkg.log")"
expect_eq "$(dpkg-query -W -f '${db:Status-Abbrev}' patchlayer patchlayer-dkms)" "ii ii " "package status"
out=$(dkms status patchlayer 2>&1)
expect_match "$out" "^patchlayer/$version, $kver, x86_64: installed" "dkms status"
ko=$(modinfo -n patchlayer)
expect_match "$ko" "/lib/modules/$kver/updates/dkms/patchlayer.ko" "the module modprobe finds"
expect_eq "$(modinfo -F version patchlayer)" "$version" "the DKMS module's version"

# the installed files, as a user finds them
expect_eq "$(command -v patchlayer)" /usr/sbin/patchlayer "patchlayer on PATH"
expect_rc 0 patchlayer --version
expect_eq "$out" "patchlayer $version" "patchlayer --version"
expect_eq "$(grep -v '^#' /usr/lib/modules-load.d/patchlayer.conf)" patchlayer "modules-load.d"
grep -q '^auto_install = yes$' /etc/patchlayer/patchlayer.conf || fail "no configuration"
MANWIDTH=80 man patchlayer > "$T/man" 2> "$T/man.err" || fail "man patchlayer: $(cat "$T/man.err")"
expect_match "$(head -n 1 "$T/man")" '^PATCHLAYER\(8\)' "man patchlayer"
expect_rc 3 patchlayer status

# the packaged module and command at work
modprobe patchlayer
expect_rc 0 patchlayer status
expect_match "$out" "^module: +patchlayer $version" "status"
make_key "$T" vendor
patched_zlib "$T/libz.so"
PL=/usr/sbin/patchlayer build_layer "$T/zfix" vendor zlib-fix "1" "$T/libz.so=$ZLIB"
expect_write OK $SYSFS/trust --bytes-from "$T/vendor.der"
expect_write OK $SYSFS/load "$T/zfix"
expect_rc 0 patchlayer protect $LIBDIR
expect_write OK $SYSFS/layers/zlib-fix/state activate
expect_eq "$(python3 -c 'import zlib; print(zlib.ZLIB_RUNTIME_VERSION)')" "$ZLIB_FIXED_VERSION" "a new process"
expect_write OK $SYSFS/layers/zlib-fix/state drop
expect_write OK $SYSFS/unload zlib-fix
expect_rc 0 patchlayer unprotect $LIBDIR
modprobe -r patchlayer

# purge: DKMS removes its build, nothing of the packages is left
dpkg --purge patchlayer patchlayer-dkms > "$T/purge.log" 2>&1 || fail "dpkg --purge: $(cat "$T/purge.log")"
[ -z "$(dkms status patchlayer 2>&1)" ] || fail "dkms status after purge: $(dkms status patchlayer)"
[ ! -e /lib/modules/$kver/updates/dkms/patchlayer.ko ] || fail "the DKMS module is left after purge"
for f in /usr/sbin/patchlayer /etc/patchlayer /usr/src/patchlayer-$version; do
	[ ! -e $f ] || fail "$f is left after purge"
done
