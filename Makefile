# SPDX-License-Identifier: GPL-2.0
# patchlayer: make builds the module, the BPF objects and the command.
#   make demo    the demo in the VM (sets itself up)
#   make check   every test (sets itself up); ends with "N passed, N failed"
#   make install / make uninstall [DESTDIR=...] [PREFIX=/usr/local]
#   make check-debug [KVER=6.12...]  the VM suite on a KASAN/lockdep/kmemleak
#                kernel built from that release's linux-source (default: the
#                6.1 series; slow; not part of make check; built once, cached)
# The kernel the module is built for (scripts/lib.sh): KVER=<release> for any
# installed kernel whose headers are installed, or KDIR=<build tree>. By
# default the running kernel when it is supported and has its headers (a
# real machine), else the newest supported kernel with headers installed.
# Supported: the Linux 6.1 to 6.12 series (docs/operators-guide.md).

ifneq ($(KDIR),)
KVER := $(shell bash -c '. scripts/lib.sh && pl_kdir_kver "$(KDIR)"')
else
ifeq ($(origin KVER),undefined)
KVER := $(shell bash -c '. scripts/lib.sh && pl_default_kver')
endif
KDIR := $(shell bash -c '. scripts/lib.sh && pl_kdir_of "$(KVER)"')
endif
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
GENDIR ?= $(PREFIX)/lib/systemd/system-generators
MODLOADDIR ?= $(PREFIX)/lib/modules-load.d
SYSCONFDIR ?= /etc
MODDIR ?= /lib/modules/$(KVER)/extra
DKMSDIR ?= /usr/src/patchlayer-$(VERSION)
INSTALL ?= install

all: module bpf userspace

# Each kernel's objects in their own tree, build/kernel/KVER, of links to
# the sources (pl_module_tree). module/patchlayer.ko is a copy of the last
# built (a copy: an in-tree build must not write through a link into a tree).
KTREE = $(BUILD)/kernel/$(KVER)
module:
	@test -n "$(KVER)" && test -n "$(KDIR)" || { echo "module: no headers of $(if $(KVER),kernel $(KVER),a supported kernel (6.1 to 6.12)): run scripts/setup, or choose an installed one, KVER=<release> or KDIR=<dir>" >&2; exit 1; }
	@echo "module: for $(KVER), in $(KTREE)"
	@bash -c '. scripts/lib.sh && pl_module_tree "$(KVER)"' > /dev/null
	$(MAKE) -C $(KDIR) M=$(KTREE) W=1 modules
	rm -f module/patchlayer.ko && cp $(KTREE)/module/patchlayer.ko module/patchlayer.ko

bpf:
	$(MAKE) -C bpf OUT=$(BUILD)/bpf KVER=$(KVER)

userspace: bpf
	$(MAKE) -C userspace OUT=$(BUILD)/userspace

setup:
	scripts/setup

check:
	scripts/setup
	tests/run

# KVER=, when given, chooses the debug kernel's series (default 6.1)
check-debug:
	scripts/setup
	scripts/check-debug $(if $(filter command line,$(origin KVER)),--kver $(KVER))

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
	$(INSTALL) -d $(DESTDIR)$(GENDIR)
	$(INSTALL) -m 0755 $(BUILD)/userspace/patchlayer-generator $(DESTDIR)$(GENDIR)/patchlayer-generator
	$(INSTALL) -m 0644 $(BUILD)/bpf/*.bpf.o $(DESTDIR)$(PKGLIBDIR)/bpf/
	$(INSTALL) -m 0644 man/patchlayer.8 $(DESTDIR)$(MANDIR)/man8/patchlayer.8
	$(INSTALL) -m 0644 man/patchlayer.conf.5 $(DESTDIR)$(MANDIR)/man5/patchlayer.conf.5
	$(INSTALL) -m 0644 dist/bash-completion/patchlayer $(DESTDIR)$(BASHCOMPDIR)/patchlayer
	$(INSTALL) -m 0644 dist/modules-load.d/patchlayer.conf $(DESTDIR)$(MODLOADDIR)/patchlayer.conf
	$(INSTALL) -m 0644 dist/modprobe.d/patchlayer.conf $(DESTDIR)$(DOCDIR)/examples/modprobe.d-patchlayer.conf
	$(INSTALL) -m 0644 dist/patchlayer.conf $(DESTDIR)$(DOCDIR)/examples/patchlayer.conf
	$(INSTALL) -m 0644 dist/prometheus/patchlayer.rules.yml $(DESTDIR)$(DOCDIR)/examples/prometheus-patchlayer.rules.yml
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
	$(INSTALL) -m 0644 $(KTREE)/module/patchlayer.ko $(DESTDIR)$(MODDIR)/patchlayer.ko
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
		$(DESTDIR)$(MODLOADDIR)/patchlayer.conf $(DESTDIR)$(GENDIR)/patchlayer-generator
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
	rm -rf $(BUILD)
	rm -f module/patchlayer.ko
	@# the objects of an in-tree build (make -C KDIR M=$$PWD), if any
	$(if $(KDIR),-$(MAKE) -C $(KDIR) M=$(CURDIR) clean > /dev/null)

.PHONY: all module bpf userspace setup check check-debug demo clean install uninstall \
	install-userspace install-module install-dkms
