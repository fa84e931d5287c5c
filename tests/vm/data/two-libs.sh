# Builds, in DIR, libpa.so.1 (which needs libpb.so.1) and a program pl-two
# that prints both libraries' versions: "pa=V pb=V". Version V is $2.
# usage: two-libs.sh DIR VERSION [OUTDIR-FOR-LIBS-ONLY]
set -eu
dir=$1 version=$2 out=${3:-$1}
src=$(mktemp -d)
cat > "$src/pb.c" <<C
const char *pb_version(void) { return "$version"; }
C
cat > "$src/pa.c" <<C
const char *pb_version(void);
const char *pa_version(void) { return "$version"; }
const char *pa_peer(void) { return pb_version(); }
C
cat > "$src/two.c" <<C
#include <stdio.h>
const char *pa_version(void);
const char *pa_peer(void);
int main(void) { printf("pa=%s pb=%s\n", pa_version(), pa_peer()); return 0; }
C
mkdir -p "$out"
gcc -shared -fPIC -Wl,-soname,libpb.so.1 -o "$out/libpb.so.1" "$src/pb.c"
gcc -shared -fPIC -Wl,-soname,libpa.so.1 -o "$out/libpa.so.1" "$src/pa.c" -L"$out" -l:libpb.so.1 -Wl,-rpath,"$dir"
if [ "$out" = "$dir" ]; then
	gcc -o "$dir/pl-two" "$src/two.c" -L"$dir" -l:libpa.so.1 -Wl,-rpath,"$dir" -Wl,-rpath-link,"$dir"
fi
rm -rf "$src"
