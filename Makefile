# SPDX-License-Identifier: GPL-2.0
#
# make              module (against Debian's 6.1 headers), vmctl, selftests
# make KVER=6.12    the same against the 6.12 headers
# make KDIR=DIR     the module against any kernel build tree
# make demo         boot the svm test machine, load ringvm, run vmctl info
# make check        the whole suite on every test machine this host can run
# make modcheck     W=1 builds against 6.1 and 6.12; any warning fails
# make checkpatch   scripts/checkpatch.pl over the module and uapi

KVER ?= 6.1
KDIR ?= $(shell scripts/kdir.sh $(KVER))
KMOD_OUT ?= build/kmod-$(KVER)
MACHINES ?=

all: module userspace selftests

module:
	@test -n "$(KDIR)" || { echo "no kernel headers: run scripts/setup.sh"; exit 1; }
	scripts/build-kmod.sh $(KDIR) $(KMOD_OUT) $(if $(W),W=$(W))
	@echo "module: $(KMOD_OUT)/ringvm.ko"

userspace:
	$(MAKE) -C userspace

selftests: userspace
	$(MAKE) -C selftests

check: all
	selftests/runner/run.sh --kver $(KVER) --kmod $(KMOD_OUT)/ringvm.ko \
		$(if $(MACHINES),--machines "$(MACHINES)")

demo: all
	selftests/runner/run.sh --demo --kver $(KVER) --kmod $(KMOD_OUT)/ringvm.ko \
		--machines "$(or $(MACHINES),svm)"

modcheck:
	scripts/modcheck.sh

checkpatch:
	scripts/checkpatch.sh

clean:
	rm -rf build/kmod-*
	$(MAKE) -C userspace clean
	$(MAKE) -C selftests clean

.PHONY: all module userspace selftests check demo modcheck checkpatch clean
