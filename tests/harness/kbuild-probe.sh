# module/Kbuild's header probes find a declaration in either header
. "$(dirname "$0")/lib.sh"

# flags SRCTREE: the ccflags module/Kbuild sets for headers under SRCTREE
flags() {
	printf 'include %s/module/Kbuild\nall:\n\t@echo $(ccflags-y)\n' "$PWD" > "$work/probe.mk"
	make -s -f "$work/probe.mk" srctree="$1" src="$PWD/module"
}
mkdir -p "$work"/{fs66,fs66old,be612}/include/linux
# 6.6.y with the user-file backport: in linux/fs.h, no linux/backing-file.h
echo 'struct file *backing_file_open(const struct file *user_file, int flags,' \
	> "$work/fs66/include/linux/fs.h"
echo 'struct file *backing_file_open(const struct path *user_path, int flags,' \
	> "$work/fs66old/include/linux/fs.h"
echo 'struct file *backing_file_open(const struct file *user_file, int flags,' \
	> "$work/be612/include/linux/backing-file.h"
: > "$work/be612/include/linux/fs.h"
want=-DPL_HAVE_BACKING_FILE_OPEN_USER_FILE
[ "$(flags "$work/fs66")" = $want ] || fail "6.6.y, linux/fs.h: not probed"
[ -z "$(flags "$work/fs66old")" ] || fail "6.6, the path argument: probed as the file one"
[ "$(flags "$work/be612")" = $want ] || fail "6.12, linux/backing-file.h: not probed"
