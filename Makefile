# SPDX-License-Identifier: GPL-2.0
# patchlayer: make builds the module, the BPF objects and the command.
#   make demo    the demo in the VM (sets itself up)
#   make check   every test (sets itself up); ends with "N passed, N failed"
#   make install / make uninstall [DESTDIR=...] [PREFIX=/usr/local]
#   make check-debug  the VM suite on a KASAN/lockdep/kmemleak kernel (slow;
#                not part of make check; builds that kernel once, cached)
# KDIR selects the kernel build tree (default: running kernel's, else the
# Debian 12 6.1 headers that scripts/setup installs).

KDIR ?= $(shell bash -c '. scripts/lib.sh && pl_kdir')
KVER := $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' $(KDIR)/include/generated/utsrelease.h 2>/dev/null)
BUILD := $(CURDIR)/build
VERSION := $(shell sed -n 's/^\#define PATCHLAYER_VERSION "\(.*\)"/\1/p' module/patchlayer.h)

# Where "make install" puts things. The module goes where depmod finds it,
# whatever PREFIX; depmod runs only for a real install (no DESTDIR).
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
PKGLIBDIR ?= $(PREFIX)/lib/patchlayer
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/patchlayer
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
UNITDIR ?= $(PREFIX)/lib/systemd/system
MODLOADDIR ?= $(PREFIX)/lib/modules-load.d
SYSCONFDIR ?= /etc
MODDIR ?= /lib/modules/$(KVER)/extra
DKMSDIR ?= /usr/src/patchlayer-$(VERSION)
INSTALL ?= install

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

# The command, its BPF objects, configuration, unit, man pages, completion.
install-userspace: bpf userspace
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(PKGLIBDIR)/bpf \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(MODLOADDIR) \
		$(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR)/ABI \
		$(DESTDIR)$(SYSCONFDIR)/patchlayer
	$(INSTALL) -m 0755 $(BUILD)/userspace/patchlayer $(DESTDIR)$(SBINDIR)/patchlayer
	$(INSTALL) -m 0644 $(BUILD)/bpf/*.bpf.o $(DESTDIR)$(PKGLIBDIR)/bpf/
	$(INSTALL) -m 0644 man/patchlayer.8 $(DESTDIR)$(MANDIR)/man8/patchlayer.8
	$(INSTALL) -m 0644 man/patchlayer.conf.5 $(DESTDIR)$(MANDIR)/man5/patchlayer.conf.5
	$(INSTALL) -m 0644 dist/bash-completion/patchlayer $(DESTDIR)$(BASHCOMPDIR)/patchlayer
	$(INSTALL) -m 0644 dist/modules-load.d/patchlayer.conf $(DESTDIR)$(MODLOADDIR)/patchlayer.conf
	$(INSTALL) -m 0644 dist/modprobe.d/patchlayer.conf $(DESTDIR)$(DOCDIR)/examples/modprobe.d-patchlayer.conf
	$(INSTALL) -m 0644 dist/patchlayer.conf $(DESTDIR)$(DOCDIR)/examples/patchlayer.conf
	$(INSTALL) -m 0644 docs/*.md $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 0644 docs/ABI/* $(DESTDIR)$(DOCDIR)/ABI/
	@# an administrator's configuration is never overwritten
	test -e $(DESTDIR)$(SYSCONFDIR)/patchlayer/patchlayer.conf || \
		$(INSTALL) -m 0644 dist/patchlayer.conf $(DESTDIR)$(SYSCONFDIR)/patchlayer/patchlayer.conf
	@# the unit comes with the daemon; it runs the command where it was installed
	for u in $(wildcard dist/*.service); do \
		$(INSTALL) -d $(DESTDIR)$(UNITDIR) && \
		sed 's|/usr/sbin/patchlayer|$(SBINDIR)/patchlayer|g' $$u > $(DESTDIR)$(UNITDIR)/$${u##*/} && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$${u##*/} || exit 1; \
	done

install-module: module
	$(INSTALL) -d $(DESTDIR)$(MODDIR)
	$(INSTALL) -m 0644 module/patchlayer.ko $(DESTDIR)$(MODDIR)/patchlayer.ko
	$(if $(DESTDIR),,depmod -a $(KVER))

# The module's source as DKMS builds it (make -C KDIR M=... modules).
install-dkms:
	$(INSTALL) -d $(DESTDIR)$(DKMSDIR)/module $(DESTDIR)$(DKMSDIR)/lib \
		$(DESTDIR)$(DKMSDIR)/include/uapi
	$(INSTALL) -m 0644 Kbuild $(DESTDIR)$(DKMSDIR)/Kbuild
	sed 's/#MODULE_VERSION#/$(VERSION)/' dkms.conf > $(DESTDIR)$(DKMSDIR)/dkms.conf
	$(INSTALL) -m 0644 module/Kbuild $(filter-out %.mod.c,$(wildcard module/*.c)) \
		module/*.h $(DESTDIR)$(DKMSDIR)/module/
	$(INSTALL) -m 0644 lib/manifest.c lib/manifest.h $(DESTDIR)$(DKMSDIR)/lib/
	$(INSTALL) -m 0644 include/uapi/patchlayer.h $(DESTDIR)$(DKMSDIR)/include/uapi/

install: install-module install-userspace

uninstall:
	rm -f $(DESTDIR)$(MODDIR)/patchlayer.ko
	$(if $(DESTDIR),,depmod -a $(KVER))
	rm -f $(DESTDIR)$(SBINDIR)/patchlayer $(DESTDIR)$(MANDIR)/man8/patchlayer.8 \
		$(DESTDIR)$(MANDIR)/man5/patchlayer.conf.5 $(DESTDIR)$(BASHCOMPDIR)/patchlayer \
		$(DESTDIR)$(MODLOADDIR)/patchlayer.conf
	rm -f $(foreach u,$(wildcard dist/*.service),$(DESTDIR)$(UNITDIR)/$(notdir $(u)))
	rm -rf $(DESTDIR)$(PKGLIBDIR) $(DESTDIR)$(DOCDIR)
	@# the configuration goes only when nobody changed it
	if cmp -s dist/patchlayer.conf $(DESTDIR)$(SYSCONFDIR)/patchlayer/patchlayer.conf; then \
		rm -f $(DESTDIR)$(SYSCONFDIR)/patchlayer/patchlayer.conf; \
	elif [ -e $(DESTDIR)$(SYSCONFDIR)/patchlayer/patchlayer.conf ]; then \
		echo "uninstall: keeping the changed $(DESTDIR)$(SYSCONFDIR)/patchlayer/patchlayer.conf"; \
	fi
	-rmdir $(DESTDIR)$(SYSCONFDIR)/patchlayer 2>/dev/null
	@# a staging tree is left with no empty directories either
	$(if $(DESTDIR),-find $(DESTDIR) -mindepth 1 -depth -type d -empty -delete)

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf $(BUILD)

.PHONY: all module bpf userspace setup check check-debug demo clean install uninstall \
	install-userspace install-module install-dkms
