# SPDX-License-Identifier: GPL-2.0
# patchlayer: make builds the module, the BPF objects and the command.
#   make demo    the demo in the VM (sets itself up)
#   make check   every test (sets itself up); ends with "N passed, N failed"
#   make check-debug  the VM suite on a KASAN/lockdep/kmemleak kernel (slow;
#                not part of make check; builds that kernel once, cached)
# KDIR selects the kernel build tree (default: running kernel's, else the
# Debian 12 6.1 headers that scripts/setup installs).

KDIR ?= $(shell bash -c '. scripts/lib.sh && pl_kdir')
KVER := $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' $(KDIR)/include/generated/utsrelease.h 2>/dev/null)
BUILD := $(CURDIR)/build

all: module bpf userspace

module:
	@test -n "$(KDIR)" || { echo "no kernel headers: run scripts/setup" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

bpf:
	$(MAKE) -C bpf OUT=$(BUILD)/bpf KVER=$(KVER)

userspace: bpf
	$(MAKE) -C userspace OUT=$(BUILD)/userspace

setup:
	scripts/setup

check:
	scripts/setup
	tests/run

check-debug:
	scripts/setup
	scripts/check-debug

demo:
	scripts/setup
	$(MAKE) all
	scripts/demo

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf $(BUILD)

.PHONY: all module bpf userspace setup check check-debug demo clean
