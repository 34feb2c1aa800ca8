// SPDX-License-Identifier: GPL-2.0
/*
 * Guest extended state: the XSAVE image, XCR0, and their checks.
 *
 *  1. ringvm_fpu_setup()      - at load: which components guests get
 *  2. checks on an image or an XCR0 value from user space or the guest
 *  3. load/save around guest runs (kernel_fpu_begin() held, preemption
 *     off): XRSTOR the guest's image, switch XCR0, and back
 *
 * Guests get x87, SSE, AVX and the AVX-512 components the host enabled
 * (XCR0 bits 0, 1, 2, 5, 6, 7), all of which sit inside the 4096-byte
 * standard-format image of struct ringvm_xsave.  ringvm requires XSAVE.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/string.h>
#include <asm/cpufeature.h>
#include <asm/fpu/types.h>
#include <asm/fpu/xcr.h>

#include "fpu.h"
#include "vm.h"

u64 ringvm_host_xcr0 __read_mostly;
u64 ringvm_guest_xfeatures __read_mostly;
static u32 ringvm_mxcsr_mask __read_mostly = 0xffbf;

/* Offsets in the standard format (Intel SDM Vol. 1 §10.5.1, §13.4.2). */
#define XSAVE_MXCSR		24
#define XSAVE_MXCSR_MASK	28
#define XSAVE_HDR		512
#define XSAVE_HDR_SIZE		64

#define RINGVM_XFEATURES_ALLOWED (XFEATURE_MASK_FPSSE | XFEATURE_MASK_YMM | \
				  XFEATURE_MASK_AVX512)

struct ringvm_xsave_hdr {
	u64 xstate_bv;
	u64 xcomp_bv;
	u64 reserved[6];
};

static struct ringvm_xsave_hdr *ringvm_xsave_hdr(const struct ringvm_xsave *img)
{
	return (void *)((u8 *)img->region + XSAVE_HDR);
}

int ringvm_fpu_setup(void)
{
	u32 eax, ebx, ecx, edx, i;
	u8 fx[512] __aligned(16);

	if (!boot_cpu_has(X86_FEATURE_XSAVE) ||
	    !boot_cpu_has(X86_FEATURE_OSXSAVE)) {
		pr_err("the CPU has no XSAVE, which ringvm needs for guest state\n");
		return -EOPNOTSUPP;
	}
	ringvm_host_xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
	ringvm_guest_xfeatures = ringvm_host_xcr0 & RINGVM_XFEATURES_ALLOWED;

	/* Drop a component that would not fit the 4 KiB image. */
	for (i = 2; i < 64; i++) {
		if (!(ringvm_guest_xfeatures & BIT_ULL(i)))
			continue;
		cpuid_count(0xd, i, &eax, &ebx, &ecx, &edx);
		if (ebx + eax > sizeof(struct ringvm_xsave))
			ringvm_guest_xfeatures &= ~BIT_ULL(i);
	}
	/* AVX-512 is all three components or none (SDM Vol. 1 §13.3). */
	if ((ringvm_guest_xfeatures & XFEATURE_MASK_AVX512) !=
	    XFEATURE_MASK_AVX512)
		ringvm_guest_xfeatures &= ~XFEATURE_MASK_AVX512;

	/* MXCSR bits the CPU accepts (SDM Vol. 1 §11.6.6). */
	memset(fx, 0, sizeof(fx));
	asm volatile("fxsave %0" : "=m" (fx));
	memcpy(&ringvm_mxcsr_mask, fx + XSAVE_MXCSR_MASK, 4);
	if (!ringvm_mxcsr_mask)
		ringvm_mxcsr_mask = 0xffbf;
	return 0;
}

/* The state after RESET (SDM Vol. 1 §13.6 init state; XCR0 = 1). */
void ringvm_fpu_reset(struct ringvm_vcpu *vcpu)
{
	u32 mxcsr = 0x1f80;
	u16 fcw = 0x37f;

	memset(vcpu->fpu, 0, sizeof(*vcpu->fpu));
	memcpy(vcpu->fpu->region, &fcw, sizeof(fcw));
	memcpy((u8 *)vcpu->fpu->region + XSAVE_MXCSR, &mxcsr, sizeof(mxcsr));
	vcpu->xcr0 = XFEATURE_MASK_FP;
}

/*
 * Everything XRSTOR of a standard-format image checks (SDM Vol. 1
 * §13.8.1): XCOMP_BV bit 63 clear, header bytes 16-63 zero, XSTATE_BV
 * within what guests may have, and no reserved MXCSR bit set.
 */
int ringvm_fpu_check_image(const struct ringvm_xsave *img)
{
	const struct ringvm_xsave_hdr *hdr = ringvm_xsave_hdr(img);
	u32 mxcsr;

	memcpy(&mxcsr, (u8 *)img->region + XSAVE_MXCSR, sizeof(mxcsr));
	if (hdr->xcomp_bv || memchr_inv(hdr->reserved, 0, sizeof(hdr->reserved)))
		return -EINVAL;
	if (hdr->xstate_bv & ~ringvm_guest_xfeatures)
		return -EINVAL;
	if (mxcsr & ~ringvm_mxcsr_mask)
		return -EINVAL;
	return 0;
}

/* What XSETBV accepts (SDM Vol. 2 "XSETBV"; Vol. 1 §13.3). */
bool ringvm_xcr0_ok(u64 xcr0)
{
	if (!(xcr0 & XFEATURE_MASK_FP) || (xcr0 & ~ringvm_guest_xfeatures))
		return false;
	if ((xcr0 & XFEATURE_MASK_YMM) && !(xcr0 & XFEATURE_MASK_SSE))
		return false;
	if ((xcr0 & XFEATURE_MASK_AVX512) &&
	    ((xcr0 & XFEATURE_MASK_AVX512) != XFEATURE_MASK_AVX512 ||
	     !(xcr0 & XFEATURE_MASK_YMM)))
		return false;
	return true;
}

/*
 * Inside kernel_fpu_begin(): the host task's registers are saved, so the
 * guest's can be loaded.  The image was checked when user space set it,
 * and otherwise comes from XSAVE, so XRSTOR cannot fault.
 */
void ringvm_fpu_load(struct ringvm_vcpu *vcpu)
{
	u64 mask = ringvm_guest_xfeatures;

	asm volatile("xrstor64 %[img]"
		     : : [img] "m" (*vcpu->fpu), "a" ((u32)mask),
		       "d" ((u32)(mask >> 32))
		     : "memory");
	if (vcpu->xcr0 != ringvm_host_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, vcpu->xcr0);
}

/*
 * The reverse, with the host's XCR0 back before XSAVE sees it.
 *
 * Quirk: QEMU's TCG (7.2) ignores the SVM XSETBV intercept, so a guest's
 * XSETBV changes the (emulated) host XCR0 behind ringvm's back.
 * Detection: XGETBV here, once per stretch of guest execution, not per
 * exit: a value other than the one ringvm_fpu_load() left is the
 * guest's own.  Workaround: take it as the guest's XCR0 (the next entry
 * must load it again, or the guest's XSAVE and XRSTOR disagree with
 * what it set: Linux then fails every rt_sigreturn), and restore the
 * host's value whenever it differs.
 *
 * Quirk: QEMU's TCG (7.2) lets a guest's LDMXCSR (and FXRSTOR/XRSTOR)
 * set reserved MXCSR bits, where silicon raises #GP (SDM Vol. 1
 * §11.6.6), so XSAVE stores an image that SET_XSAVE refuses and that
 * the next XRSTOR on silicon would fault on.  Detection: the MXCSR just
 * saved has a bit outside MXCSR_MASK.  Workaround: drop those bits from
 * the image, a test and a branch per stretch; the image user space reads
 * is one it can set, and XRSTOR never sees a value that would #GP.
 */
void ringvm_fpu_save(struct ringvm_vcpu *vcpu)
{
	u8 *mxcsr = (u8 *)vcpu->fpu->region + XSAVE_MXCSR;
	u64 mask = ringvm_guest_xfeatures;
	u64 xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
	u32 val;

	if (unlikely(xcr0 != vcpu->xcr0) && ringvm_xcr0_ok(xcr0))
		vcpu->xcr0 = xcr0;
	if (xcr0 != ringvm_host_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, ringvm_host_xcr0);
	asm volatile("xsave64 %[img]"
		     : [img] "+m" (*vcpu->fpu)
		     : "a" ((u32)mask), "d" ((u32)(mask >> 32))
		     : "memory");
	memcpy(&val, mxcsr, sizeof(val));
	if (unlikely(val & ~ringvm_mxcsr_mask)) {
		val &= ringvm_mxcsr_mask;
		memcpy(mxcsr, &val, sizeof(val));
	}
}
