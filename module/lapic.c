// SPDX-License-Identifier: GPL-2.0
/*
 * The local APIC in the module (RINGVM_ENABLE_LAPIC), one per vCPU.
 * The rules are Intel SDM Vol. 3A chapter 10, "Advanced Programmable
 * Interrupt Controller (APIC)", cited as §10.x.
 *
 *  1. registers: kept in the xAPIC page's layout (regs[], the first
 *     1 KiB), read and written through the MMIO page in xAPIC mode and
 *     through MSRs 0x800-0x8ff in x2APIC mode (§10.12.1.2), where a
 *     reserved register, a read of a write-only one, a write of a
 *     read-only one or a reserved bit is a #GP
 *  2. interrupts: IRR, ISR, TMR, the TPR (whose bits 7:4 are CR8,
 *     §10.8.6) and the PPR (§10.8.3.1), EOI; event.c asks for the
 *     vector to inject and accepts it
 *  3. posting from other contexts: the timer, other vCPUs' IPIs and
 *     RINGVM_SIGNAL_MSI set bits in a posted bitmap and vcpu->apic_posted
 *     (atomically), then wake and kick the vCPU; only its own thread
 *     moves them into the IRR (ringvm_lapic_sync())
 *  4. the timer (§10.5.4): one-shot, periodic and TSC-deadline on a
 *     host hrtimer; the APIC bus runs at 1 GHz, one count per ns
 *  5. IPIs and MSIs: destinations, shorthands, delivery modes (§10.6)
 *  6. the multiprocessor state: HLT, INIT and SIPI block in the module
 *  7. RINGVM_GET/SET_LAPIC, RINGVM_GET/SET_MP_STATE, RINGVM_SIGNAL_MSI
 *
 * Context: regs[] and the timer's settings belong to the vCPU's thread
 * ([v]); the posted bitmap is atomic; other vCPUs are reached under RCU
 * (ringvm_vcpu_free() waits for a grace period when APICs are on).
 */
#include <linux/hrtimer.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/apicdef.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/tsc.h>

#include "vm.h"

static_assert(sizeof(struct ringvm_lapic_state) == 1088);
static_assert(sizeof(struct ringvm_mp_state) == 8);
static_assert(sizeof(struct ringvm_msi) == 32);

#define APIC_REG(off)		((off) >> 2)	/* regs[] index */
#define APIC_VERSION		(0x14 | (5 << 16))	/* 6 LVT entries */
#define APIC_X2_MSR_FIRST	0x800
#define APIC_X2_MSR_LAST	0x8ff
#define APIC_LVT_TIMER_MODE	(3 << 17)
#define APIC_TIMER_PERIODIC	BIT(17)
#define APIC_TIMER_DEADLINE	(2 << 17)
#define APIC_SHORTHAND		(3 << 18)	/* ICR destination shorthand */
#define APIC_SVR_VALID		0x3ff	/* vector, enable, focus */
#define APIC_ESR_SEND_ILLEGAL	BIT(5)
#define APIC_ESR_RECV_ILLEGAL	BIT(6)
#define APIC_ESR_ILLEGAL_REG	BIT(7)
#define APIC_BASE_RESERVED	(GENMASK_ULL(9, 0) & ~MSR_IA32_APICBASE_BSP)
#define APIC_X2APIC_ENABLE	BIT(10)		/* IA32_APIC_BASE.EXTD */
/* A guest's periodic timer is at least this long (KVM's default too). */
#define APIC_MIN_PERIOD_NS	(200 * NSEC_PER_USEC)

enum {
	RINGVM_POSTED_IRR,
	RINGVM_POSTED_NMI,
	RINGVM_POSTED_INIT,
	RINGVM_POSTED_SIPI,
};

struct ringvm_lapic {
	struct ringvm_vcpu *vcpu;
	u64 base;				/* [v] IA32_APIC_BASE */
	u32 regs[RINGVM_LAPIC_REGS_SIZE / 4];	/* [v] */
	u32 esr_pending;			/* [v] errors since ESR write */
	unsigned long pir[256 / BITS_PER_LONG];	/* (a) posted vectors */
	unsigned long pir_level[256 / BITS_PER_LONG]; /* (a) their TMR */
	u8 sipi_vector;				/* (a) last SIPI posted */

	struct hrtimer timer;
	u64 period_ns;		/* [v] periodic mode, or 0; read by the timer */
	u64 count_ns;		/* [v] one count of TMICT, in ns */
	u64 tsc_deadline;	/* [v] */
};

static u32 *apic_reg(struct ringvm_lapic *apic, u32 off)
{
	return &apic->regs[APIC_REG(off)];
}

static u32 apic_get(struct ringvm_lapic *apic, u32 off)
{
	return READ_ONCE(*apic_reg(apic, off));
}

static void apic_set(struct ringvm_lapic *apic, u32 off, u32 val)
{
	WRITE_ONCE(*apic_reg(apic, off), val);
}

static bool apic_x2(const struct ringvm_lapic *apic)
{
	return apic->base & APIC_X2APIC_ENABLE;
}

static bool apic_hw_enabled(const struct ringvm_lapic *apic)
{
	return apic->base & MSR_IA32_APICBASE_ENABLE;
}

static bool apic_sw_enabled(struct ringvm_lapic *apic)
{
	return apic_get(apic, APIC_SPIV) & APIC_SPIV_APIC_ENABLED;
}

/*
 * Whether LINT0 passes an ExtINT, RINGVM_INTERRUPT's path from a PIC in
 * user space: it is the processor's INTR pin while the APIC is globally
 * disabled (§10.4.3), else LVT0 must be unmasked with delivery mode
 * ExtINT (§10.5.1).  The vector comes from the PIC, so neither the TPR
 * nor the ISR holds it back.
 */
bool ringvm_lapic_extint_open(struct ringvm_vcpu *vcpu)
{
	struct ringvm_lapic *apic = vcpu->apic;
	u32 lvt0 = apic_get(apic, APIC_LVT0);

	return !apic_hw_enabled(apic) ||
	       (!(lvt0 & APIC_LVT_MASKED) &&
		(lvt0 & APIC_MODE_MASK) == APIC_DM_EXTINT);
}

/* The 256-bit IRR, ISR and TMR: eight registers 16 bytes apart. */
static u32 *apic_vec_word(struct ringvm_lapic *apic, u32 base, u8 vec)
{
	return apic_reg(apic, base + ((vec >> 5) << 4));
}

static void apic_assign_vec(struct ringvm_lapic *apic, u32 base, u8 vec,
			    bool on)
{
	u32 *w = apic_vec_word(apic, base, vec);

	*w = on ? *w | BIT(vec & 31) : *w & ~BIT(vec & 31);
}

static int apic_highest(struct ringvm_lapic *apic, u32 base)
{
	int i;
	u32 v;

	for (i = 7; i >= 0; i--) {
		v = apic_get(apic, base + (i << 4));
		if (v)
			return i * 32 + fls(v) - 1;
	}
	return -1;
}

/* 2. Priorities (§10.8.3.1): TPR bits 7:4 are CR8 (§10.8.6.1). */

static u32 apic_tpr(struct ringvm_vcpu *vcpu)
{
	return (ringvm_arch->get_reg(vcpu, RINGVM_REG_CR8) << 4) |
	       (apic_get(vcpu->apic, APIC_TASKPRI) & 0xf);
}

static u32 apic_ppr(struct ringvm_vcpu *vcpu)
{
	u32 tpr = apic_tpr(vcpu);
	int isr = apic_highest(vcpu->apic, APIC_ISR);

	if (isr < 0 || (tpr & 0xf0) >= (isr & 0xf0))
		return tpr;
	return isr & 0xf0;
}

static void apic_update_irr(struct ringvm_vcpu *vcpu)
{
	vcpu->apic_irr = apic_highest(vcpu->apic, APIC_IRR) >= 0;
}

/*
 * The vector the APIC would deliver now, its class above the PPR's
 * (§10.8.3.1: above the TPR's and any in service), or -1; or
 * RINGVM_LAPIC_TPR_HELD if the TPR alone holds it back: a MOV to CR8
 * that lowers the TPR must then be seen at once (RINGVM_WINDOW_TPR),
 * while one the ISR holds waits for an EOI, which exits anyway.
 */
int ringvm_lapic_deliverable(struct ringvm_vcpu *vcpu)
{
	struct ringvm_lapic *apic = vcpu->apic;
	int irr = apic_highest(apic, APIC_IRR), isr;

	if (irr < 0 || !apic_hw_enabled(apic) || !apic_sw_enabled(apic))
		return -1;
	isr = apic_highest(apic, APIC_ISR);
	if (isr >= 0 && (irr & 0xf0) <= (isr & 0xf0))
		return -1;
	if ((irr & 0xf0) <= (apic_tpr(vcpu) & 0xf0))
		return RINGVM_LAPIC_TPR_HELD;
	return irr;
}

/* The processor took @vec: it moves from the IRR to the ISR. */
void ringvm_lapic_accept(struct ringvm_vcpu *vcpu, int vec)
{
	apic_assign_vec(vcpu->apic, APIC_IRR, vec, false);
	apic_assign_vec(vcpu->apic, APIC_ISR, vec, true);
	apic_update_irr(vcpu);
}

/*
 * §10.8.5: an EOI ends the highest-priority interrupt in service.  The
 * TMR keeps its bit: it changes only when a vector enters the IRR
 * (§10.8.4), so a level vector pending again while in service keeps it.
 */
static void apic_eoi(struct ringvm_vcpu *vcpu)
{
	struct ringvm_lapic *apic = vcpu->apic;
	int isr = apic_highest(apic, APIC_ISR);

	if (isr < 0)
		return;
	/*
	 * A level-triggered vector's EOI goes on to the I/O APICs (§10.8.5;
	 * no EOI-broadcast suppression is offered, APIC_VERSION bit 24), so
	 * the one in user space can clear its remote IRR: exit.c ends the
	 * RUN right after the instruction that wrote the EOI.
	 */
	if ((*apic_vec_word(apic, APIC_TMR, isr) & BIT(isr & 31)) &&
	    vcpu->vm->eoi_exit) {
		vcpu->eoi_exit = true;
		vcpu->eoi_vector = isr;
	}
	apic_assign_vec(apic, APIC_ISR, isr, false);
}

/* The vCPU's thread: @vec into the IRR, its TMR bit as @level (§10.8.4). */
static void apic_set_irr(struct ringvm_lapic *apic, u8 vec, bool level)
{
	apic_assign_vec(apic, APIC_IRR, vec, true);
	apic_assign_vec(apic, APIC_TMR, vec, level);
}

/* 3. Posting */

static void ringvm_vcpu_wake(struct ringvm_vcpu *vcpu)
{
	smp_mb__after_atomic();	/* the posted bits before the wake-up */
	ringvm_vcpu_kick(vcpu);
}

/*
 * Any context: @vec for @vcpu's IRR; edge-triggered unless @level.
 * Vectors below 32 are not delivered: 0-15 are illegal (§10.5.2), and
 * ringvm injects no external interrupt on an exception's vector (as
 * RINGVM_INTERRUPT refuses one).
 */
static void apic_post_vector(struct ringvm_vcpu *vcpu, u8 vec, bool level)
{
	struct ringvm_lapic *apic = vcpu->apic;

	if (vec < 32)
		return;

	if (level)
		set_bit(vec, apic->pir_level);
	set_bit(vec, apic->pir);
	set_bit(RINGVM_POSTED_IRR, &vcpu->apic_posted);
	ringvm_vcpu_wake(vcpu);
}

static void apic_post(struct ringvm_vcpu *vcpu, int what)
{
	set_bit(what, &vcpu->apic_posted);
	ringvm_vcpu_wake(vcpu);
}

/*
 * The vCPU's thread: move what was posted into the IRR, the NMI into
 * the core's pending NMI, INIT and SIPI into the multiprocessor state.
 */
void ringvm_lapic_sync(struct ringvm_vcpu *vcpu)
{
	struct ringvm_lapic *apic = vcpu->apic;
	unsigned long posted = xchg(&vcpu->apic_posted, 0);
	unsigned long bits, level;
	unsigned int i, v;

	if (posted & BIT(RINGVM_POSTED_IRR)) {
		for (i = 0; i < ARRAY_SIZE(apic->pir); i++) {
			bits = xchg(&apic->pir[i], 0);
			if (!bits)
				continue;
			level = xchg(&apic->pir_level[i], 0);
			for_each_set_bit(v, &bits, BITS_PER_LONG)
				apic_set_irr(apic, i * BITS_PER_LONG + v,
					     level & BIT(v));
		}
		apic_update_irr(vcpu);
	}
	if (posted & BIT(RINGVM_POSTED_NMI))
		vcpu->nmi_pending = true;
	if (posted & BIT(RINGVM_POSTED_INIT)) {
		vcpu->mp_state = RINGVM_MP_INIT_RECEIVED;
		vcpu->sipi_pending = false;
	}
	if ((posted & BIT(RINGVM_POSTED_SIPI)) &&
	    (vcpu->mp_state == RINGVM_MP_INIT_RECEIVED ||
	     vcpu->mp_state == RINGVM_MP_WAIT_SIPI)) {
		vcpu->sipi_vector = READ_ONCE(apic->sipi_vector);
		vcpu->sipi_pending = true;
	}
}

/* An error the APIC detects itself (§10.5.3): ESR, then the LVT. */
static void apic_error(struct ringvm_vcpu *vcpu, u32 bit)
{
	struct ringvm_lapic *apic = vcpu->apic;
	u32 lvt = apic_get(apic, APIC_LVTERR);

	apic->esr_pending |= bit;
	if (!(lvt & APIC_LVT_MASKED))
		apic_post_vector(vcpu, lvt & 0xff, false);
}

/* 4. The timer */

static u32 apic_divisor(struct ringvm_lapic *apic)
{
	u32 tdcr = apic_get(apic, APIC_TDCR);
	u32 v = (tdcr & 3) | ((tdcr & 8) >> 1);

	return v == 7 ? 1 : 2 << v;	/* §10.5.4, Figure 10-10 */
}

static u32 apic_timer_mode(struct ringvm_lapic *apic)
{
	return apic_get(apic, APIC_LVTT) & APIC_LVT_TIMER_MODE;
}

static enum hrtimer_restart ringvm_lapic_timer_fn(struct hrtimer *t)
{
	struct ringvm_lapic *apic = container_of(t, struct ringvm_lapic,
						 timer);
	u32 lvt = apic_get(apic, APIC_LVTT);
	u64 period = READ_ONCE(apic->period_ns);

	if (!(lvt & APIC_LVT_MASKED))
		apic_post_vector(apic->vcpu, lvt & 0xff, false);
	if (!period)
		return HRTIMER_NORESTART;
	/* Whole periods from the start: no drift, missed ticks merge. */
	hrtimer_forward_now(t, ns_to_ktime(period));
	return HRTIMER_RESTART;
}

static void apic_timer_stop(struct ringvm_lapic *apic)
{
	hrtimer_cancel(&apic->timer);
	WRITE_ONCE(apic->period_ns, 0);
}

/* Count TMICT down from @left_ns (one-shot and periodic modes). */
static void apic_timer_start(struct ringvm_lapic *apic, u64 left_ns)
{
	u64 period = 0;

	apic_timer_stop(apic);
	apic->count_ns = apic_divisor(apic);
	if (!apic_get(apic, APIC_TMICT))
		return;
	if (apic_timer_mode(apic) == APIC_TIMER_PERIODIC) {
		period = max_t(u64, (u64)apic_get(apic, APIC_TMICT) *
				    apic->count_ns, APIC_MIN_PERIOD_NS);
		left_ns = max_t(u64, left_ns, APIC_MIN_PERIOD_NS);
	}
	WRITE_ONCE(apic->period_ns, period);
	hrtimer_start(&apic->timer, ns_to_ktime(left_ns),
		      HRTIMER_MODE_REL_HARD);
}

static u64 apic_timer_left_ns(struct ringvm_lapic *apic)
{
	s64 left;

	if (!hrtimer_active(&apic->timer))
		return 0;
	left = ktime_to_ns(hrtimer_get_remaining(&apic->timer));
	return left > 0 ? left : 0;
}

/* TMCCT (§10.5.4): what is left of the count, 0 once it ran out. */
static u32 apic_timer_ccr(struct ringvm_lapic *apic)
{
	u64 count;

	if (apic_timer_mode(apic) == APIC_TIMER_DEADLINE ||
	    !apic_get(apic, APIC_TMICT))
		return 0;
	count = div64_u64(apic_timer_left_ns(apic), apic->count_ns ?: 1);
	return min_t(u64, count, apic_get(apic, APIC_TMICT));
}

static u64 ringvm_guest_tsc(struct ringvm_vcpu *vcpu)
{
	return rdtsc() + READ_ONCE(vcpu->vm->tsc_offset);
}

/* IA32_TSC_DEADLINE (§10.5.4.1): armed in TSC-deadline mode only. */
static void apic_set_deadline(struct ringvm_vcpu *vcpu, u64 deadline)
{
	struct ringvm_lapic *apic = vcpu->apic;
	u64 now = ringvm_guest_tsc(vcpu), ns;

	if (apic_timer_mode(apic) != APIC_TIMER_DEADLINE)
		return;
	apic_timer_stop(apic);
	apic->tsc_deadline = deadline;
	if (!deadline)
		return;
	/*
	 * A deadline already passed fires at once (§10.5.4.1), here on the
	 * vCPU's own thread: straight into the IRR, no host timer, no
	 * interrupt to leave the guest again (KVM does the same).  The MSR
	 * then reads 0, as for a timer that fired.
	 */
	if (deadline <= now) {
		u32 lvt = apic_get(apic, APIC_LVTT);

		if (!(lvt & APIC_LVT_MASKED) && (lvt & 0xff) >= 32) {
			apic_set_irr(apic, lvt & 0xff, false);
			apic_update_irr(vcpu);
		}
		return;
	}
	ns = mul_u64_u32_div(min(deadline - now, (u64)U32_MAX << 20),
			     USEC_PER_SEC, tsc_khz ?: 1);
	hrtimer_start(&apic->timer, ns_to_ktime(ns), HRTIMER_MODE_REL_HARD);
}

static u64 apic_get_deadline(struct ringvm_lapic *apic)
{
	if (apic_timer_mode(apic) != APIC_TIMER_DEADLINE ||
	    !hrtimer_active(&apic->timer))
		return 0;
	return apic->tsc_deadline;
}

/* 5. IPIs and MSIs */

static bool apic_match_logical(struct ringvm_lapic *apic, u32 dest)
{
	u32 ldr = apic_get(apic, APIC_LDR);

	if (apic_x2(apic)) {
		if (dest == 0xffffffff)
			return true;
		/* §10.12.10.2: cluster in 31:16, one bit per APIC in 15:0 */
		return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
	}
	dest &= 0xff;
	if (dest == 0xff)
		return true;
	ldr >>= 24;
	if ((apic_get(apic, APIC_DFR) >> 28) == 0xf)	/* flat */
		return dest & ldr;
	return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf);	/* cluster */
}

static bool apic_match_physical(struct ringvm_vcpu *vcpu, u32 dest)
{
	if (apic_x2(vcpu->apic))
		return dest == 0xffffffff || dest == vcpu->id;
	dest &= 0xff;
	return dest == 0xff || dest == vcpu->id;
}

/*
 * Deliver one message to @vcpu (§10.6.1, delivery modes): whether its
 * APIC accepted it (a software-disabled APIC drops fixed interrupts).
 */
static bool apic_deliver(struct ringvm_vcpu *vcpu, u32 mode, u8 vec,
			 bool level)
{
	switch (mode) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		if (!apic_hw_enabled(vcpu->apic) ||
		    !apic_sw_enabled(vcpu->apic))
			return false;
		apic_post_vector(vcpu, vec, level);
		return true;
	case APIC_DM_NMI:
		apic_post(vcpu, RINGVM_POSTED_NMI);
		return true;
	case APIC_DM_INIT:
		apic_post(vcpu, RINGVM_POSTED_INIT);
		return true;
	case APIC_DM_STARTUP:
		WRITE_ONCE(vcpu->apic->sipi_vector, vec);
		apic_post(vcpu, RINGVM_POSTED_SIPI);
		return true;
	default:	/* SMI and ExtINT: not from an IPI or MSI here */
		return false;
	}
}

/*
 * Send to every vCPU the destination names; lowest priority goes to the
 * first (the arbitration is the platform's, §10.6.2.4).  @src is NULL
 * for an MSI.  Returns how many vCPUs accepted it.
 */
static int apic_send(struct ringvm_vm *vm, struct ringvm_vcpu *src,
		     u32 shorthand, bool logical, u32 dest, u32 mode, u8 vec,
		     bool level)
{
	struct ringvm_vcpu *t;
	int n = 0;
	u32 i;

	rcu_read_lock();
	for (i = 0; i < vm->max_vcpus; i++) {
		t = READ_ONCE(vm->vcpus[i]);
		if (!t || !t->apic)
			continue;
		switch (shorthand) {
		case APIC_DEST_SELF:
			if (t != src)
				continue;
			break;
		case APIC_DEST_ALLINC:
			break;
		case APIC_DEST_ALLBUT:
			if (t == src)
				continue;
			break;
		default:
			if (!apic_hw_enabled(t->apic) ||
			    !(logical ? apic_match_logical(t->apic, dest) :
					apic_match_physical(t, dest)))
				continue;
		}
		if (!apic_deliver(t, mode, vec, level))
			continue;
		n++;
		if (mode == APIC_DM_LOWEST)
			break;
	}
	rcu_read_unlock();
	return n;
}

/* A write of the ICR's low half (§10.6.1, Figure 10-12). */
static void apic_send_ipi(struct ringvm_vcpu *vcpu, u32 icr, u32 dest)
{
	u32 mode = icr & APIC_MODE_MASK;

	/* INIT level de-assert: nothing since the Pentium 4 (§10.6.1) */
	if (mode == APIC_DM_INIT && !(icr & APIC_INT_ASSERT) &&
	    (icr & APIC_INT_LEVELTRIG))
		return;
	if ((mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST) &&
	    (icr & 0xff) < 16) {
		apic_error(vcpu, APIC_ESR_SEND_ILLEGAL);
		return;
	}
	/* The trigger mode means nothing else in an IPI: edge (§10.6.1). */
	apic_send(vcpu->vm, vcpu, icr & APIC_SHORTHAND,
		  icr & APIC_DEST_LOGICAL, dest, mode, icr & 0xff, false);
}

/* 1. Registers */

/* The bits software may write, per register (offset >> 4). */
static u32 apic_lvt_mask(u32 off)
{
	switch (off) {
	case APIC_LVTT:
		return 0xff | APIC_LVT_MASKED | APIC_LVT_TIMER_MODE;
	case APIC_LVTTHMR:
	case APIC_LVTPC:
		return 0xff | APIC_MODE_MASK | APIC_LVT_MASKED;
	case APIC_LVT0:
	case APIC_LVT1:
		return 0xff | APIC_MODE_MASK | APIC_INPUT_POLARITY |
		       APIC_LVT_LEVEL_TRIGGER | APIC_LVT_MASKED;
	default:	/* APIC_LVTERR */
		return 0xff | APIC_LVT_MASKED;
	}
}

static bool apic_is_lvt(u32 off)
{
	return off == APIC_LVTT || off == APIC_LVTTHMR || off == APIC_LVTPC ||
	       off == APIC_LVT0 || off == APIC_LVT1 || off == APIC_LVTERR;
}

static bool apic_in_range(u32 off, u32 base)
{
	return off >= base && off < base + 0x80;
}

/* -EINVAL: a register xAPIC/x2APIC software may not read there. */
static int apic_read(struct ringvm_vcpu *vcpu, u32 off, u32 *val)
{
	struct ringvm_lapic *apic = vcpu->apic;
	bool x2 = apic_x2(apic);

	switch (off) {
	case APIC_ID:
	case APIC_LVR:
	case APIC_LDR:
	case APIC_SPIV:
	case APIC_ESR:
	case APIC_ICR:
	case APIC_TMICT:
	case APIC_TDCR:
		*val = apic_get(apic, off);
		return 0;
	case APIC_TASKPRI:
		*val = apic_tpr(vcpu);
		return 0;
	case APIC_PROCPRI:
		*val = apic_ppr(vcpu);
		return 0;
	case APIC_TMCCT:
		*val = apic_timer_ccr(apic);
		return 0;
	case APIC_ARBPRI:
	case APIC_DFR:
	case APIC_ICR2:
		if (x2)
			return -EINVAL;
		*val = apic_get(apic, off);
		return 0;
	case APIC_EOI:
		if (x2)
			return -EINVAL;	/* write-only */
		*val = 0;
		return 0;
	}
	if (apic_is_lvt(off) || apic_in_range(off, APIC_ISR) ||
	    apic_in_range(off, APIC_TMR) || apic_in_range(off, APIC_IRR)) {
		*val = apic_get(apic, off);
		return 0;
	}
	return -EINVAL;
}

static void apic_set_lvt(struct ringvm_vcpu *vcpu, u32 off, u32 val)
{
	struct ringvm_lapic *apic = vcpu->apic;
	u32 old_mode = apic_timer_mode(apic);

	val &= apic_lvt_mask(off);
	if (!apic_sw_enabled(apic))
		val |= APIC_LVT_MASKED;	/* §10.4.7.2 */
	apic_set(apic, off, val);
	if (off == APIC_LVTT && (val & APIC_LVT_TIMER_MODE) != old_mode) {
		/* A change of mode disarms the timer (§10.5.4.1). */
		apic_timer_stop(apic);
		apic_set(apic, APIC_TMICT, 0);
		apic->tsc_deadline = 0;
	}
}

static void apic_set_svr(struct ringvm_vcpu *vcpu, u32 val)
{
	struct ringvm_lapic *apic = vcpu->apic;
	u32 off;

	apic_set(apic, APIC_SPIV, val & APIC_SVR_VALID);
	if (val & APIC_SPIV_APIC_ENABLED)
		return;
	/* Software disable masks every LVT entry (§10.4.7.2). */
	for (off = APIC_LVTT; off <= APIC_LVTERR; off += 0x10)
		apic_set(apic, off, apic_get(apic, off) | APIC_LVT_MASKED);
}

/*
 * A write; -EINVAL is the #GP of an x2APIC write that may not be (an
 * xAPIC write there is ignored, §10.4.1).
 */
static int apic_write(struct ringvm_vcpu *vcpu, u32 off, u32 val, u32 hi)
{
	struct ringvm_lapic *apic = vcpu->apic;
	bool x2 = apic_x2(apic);
	u32 mode;

	switch (off) {
	case APIC_TASKPRI:
		if (x2 && (val & ~0xffu))
			return -EINVAL;
		apic_set(apic, APIC_TASKPRI, val & 0xf);
		ringvm_arch->set_reg(vcpu, RINGVM_REG_CR8, (val >> 4) & 0xf);
		return 0;
	case APIC_EOI:
		if (x2 && val)
			return -EINVAL;
		apic_eoi(vcpu);
		return 0;
	case APIC_LDR:
		if (x2)
			return -EINVAL;	/* read-only in x2APIC mode */
		apic_set(apic, APIC_LDR, val & 0xff000000);
		return 0;
	case APIC_DFR:
		if (x2)
			return -EINVAL;
		apic_set(apic, APIC_DFR, val | 0x0fffffff);
		return 0;
	case APIC_SPIV:
		if (x2 && (val & ~APIC_SVR_VALID))
			return -EINVAL;
		apic_set_svr(vcpu, val);
		return 0;
	case APIC_ESR:
		if (x2 && val)
			return -EINVAL;
		apic_set(apic, APIC_ESR, apic->esr_pending);
		apic->esr_pending = 0;
		return 0;
	case APIC_ICR:
		if (x2) {
			if (val & ~(0xfff | APIC_DEST_LOGICAL | APIC_INT_ASSERT |
				    APIC_INT_LEVELTRIG | APIC_SHORTHAND))
				return -EINVAL;
			apic_set(apic, APIC_ICR2, hi);
		} else {
			hi = apic_get(apic, APIC_ICR2) >> 24;
		}
		apic_set(apic, APIC_ICR, val & ~APIC_ICR_BUSY);
		apic_send_ipi(vcpu, val, hi);
		return 0;
	case APIC_ICR2:
		if (x2)
			return -EINVAL;
		apic_set(apic, APIC_ICR2, val & 0xff000000);
		return 0;
	case APIC_TMICT:
		if (apic_timer_mode(apic) == APIC_TIMER_DEADLINE)
			return 0;	/* ignored in that mode (§10.5.4.1) */
		apic_set(apic, APIC_TMICT, val);
		apic_timer_start(apic, (u64)val * apic_divisor(apic));
		return 0;
	case APIC_TDCR:
		if (x2 && (val & ~0xbu))
			return -EINVAL;
		apic_set(apic, APIC_TDCR, val & 0xb);
		return 0;
	case APIC_SELF_IPI:
		if (!x2 || (val & ~0xffu))
			return -EINVAL;
		apic_send_ipi(vcpu, APIC_DEST_SELF | (val & 0xff), 0);
		return 0;
	}
	if (apic_is_lvt(off)) {
		if (x2 && (val & ~apic_lvt_mask(off)))
			return -EINVAL;
		mode = val & APIC_LVT_TIMER_MODE;
		if (off == APIC_LVTT && mode == APIC_LVT_TIMER_MODE) {
			if (x2)
				return -EINVAL;	/* reserved mode */
			val &= ~APIC_LVT_TIMER_MODE;
		}
		apic_set_lvt(vcpu, off, val);
		return 0;
	}
	/* Read-only registers, and the reserved ones */
	if (x2)
		return -EINVAL;
	if (apic_read(vcpu, off, &mode))
		apic_error(vcpu, APIC_ESR_ILLEGAL_REG);
	return 0;
}

/* The xAPIC page: at the base, in xAPIC mode. */
bool ringvm_lapic_mmio_owns(struct ringvm_vcpu *vcpu, u64 gpa)
{
	struct ringvm_lapic *apic = vcpu->apic;

	return apic && apic_hw_enabled(apic) && !apic_x2(apic) &&
	       (gpa & PAGE_MASK) == (apic->base & PAGE_MASK);
}

/*
 * An MMIO access of @len bytes: registers are 32 bits wide and 16-byte
 * aligned (§10.4.1); a narrower access inside one reads or writes its
 * bytes as KVM does, anything else reads 0 and writes nothing.
 */
u64 ringvm_lapic_mmio_read(struct ringvm_vcpu *vcpu, u64 gpa,
			   unsigned int len)
{
	u32 off = gpa & 0xfff, reg = off & ~0xfu, val = 0;

	if (reg >= RINGVM_LAPIC_REGS_SIZE || apic_read(vcpu, reg, &val)) {
		apic_error(vcpu, APIC_ESR_ILLEGAL_REG);
		return 0;
	}
	if ((off & 0xf) + len > 4)
		return 0;
	val >>= (off & 3) * 8;
	return len == 4 ? val : val & (BIT(len * 8) - 1);
}

void ringvm_lapic_mmio_write(struct ringvm_vcpu *vcpu, u64 gpa,
			     unsigned int len, u64 val)
{
	u32 off = gpa & 0xfff;

	if (off & 0xf || len != 4 || off >= RINGVM_LAPIC_REGS_SIZE) {
		if (off >= RINGVM_LAPIC_REGS_SIZE)
			apic_error(vcpu, APIC_ESR_ILLEGAL_REG);
		return;
	}
	apic_write(vcpu, off, val, 0);
}

/* x2APIC mode's ID, and the logical ID that follows from it (§10.12.10.2). */
static void apic_set_x2_ids(struct ringvm_vcpu *vcpu)
{
	apic_set(vcpu->apic, APIC_ID, vcpu->id);
	apic_set(vcpu->apic, APIC_LDR, ((vcpu->id >> 4) << 16) |
				       BIT(vcpu->id & 0xf));
}

/* Reset (@init false: power-up) or INIT (§10.4.7.1, §10.4.7.3). */
static void apic_reset(struct ringvm_vcpu *vcpu, bool init)
{
	struct ringvm_lapic *apic = vcpu->apic;
	u32 off;

	apic_timer_stop(apic);
	if (!init)
		apic->base = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE |
			     (vcpu->id ? 0 : MSR_IA32_APICBASE_BSP);
	memset(apic->regs, 0, sizeof(apic->regs));
	memset(apic->pir, 0, sizeof(apic->pir));
	memset(apic->pir_level, 0, sizeof(apic->pir_level));
	apic->esr_pending = 0;
	apic->tsc_deadline = 0;
	apic->count_ns = 2;
	if (apic_x2(apic))
		apic_set_x2_ids(vcpu);
	else
		apic_set(apic, APIC_ID, vcpu->id << 24);
	apic_set(apic, APIC_LVR, APIC_VERSION);
	apic_set(apic, APIC_DFR, 0xffffffff);
	apic_set(apic, APIC_SPIV, 0xff);
	for (off = APIC_LVTT; off <= APIC_LVTERR; off += 0x10)
		apic_set(apic, off, APIC_LVT_MASKED);
	/*
	 * At power-up the boot processor's LINT0 is as the firmware's
	 * virtual wire leaves it (MP spec §3.6.2.2): ExtINT, unmasked, so
	 * a PIC reaches a guest that was loaded without firmware.  KVM does
	 * the same (its LINT0_REENABLED quirk).
	 */
	if (!init && (apic->base & MSR_IA32_APICBASE_BSP))
		apic_set(apic, APIC_LVT0, APIC_DM_EXTINT);
	vcpu->apic_irr = false;
}

/*
 * IA32_APIC_BASE (§10.12.5, Figure 10-27): reserved bits, the invalid
 * state (x2APIC without the enable) and the invalid transitions (x2APIC
 * to xAPIC, disabled to x2APIC) are refused.  Disabling resets the APIC.
 */
static int apic_set_base(struct ringvm_vcpu *vcpu, u64 val)
{
	struct ringvm_lapic *apic = vcpu->apic;
	u64 old = apic->base;
	bool en = val & MSR_IA32_APICBASE_ENABLE, x2 = val & APIC_X2APIC_ENABLE;

	if ((val & APIC_BASE_RESERVED) ||
	    (val >> boot_cpu_data.x86_phys_bits) || (x2 && !en) ||
	    (!(old & MSR_IA32_APICBASE_ENABLE) && x2) ||
	    (apic_x2(apic) && en && !x2) ||
	    (val & MSR_IA32_APICBASE_BSP) != (old & MSR_IA32_APICBASE_BSP))
		return -EINVAL;
	apic->base = val;
	if (!en)
		apic_reset(vcpu, true);
	else if (x2 && !(old & APIC_X2APIC_ENABLE))
		apic_set_x2_ids(vcpu);
	return 0;
}

/*
 * The MSRs the APIC owns: IA32_APIC_BASE, IA32_TSC_DEADLINE and the
 * x2APIC range.  -ENOENT for any other; -EINVAL is the guest's #GP.
 */
int ringvm_lapic_get_msr(struct ringvm_vcpu *vcpu, u32 index, u64 *data)
{
	struct ringvm_lapic *apic = vcpu->apic;
	u32 val;

	if (index == MSR_IA32_APICBASE) {
		*data = apic->base;
		return 0;
	}
	if (index == MSR_IA32_TSC_DEADLINE) {
		*data = apic_get_deadline(apic);
		return 0;
	}
	if (index < APIC_X2_MSR_FIRST || index > APIC_X2_MSR_LAST)
		return -ENOENT;
	if (!apic_x2(apic) || apic_read(vcpu, (index & 0xff) << 4, &val))
		return -EINVAL;
	*data = val;
	if (index == APIC_X2_MSR_FIRST + (APIC_ICR >> 4))
		*data |= (u64)apic_get(apic, APIC_ICR2) << 32;
	return 0;
}

int ringvm_lapic_set_msr(struct ringvm_vcpu *vcpu, u32 index, u64 data)
{
	struct ringvm_lapic *apic = vcpu->apic;
	u32 off = (index & 0xff) << 4;

	if (index == MSR_IA32_APICBASE)
		return apic_set_base(vcpu, data);
	if (index == MSR_IA32_TSC_DEADLINE) {
		apic_set_deadline(vcpu, data);
		return 0;
	}
	if (index < APIC_X2_MSR_FIRST || index > APIC_X2_MSR_LAST)
		return -ENOENT;
	if (!apic_x2(apic) || (off != APIC_ICR && (data >> 32)))
		return -EINVAL;
	return apic_write(vcpu, off, data, data >> 32);
}

/* 6. The multiprocessor state */

/* Whether a halted vCPU wakes: an interrupt it takes, or an NMI. */
static bool ringvm_lapic_wakes(struct ringvm_vcpu *vcpu)
{
	struct ringvm_intr_state st;

	if (ringvm_event_wakes_hlt(vcpu))
		return true;
	if (!vcpu->apic_irr || ringvm_lapic_deliverable(vcpu) < 0)
		return false;
	ringvm_arch->get_intr_state(vcpu, &st);
	return st.if_flag;
}

/* INIT (§8.4 of Vol. 3A, Table 9-1): real mode, CS F000 at FFFF0000. */
static int ringvm_vcpu_init_state(struct ringvm_vcpu *vcpu, u16 cs, u64 rip)
{
	static const struct ringvm_segment data = {
		.limit = 0xffff, .type = 3, .present = 1, .s = 1,
	};
	struct ringvm_sregs sr;
	int r;

	ringvm_arch->get_sregs(vcpu, &sr);
	sr.cs = data;
	sr.cs.type = 0xb;
	sr.cs.selector = cs;
	sr.cs.base = cs == 0xf000 ? 0xffff0000 : (u64)cs << 4;
	sr.ds = data;
	sr.es = data;
	sr.fs = data;
	sr.gs = data;
	sr.ss = data;
	sr.tr = (struct ringvm_segment) { .limit = 0xffff, .type = 0xb,
					  .present = 1 };
	sr.ldt = (struct ringvm_segment) { .limit = 0xffff, .type = 2,
					   .present = 1 };
	sr.gdt = (struct ringvm_dtable) { .limit = 0xffff };
	sr.idt = sr.gdt;
	sr.cr0 = X86_CR0_CD | X86_CR0_NW | X86_CR0_ET;
	sr.cr2 = 0;
	sr.cr3 = 0;
	sr.cr4 = 0;
	sr.cr8 = 0;
	sr.efer = 0;
	r = ringvm_arch->set_sregs(vcpu, &sr);
	if (r)
		return r;
	memset(vcpu->gprs, 0, sizeof(vcpu->gprs));
	ringvm_arch->set_reg(vcpu, RINGVM_REG_RSP, 0);
	ringvm_arch->set_reg(vcpu, RINGVM_REG_RFLAGS, X86_EFLAGS_FIXED);
	ringvm_arch->set_reg(vcpu, RINGVM_REG_RIP, rip);
	vcpu->event.valid = false;
	vcpu->irq_pending = false;
	vcpu->nmi_pending = false;
	return 0;
}

/*
 * The outer run loop, preemptible, when the vCPU is not runnable: act
 * on INIT and SIPI, else block until something may wake it.  0 to look
 * again (signals and destruction are the caller's), or -errno.
 */
int ringvm_lapic_block(struct ringvm_vcpu *vcpu)
{
	int r;

	ringvm_lapic_sync(vcpu);
	switch (vcpu->mp_state) {
	case RINGVM_MP_INIT_RECEIVED:
		r = ringvm_vcpu_init_state(vcpu, 0xf000, 0xfff0);
		if (r)
			return r;
		apic_reset(vcpu, true);
		vcpu->mp_state = RINGVM_MP_WAIT_SIPI;
		return 0;
	case RINGVM_MP_WAIT_SIPI:
		if (!vcpu->sipi_pending)
			break;
		/* §8.4.4.1: real mode at VV00:0000 for vector VV */
		vcpu->sipi_pending = false;
		r = ringvm_vcpu_init_state(vcpu, vcpu->sipi_vector << 8, 0);
		if (r)
			return r;
		vcpu->mp_state = RINGVM_MP_RUNNABLE;
		return 0;
	case RINGVM_MP_HALTED:
		if (!ringvm_lapic_wakes(vcpu))
			break;
		vcpu->mp_state = RINGVM_MP_RUNNABLE;
		return 0;
	default:
		return 0;
	}

	ringvm_stats_halt(vcpu, true);
	rcuwait_wait_event(&vcpu->wait,
			   READ_ONCE(vcpu->apic_posted) ||
			   READ_ONCE(vcpu->vm->destroyed),
			   TASK_INTERRUPTIBLE);
	ringvm_stats_halt(vcpu, false);
	/*
	 * What woke a halted vCPU is most likely its interrupt: look now.
	 * An INIT the sync took changes the state: the next call acts on it.
	 */
	if (vcpu->mp_state == RINGVM_MP_HALTED) {
		ringvm_lapic_sync(vcpu);
		if (vcpu->mp_state == RINGVM_MP_HALTED &&
		    ringvm_lapic_wakes(vcpu))
			vcpu->mp_state = RINGVM_MP_RUNNABLE;
	}
	return 0;
}

/*
 * HLT with the APIC on: the vCPU halts in the module.  With RFLAGS.IF
 * clear only an NMI, INIT or SIPI can wake it: true to say so to user
 * space once (a HLT exit, whose if_flag is 0), as a VMM may take that
 * for "the guest stopped"; the next RUN waits in the module.
 */
bool ringvm_lapic_halt(struct ringvm_vcpu *vcpu)
{
	struct ringvm_intr_state st;

	if (ringvm_lapic_wakes(vcpu))
		return false;
	vcpu->mp_state = RINGVM_MP_HALTED;
	ringvm_arch->get_intr_state(vcpu, &st);
	return !st.if_flag;
}

/* 7. Creation and the ioctls */

int ringvm_lapic_create(struct ringvm_vcpu *vcpu)
{
	struct ringvm_lapic *apic;

	rcuwait_init(&vcpu->wait);
	if (!READ_ONCE(vcpu->vm->lapic))
		return 0;
	apic = kzalloc(sizeof(*apic), GFP_KERNEL_ACCOUNT);
	if (!apic)
		return -ENOMEM;
	apic->vcpu = vcpu;
	hrtimer_init(&apic->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	apic->timer.function = ringvm_lapic_timer_fn;
	vcpu->apic = apic;
	apic_reset(vcpu, false);
	return 0;
}

void ringvm_lapic_free(struct ringvm_vcpu *vcpu)
{
	if (!vcpu->apic)
		return;
	hrtimer_cancel(&vcpu->apic->timer);
	kfree(vcpu->apic);
	vcpu->apic = NULL;
}

long ringvm_vcpu_get_lapic(struct ringvm_vcpu *vcpu, unsigned long arg)
{
	struct ringvm_lapic *apic = vcpu->apic;
	struct ringvm_lapic_state *st;
	long r = 0;

	if (!apic)
		return -ENXIO;
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	ringvm_lapic_sync(vcpu);
	memcpy(st->regs, apic->regs, sizeof(st->regs));
	((u32 *)st->regs)[APIC_REG(APIC_TASKPRI)] = apic_tpr(vcpu);
	((u32 *)st->regs)[APIC_REG(APIC_PROCPRI)] = apic_ppr(vcpu);
	((u32 *)st->regs)[APIC_REG(APIC_TMCCT)] = apic_timer_ccr(apic);
	st->apic_base = apic->base;
	st->tsc_deadline = apic_get_deadline(apic);
	if (apic_timer_mode(apic) != APIC_TIMER_DEADLINE)
		st->timer_ns = apic_timer_left_ns(apic);
	if (copy_to_user((void __user *)arg, st, sizeof(*st)))
		r = -EFAULT;
	kfree(st);
	return r;
}

/*
 * The registers RINGVM_SET_LAPIC takes, with the bits each may hold;
 * ID, version, PPR, EOI, current count and self-IPI are the module's
 * and ignored, any other offset must be 0.
 */
static u32 apic_state_mask(bool x2, u32 off)
{
	if (apic_is_lvt(off))
		return apic_lvt_mask(off);
	if (apic_in_range(off, APIC_ISR) || apic_in_range(off, APIC_TMR) ||
	    apic_in_range(off, APIC_IRR))
		return 0xffffffff;
	switch (off) {
	case APIC_TASKPRI:
		return 0xff;
	case APIC_LDR:
		return x2 ? 0xffffffff : 0xff000000;
	case APIC_DFR:
		return 0xffffffff;
	case APIC_SPIV:
		return APIC_SVR_VALID;
	case APIC_ESR:
		return 0xff;
	case APIC_ICR:
		return ~APIC_ICR_BUSY & GENMASK(19, 0);
	case APIC_ICR2:
	case APIC_TMICT:
		return 0xffffffff;
	case APIC_TDCR:
		return 0xb;
	default:
		return 0;
	}
}

static bool apic_state_ignored(u32 off)
{
	return off == APIC_ID || off == APIC_LVR || off == APIC_PROCPRI ||
	       off == APIC_EOI || off == APIC_TMCCT || off == APIC_ARBPRI ||
	       off == APIC_SELF_IPI;
}

long ringvm_vcpu_set_lapic(struct ringvm_vcpu *vcpu, unsigned long arg)
{
	struct ringvm_lapic *apic = vcpu->apic;
	struct ringvm_lapic_state *st;
	u64 base, mode;
	const u32 *regs;
	long r = -EINVAL;
	u32 off, i;
	bool x2;

	if (!apic)
		return -ENXIO;
	st = memdup_user((void __user *)arg, sizeof(*st));
	if (IS_ERR(st))
		return PTR_ERR(st);
	regs = (const u32 *)st->regs;
	base = st->apic_base;
	x2 = base & APIC_X2APIC_ENABLE;
	if (st->flags || st->pad || memchr_inv(st->reserved, 0,
					       sizeof(st->reserved)) ||
	    (base & APIC_BASE_RESERVED) ||
	    (base >> boot_cpu_data.x86_phys_bits) ||
	    ((base & APIC_X2APIC_ENABLE) &&
	     !(base & MSR_IA32_APICBASE_ENABLE)) ||
	    (base & MSR_IA32_APICBASE_BSP) != (vcpu->id ? 0 :
					       MSR_IA32_APICBASE_BSP))
		goto out;
	for (i = 0; i < RINGVM_LAPIC_REGS_SIZE / 4; i++) {
		off = i << 2;
		if (!regs[i] || apic_state_ignored(off))
			continue;
		if ((off & 0xf) || (regs[i] & ~apic_state_mask(x2, off)))
			goto out;
	}
	mode = regs[APIC_REG(APIC_LVTT)] & APIC_LVT_TIMER_MODE;
	if (mode == APIC_LVT_TIMER_MODE)
		goto out;

	apic->base = base;
	apic_reset(vcpu, true);
	for (off = 0; off < RINGVM_LAPIC_REGS_SIZE; off += 0x10)
		if (!apic_state_ignored(off) && off != APIC_ID &&
		    off != APIC_LDR)
			apic_set(apic, off, regs[APIC_REG(off)]);
	if (!apic_x2(apic))
		apic_set(apic, APIC_LDR, regs[APIC_REG(APIC_LDR)]);
	apic_set(apic, APIC_TASKPRI, regs[APIC_REG(APIC_TASKPRI)] & 0xf);
	ringvm_arch->set_reg(vcpu, RINGVM_REG_CR8,
			     (regs[APIC_REG(APIC_TASKPRI)] >> 4) & 0xf);
	if (mode == APIC_TIMER_DEADLINE)
		apic_set_deadline(vcpu, st->tsc_deadline);
	else if (st->timer_ns && apic_get(apic, APIC_TMICT))
		apic_timer_start(apic, st->timer_ns);
	apic_update_irr(vcpu);
	r = 0;
out:
	kfree(st);
	return r;
}

long ringvm_vcpu_get_mp_state(struct ringvm_vcpu *vcpu, unsigned long arg)
{
	struct ringvm_mp_state mp = { };

	if (vcpu->apic)
		ringvm_lapic_sync(vcpu);
	mp.state = vcpu->mp_state;
	return copy_to_user((void __user *)arg, &mp, sizeof(mp)) ? -EFAULT : 0;
}

long ringvm_vcpu_set_mp_state(struct ringvm_vcpu *vcpu, unsigned long arg)
{
	struct ringvm_mp_state mp;

	if (copy_from_user(&mp, (void __user *)arg, sizeof(mp)))
		return -EFAULT;
	if (mp.flags || mp.state > RINGVM_MP_WAIT_SIPI ||
	    (!vcpu->apic && mp.state != RINGVM_MP_RUNNABLE))
		return -EINVAL;
	vcpu->mp_state = mp.state;
	vcpu->sipi_pending = false;
	return 0;
}

/* RINGVM_SIGNAL_MSI (§10.11.1, §10.11.2). */
long ringvm_vm_signal_msi(struct ringvm_vm *vm, unsigned long arg)
{
	struct ringvm_msi msi;
	u32 mode;

	if (copy_from_user(&msi, (void __user *)arg, sizeof(msi)))
		return -EFAULT;
	if (!vm->lapic)
		return -ENXIO;
	mode = msi.data & APIC_MODE_MASK;
	if (msi.flags || memchr_inv(msi.reserved, 0, sizeof(msi.reserved)) ||
	    (msi.address >> 20) != (APIC_DEFAULT_PHYS_BASE >> 20) ||
	    (msi.data >> 16) ||
	    ((mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST) &&
	     (msi.data & 0xff) < 32))
		return -EINVAL;
	return apic_send(vm, NULL, 0, msi.address & BIT(2),
			 (msi.address >> 12) & 0xff, mode, msi.data & 0xff,
			 msi.data & BIT(15));
}
