# a WARN_ON(1) planted in a scratch build of the module fails the VM run
. "$(dirname "$0")/lib.sh"

# the scratch build: the real sources with one WARN_ON(1) in module init
cp -r Kbuild module include lib "$work/"
rm -f "$work"/module/*.o "$work"/module/*.ko "$work"/module/.*.cmd "$work"/lib/*.o "$work"/lib/.*.cmd
sed -i '/^static int __init patchlayer_init(void)/,/^{/{/^{/a\	WARN_ON(1);
}' "$work/module/main.c"
grep -q 'WARN_ON(1);' "$work/module/main.c" || fail "could not plant WARN_ON"
make -C "$(pl_kdir "$kver")" M="$work" modules > "$work/build.log" 2>&1 ||
	fail "scratch build failed: $(tail -n 20 "$work/build.log")"

script=$(guest_script load.sh 'modprobe patchlayer && cat /sys/kernel/patchlayer/version')
rc=0
scripts/vm --timeout 300 --module "$work/module/patchlayer.ko" "$script" > "$work/out" 2>&1 || rc=$?
cat "$work/out"
[ "$rc" = 1 ] || fail "scripts/vm exited $rc with a planted WARN_ON, expected 1"
grep -q 'the kernel log shows problems' "$work/out" || fail "no splat report"
grep -q 'WARNING:.*patchlayer_init' "$work/out" || fail "the splat report does not name the WARNING"
