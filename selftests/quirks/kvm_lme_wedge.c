// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_lme_wedge: does KVM hit the QEMU TCG quirk that ringvm works around
 * in svm_vmrun_would_fail() (module/svm/exit.c)?  Not part of the suite:
 * on an affected emulator the third test never returns and takes the
 * machine with it.  selftests/quirks/run.sh boots the svm machine with
 * just this binary and reads the outcome from the console.
 *
 *  1. protected_mode_lme_pae, 2. real_mode_lme_pae: the controls.
 *     kvm_amd runs a guest with EFER.LME=1, CR4.PAE=1 and paging off
 *     (what every OS does on its way to long mode), in protected and in
 *     real mode, to its HLT.
 *  3. protected_mode_lme_no_pae: the same with CR4.PAE=0.  The state is
 *     architectural (nothing ties LME to PAE before PG is set, APM Vol. 2
 *     §14.6.1), but QEMU 7.2 TCG restores the host's CR0 at #VMEXIT as
 *     if the guest were entering long mode without PAE, and gives up
 *     before writing it: the host CPU runs on with paging off.  The test
 *     never returns; an RCU stall and a soft lockup follow.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "kselftest_harness.h"
#include "test_util.h"

#define GUEST_GPA	0x1000
#define EFER_LME	(1ULL << 8)
#define CR0_PE		(1ULL << 0)
#define CR4_PAE		(1ULL << 5)

static const __u8 guest_code[] = { 0xf4 };	/* hlt */

static void run_with_lme(struct __test_metadata *_metadata, bool pe,
			 bool pae)
{
	struct kvm_guest g;
	struct kvm_sregs sregs;
	int ret;

	ASSERT_EQ(0, kvm_modules_unload());
	ASSERT_EQ(0, ringvm_ensure_unloaded());
	ASSERT_EQ(0, modprobe(kvm_vendor_module()));
	ret = kvm_guest_create(&g, guest_code, sizeof(guest_code), GUEST_GPA);
	ASSERT_EQ(0, ret) TH_LOG("KVM guest: %s", strerror(-ret));

	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_SREGS, &sregs));
	sregs.efer |= EFER_LME;
	if (pae)
		sregs.cr4 |= CR4_PAE;
	if (pe) {
		/* Flat 16-bit protected mode: base 0, so CS:IP stays put. */
		sregs.cr0 |= CR0_PE;
		sregs.cs.type = 0xb;
		sregs.cs.s = 1;
		sregs.cs.present = 1;
		sregs.cs.limit = 0xffff;
	}
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_SREGS, &sregs))
		TH_LOG("KVM_SET_SREGS: %s", strerror(errno));
	TH_LOG("KVM_RUN with CR0.PE=%d CR4.PAE=%d EFER.LME=1", pe, pae);
	ret = kvm_guest_run(&g);
	TH_LOG("KVM_RUN returned %d", ret);
	EXPECT_EQ(KVM_EXIT_HLT, ret);
	kvm_guest_destroy(&g);
	ASSERT_EQ(0, kvm_modules_unload());
}

TEST(protected_mode_lme_pae)
{
	run_with_lme(_metadata, true, true);
}

TEST(real_mode_lme_pae)
{
	run_with_lme(_metadata, false, true);
}

TEST(protected_mode_lme_no_pae)
{
	run_with_lme(_metadata, true, false);
}

RINGVM_TEST_MAIN
