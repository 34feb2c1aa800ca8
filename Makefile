# SPDX-License-Identifier: GPL-2.0
#
# make              module (against Debian's 6.1 headers), vmctl, selftests,
#                   after checking uapi/ringvm.yaml (make spec)
# make spec         uapi/ringvm.yaml against its C header and against the
#                   kernel's genetlink schema (jsonschema), and a self-test
#                   that broken copies of the spec fail the schema check
# make KVER=6.12    the same against the 6.12 headers
# make KDIR=DIR     the module against any kernel build tree
# make demo         boot the svm test machine, load ringvm, run vmctl info
# make check        the whole suite on every test machine this host can run
#                   (svm, vmx, vmx-smp, vmx-long, kvm) with KVER's kernel, and on svm
#                   with 6.12's as well (svm@6.12, its module built into
#                   build/kmod-6.12); one line of totals over them all
# make check MACHINES="svm svm@6.12"
#                   only these machines (MACHINE@SERIES: another kernel)
# make check KERNEL=debug
#                   the whole suite on the svm machine, booting a kernel
#                   built here with KASAN, lockdep, kmemleak, UBSAN
#                   (scripts/debug-kernel.sh; the first build takes 45 minutes)
# make deb          the Debian packages ringvm-dkms and vmctl in build/deb
#                   (dpkg-buildpackage -us -uc -b), their contents checked
# make dkms-check   make deb, then dkms builds the module from the
#                   ringvm-dkms package for the 6.1 and 6.12 headers, in
#                   scratch trees (build/dkms): same sources as the tree's
#                   build, signed with dkms's MOK key; make check runs it
#                   and ships those modules to the machines (install_test)
# make bench        ringvm against KVM in the svm machine (QEMU -icount
#                   shift=0, so the TSC counts instructions): one table,
#                   also in build/logs/bench-svm-KVER.txt (MACHINES=vmx:
#                   Bochs)
# make bench-guard  ringvm's half of make bench, its figures against the
#                   committed baseline selftests/bench-baseline-svm-KVER.txt:
#                   one more than 5 % above it fails (make check runs it
#                   when it boots svm and the baseline exists; README.md)
# make modcheck     W=1 builds against 6.1 and 6.12; any warning fails
# make checkpatch   scripts/checkpatch.pl over the module and uapi
# make install      vmctl, its manual and bash completion under PREFIX
#                   (default /usr/local; DESTDIR for staging); not the
#                   module, which a kernel's modules_install or DKMS places

KVER ?= 6.1
BENCH_BASELINE = selftests/bench-baseline-svm-$(KVER).txt
KERNEL ?=
MACHINES ?=
# What make check boots.  With KVER=6.12, svm@6.12 is svm itself.
CHECK_MACHINES := svm vmx vmx-smp vmx-long kvm svm@6.12

# The kernel series other than KVER that the machines $(1) name (svm@6.12).
other_series = $(filter-out $(KVER),$(sort $(foreach m,$(1),\
	$(if $(findstring @,$(m)),$(lastword $(subst @, ,$(m)))))))

ifeq ($(KERNEL),debug)
# The debug kernel's cache directory (the kernel need not be built yet).
DEBUG_KERNEL := $(shell scripts/debug-kernel.sh --dir)
KDIR := $(DEBUG_KERNEL)/src
KMOD_OUT := build/kmod-debug
# KASAN's shadow and quarantine want memory; everything runs several times
# slower than on the Debian kernel (525 s for the suite).
KERNEL_ARGS := --kernel-dir $(DEBUG_KERNEL)/root --memory 2048
CHECK_ARGS := $(KERNEL_ARGS) --timeout 1800 --machines "$(or $(MACHINES),svm)"
# dkms builds for Debian's kernels only.
CHECK_DKMS :=
EXTRA_KMODS :=
DEMO_KMODS :=
# The figures of a KASAN kernel are not the baseline's.
CHECK_GUARD :=
else ifneq ($(KERNEL),)
$(error KERNEL=$(KERNEL): only KERNEL=debug is known)
else
KDIR ?= $(shell scripts/kdir.sh $(KVER))
KMOD_OUT ?= build/kmod-$(KVER)
KERNEL_ARGS :=
CHECK_ARGS := --machines "$(or $(MACHINES),$(CHECK_MACHINES))" --dkms build/dkms
CHECK_DKMS := dkms-check
# The modules for the other series the machines boot: build/kmod-SERIES.
EXTRA_KMODS := $(addprefix module-,$(call other_series,$(or $(MACHINES),$(CHECK_MACHINES))))
DEMO_KMODS := $(addprefix module-,$(call other_series,$(or $(MACHINES),svm)))
CHECK_GUARD := $(strip $(if $(filter svm,$(or $(MACHINES),$(CHECK_MACHINES))),\
	$(wildcard $(BENCH_BASELINE))))
endif

all: spec module userspace selftests

# The schema is Documentation/netlink/genetlink.yaml of linux-source-6.12
# (scripts/ynl.sh), the one the kernel's ynl client validates
# "protocol: genetlink" specs with.
spec:
	python3 scripts/check-spec.py uapi/ringvm.yaml uapi/linux/ringvm_netlink.h
	scripts/check-spec-schema.py --selftest \
		"$$(scripts/ynl.sh)/Documentation/netlink/genetlink.yaml" \
		uapi/ringvm.yaml

module: $(if $(filter debug,$(KERNEL)),debug-kernel)
	@test -n "$(KDIR)" || { echo "no kernel headers: run scripts/setup.sh"; exit 1; }
	scripts/build-kmod.sh $(KDIR) $(KMOD_OUT) $(if $(W),W=$(W))
	@echo "module: $(KMOD_OUT)/ringvm.ko"

userspace:
	$(MAKE) -C userspace

selftests: userspace
	$(MAKE) -C selftests

debug-kernel:
	scripts/debug-kernel.sh

# The module for another series, where run.sh looks for it (make check).
module-%:
	$(MAKE) module KVER=$* KDIR="$$(scripts/kdir.sh $*)" KMOD_OUT=build/kmod-$*

# The packages: built from the working tree, their contents checked.
deb:
	scripts/deb.sh

# dkms compares its modules with the tree's builds of both series, which
# are made first, one after the other (a parallel make must not build one
# directory twice at once).
dkms-check:
	$(MAKE) module-6.1
	$(MAKE) module-6.12
	$(MAKE) deb
	scripts/dkms-check.sh

# The ACPI tables are checked on the host first (iasl, acpiexec): seconds;
# then the packages and dkms (about 3 minutes), before any machine boots.
check: all $(EXTRA_KMODS)
	$(MAKE) -C userspace acpicheck
	$(if $(CHECK_DKMS),$(MAKE) $(CHECK_DKMS))
	selftests/runner/run.sh --kver $(KVER) --kmod $(KMOD_OUT)/ringvm.ko \
		$(CHECK_ARGS)
	$(if $(CHECK_GUARD),$(BENCH_GUARD))

demo: all $(DEMO_KMODS)
	selftests/runner/run.sh --demo --kver $(KVER) --kmod $(KMOD_OUT)/ringvm.ko \
		$(KERNEL_ARGS) --machines "$(or $(MACHINES),svm)"

bench: all $(DEMO_KMODS)
	selftests/runner/run.sh --bench --kver $(KVER) \
		--kmod $(KMOD_OUT)/ringvm.ko $(KERNEL_ARGS) \
		--machines "$(or $(MACHINES),svm)"

# One more boot of the svm machine: 33 to 51 s here (README.md).
BENCH_GUARD = selftests/runner/run.sh --bench-guard $(BENCH_BASELINE) \
	--kver $(KVER) --kmod $(KMOD_OUT)/ringvm.ko --machines svm

bench-guard: all
	$(BENCH_GUARD)

modcheck:
	scripts/modcheck.sh

checkpatch:
	scripts/checkpatch.sh

install: userspace
	$(MAKE) -C userspace install

clean:
	rm -rf build/kmod-* build/deb build/dkms
	$(MAKE) -C userspace clean
	$(MAKE) -C selftests clean

.PHONY: all spec module userspace selftests debug-kernel check demo bench \
	bench-guard \
	modcheck checkpatch install clean deb dkms-check
