# Malformed generic netlink messages to the patchlayer family, from root
# and from an unprivileged user: each is refused with a clean errno (or
# dropped by the netlink core), the family keeps answering, the kernel
# log stays clean.
. "$(dirname "$0")/lib.sh"

modprobe patchlayer
N=${PL_NETLINK_FUZZ:-500}
python3 "$(dirname "$0")/netlink-fuzz.py" "$N"
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	python3 "$(dirname "$0")/netlink-fuzz.py" "$N"
# the family is still there and answers the command
expect_rc 0 "$PL" -j status
module_unload
