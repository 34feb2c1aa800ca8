/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest extended state (x87, SSE, AVX, AVX-512) and XCR0.
 *
 * The guest's state lives in vcpu->fpu, a standard-format XSAVE image
 * (Intel SDM Vol. 1 §13.4), the same bytes RINGVM_GET/SET_XSAVE move.
 * The run loop loads it into the registers inside kernel_fpu_begin() /
 * kernel_fpu_end(), which saves the host task's own state first, and
 * saves it back before kernel_fpu_end(); in-kernel exits in between keep
 * the guest's registers live.
 */
#ifndef RINGVM_FPU_H
#define RINGVM_FPU_H

#include <linux/types.h>

struct ringvm_vcpu;
struct ringvm_xsave;

extern u64 ringvm_host_xcr0;
extern u64 ringvm_guest_xfeatures;

int ringvm_fpu_setup(void);
void ringvm_fpu_reset(struct ringvm_vcpu *vcpu);
int ringvm_fpu_check_image(const struct ringvm_xsave *img);
bool ringvm_xcr0_ok(u64 xcr0);
void ringvm_fpu_load(struct ringvm_vcpu *vcpu);
void ringvm_fpu_save(struct ringvm_vcpu *vcpu);

#endif /* RINGVM_FPU_H */
