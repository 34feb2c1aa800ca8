/* SPDX-License-Identifier: GPL-2.0 */
/*
 * For both vmenter.S: put the host's SPEC_CTRL back after a VM exit,
 * before the first RET (module/spec.h).  @guest is the memory operand
 * that holds the value the guest ran with.  The write happens where the
 * two differ, and always with legacy IBRS (X86_FEATURE_KERNEL_IBRS,
 * Skylake-era parts without eIBRS): IBRS only restricts predictions made
 * before it was written from a less privileged predictor mode, and the
 * guest was one.  As KVM's vmx_spec_ctrl_restore_host() and
 * RESTORE_HOST_SPEC_CTRL (module/MITIGATIONS.md rows 4 and 19); the
 * LFENCE keeps a mispredicted skip from running on into a RET.  Clobbers
 * RAX, RCX and RDX (zeroed where the host has SPEC_CTRL).
 */
#ifndef RINGVM_SPEC_ASM_H
#define RINGVM_SPEC_ASM_H

#include <asm/alternative.h>
#include <asm/cpufeatures.h>
#include <asm/msr-index.h>
#include <asm/percpu.h>

.macro RINGVM_RESTORE_HOST_SPEC_CTRL guest:req
	ALTERNATIVE "jmp .Lspec_done\@", "", X86_FEATURE_MSR_SPEC_CTRL
	mov	PER_CPU_VAR(x86_spec_ctrl_current), %eax
	mov	PER_CPU_VAR(x86_spec_ctrl_current + 4), %edx
	ALTERNATIVE "", "jmp .Lspec_write\@", X86_FEATURE_KERNEL_IBRS
	cmp	\guest, %eax
	jne	.Lspec_write\@
	cmp	4+\guest, %edx
	je	.Lspec_fence\@
.Lspec_write\@:
	mov	$MSR_IA32_SPEC_CTRL, %ecx
	wrmsr
.Lspec_fence\@:
	lfence
	xor	%eax, %eax
	xor	%ecx, %ecx
	xor	%edx, %edx
.Lspec_done\@:
.endm

#endif /* RINGVM_SPEC_ASM_H */
