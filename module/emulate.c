// SPDX-License-Identifier: GPL-2.0
/*
 * The core's instruction decoder and guest page-table walker.
 *
 *  1. Prefixes give operand size, address size, segment and REP.
 *  2. Two opcode tables (one-byte, 0F xx) say what each instruction does.
 *  3. ModRM, SIB and displacement are consumed for the length and the
 *     default segment; the effective address is not computed (the exit
 *     gives the guest-physical address).
 *  4. The immediate or moffs, then struct ringvm_insn; or only the
 *     prefixes and a given opcode, for an instruction's length.
 *  5. The register side of a completed access, with MOV semantics.
 *  6. The page walker: 32-bit, PAE and 4-level paging in one loop.
 *
 * Pure functions: no allocation, locks or sleeping, so they run with
 * preemption or interrupts disabled.  The walker reads guest memory only
 * through ctx->read_gpa.
 */
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/types.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>

#include "emulate.h"

/* 1. Prefixes (Intel SDM Vol. 2A §2.1.1 legacy, §2.2.1 REX) */

#define REX_B	BIT(0)		/* extends ModRM.rm, SIB.base */
#define REX_R	BIT(2)		/* extends ModRM.reg */
#define REX_W	BIT(3)		/* 64-bit operand size */

struct ringvm_decoder {
	const u8 *bytes;
	unsigned int avail;	/* never read bytes[avail] or beyond */
	unsigned int pos;	/* bytes consumed so far */
	bool mode64;
	bool opsize_prefix;	/* 66 */
	bool addr_prefix;	/* 67 */
	bool rep;		/* F3 */
	s8 seg;			/* last segment override that counts, or -1 */
	u8 rex;			/* REX immediately before the opcode, or 0 */
	u8 opsize;		/* effective operand size: 2, 4 or 8 */
	u8 addr_size;		/* effective address size: 2, 4 or 8 */
};

/*
 * Consume @n bytes, little-endian, into *@val unless it is NULL.  Past 15
 * bytes is #GP (Intel SDM Vol. 3A §6.15), so -EINVAL; past @avail bytes
 * is -ENODATA.
 */
static int fetch(struct ringvm_decoder *d, unsigned int n, u64 *val)
{
	unsigned int i;

	if (d->pos + n > RINGVM_INSN_MAX_LEN)
		return -EINVAL;
	if (d->pos + n > d->avail)
		return -ENODATA;
	if (val) {
		*val = 0;
		for (i = 0; i < n; i++)
			*val |= (u64)d->bytes[d->pos + i] << (8 * i);
	}
	d->pos += n;
	return 0;
}

/*
 * A legacy prefix (Intel SDM Vol. 2A §2.1.1: LOCK, REPNE, REP, the six
 * segment overrides, operand and address size) or, in 64-bit mode only,
 * a REX prefix (40-4F, which are INC and DEC elsewhere).  The one list
 * of prefix bytes for the decoder and for ringvm_insn_match().
 */
static bool is_prefix(u8 b, bool mode64)
{
	switch (b) {
	case 0xf0: case 0xf2: case 0xf3:
	case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
	case 0x66: case 0x67:
		return true;
	}
	return mode64 && (b & 0xf0) == 0x40;
}

/*
 * Read prefixes up to the opcode byte, returned in *@opcode.  A REX
 * prefix counts only if it immediately precedes the opcode; one followed
 * by a legacy prefix is ignored (§2.2.1).  In 64-bit mode the bases of
 * ES, CS, SS and DS are taken as 0 (Intel SDM Vol. 1 §3.7.4.1), so only
 * FS and GS overrides count there.  LOCK is #UD on every instruction
 * decoded here and REPNE means nothing on any: both are refused at once.
 * Operand and address size follow Intel SDM Vol. 1 §3.6.1 (Table 3-4 for
 * 64-bit mode: REX.W wins over 66, and 67 selects 32-bit addresses).
 */
static int decode_prefixes(struct ringvm_decoder *d,
			   enum ringvm_cpu_mode mode, u8 *opcode)
{
	bool wide = mode >= RINGVM_MODE_PROT32;	/* 32-bit defaults */
	u64 b;
	int ret;

	for (;;) {
		ret = fetch(d, 1, &b);
		if (ret)
			return ret;
		if (!is_prefix(b, d->mode64))
			break;
		if ((b & 0xf0) == 0x40) {	/* REX, 64-bit mode only */
			d->rex = b;
			continue;
		}
		d->rex = 0;
		if (b == 0xf0 || b == 0xf2)
			return -EINVAL;
		if (b == 0x66)
			d->opsize_prefix = true;
		else if (b == 0x67)
			d->addr_prefix = true;
		else if (b == 0xf3)
			d->rep = true;
		else if (b == 0x64 || b == 0x65)
			d->seg = RINGVM_SEG_FS + (b & 1);
		else				/* 26 2E 36 3E: ES CS SS DS */
			d->seg = d->mode64 ? d->seg : (s8)((b >> 3) & 3);
	}
	*opcode = b;
	d->opsize = wide != d->opsize_prefix ? 4 : 2;
	d->addr_size = wide != d->addr_prefix ? 4 : 2;
	if (d->mode64) {
		d->addr_size = d->addr_prefix ? 4 : 8;
		if (d->rex & REX_W)
			d->opsize = 8;
	}
	return 0;
}

/* 2. The supported opcodes */

#define OP_BYTE		BIT(0)	/* 8-bit operation (register and memory) */
#define OP_IMM		BIT(1)	/* C6 /0, C7 /0: ModRM.reg 0, an immediate */
#define OP_MOFFS	BIT(2)	/* moffs of the address size; register rAX */
#define OP_SEXT		BIT(3)	/* load sign-extends */
#define OP_WRITE	BIT(4)	/* MOV DRn, r / OUTS */
#define OP_ONLY64	BIT(5)	/* only in 64-bit mode (63 is ARPL outside) */
#define OP_VALID	BIT(6)	/* supported */

struct ringvm_opcode {
	u8 op;		/* enum ringvm_insn_op */
	u8 mem_size;	/* memory operand size if narrower: 1, 2, 4; or 0 */
	u8 flags;	/* OP_* */
};

#define OPC(o, m, f) { RINGVM_INSN_##o, m, OP_VALID | (f) }

/* Intel SDM Vol. 2B, MOV, MOVSXD; Vol. 2A, INS, OUTS (opcode map A-2) */
static const struct ringvm_opcode opcode_1b[256] = {
	[0x63] = OPC(LOAD, 4, OP_SEXT | OP_ONLY64),		/* MOVSXD */
	[0x6c] = OPC(STRING_IO, 0, OP_BYTE),			/* INSB */
	[0x6d] = OPC(STRING_IO, 0, 0),				/* INSW/D */
	[0x6e] = OPC(STRING_IO, 0, OP_BYTE | OP_WRITE),		/* OUTSB */
	[0x6f] = OPC(STRING_IO, 0, OP_WRITE),			/* OUTSW/D */
	[0x88] = OPC(STORE, 0, OP_BYTE),			/* m8, r8 */
	[0x89] = OPC(STORE, 0, 0),				/* m, r */
	[0x8a] = OPC(LOAD, 0, OP_BYTE),				/* r8, m8 */
	[0x8b] = OPC(LOAD, 0, 0),				/* r, m */
	[0xa0] = OPC(LOAD, 0, OP_MOFFS | OP_BYTE),		/* AL, moffs */
	[0xa1] = OPC(LOAD, 0, OP_MOFFS),			/* rAX, moffs */
	[0xa2] = OPC(STORE, 0, OP_MOFFS | OP_BYTE),		/* moffs, AL */
	[0xa3] = OPC(STORE, 0, OP_MOFFS),			/* moffs, rAX */
	[0xc6] = OPC(STORE_IMM, 0, OP_BYTE | OP_IMM),		/* m8, imm8 */
	[0xc7] = OPC(STORE_IMM, 0, OP_IMM),			/* m, imm */
};

/* Intel SDM Vol. 2B, MOVZX, MOVSX; MOV—Move to/from Debug Registers */
static const struct ringvm_opcode opcode_0f[256] = {
	[0x21] = OPC(MOV_DR, 0, 0),				/* r, DRn */
	[0x22] = OPC(MOV_CR, 0, OP_WRITE),			/* CRn, r */
	[0x23] = OPC(MOV_DR, 0, OP_WRITE),			/* DRn, r */
	[0xb6] = OPC(LOAD, 1, 0),				/* MOVZX m8 */
	[0xb7] = OPC(LOAD, 2, 0),				/* MOVZX m16 */
	[0xbe] = OPC(LOAD, 1, OP_SEXT),				/* MOVSX m8 */
	[0xbf] = OPC(LOAD, 2, OP_SEXT),				/* MOVSX m16 */
};

/* 3. ModRM, SIB, displacement */

/*
 * Consume SIB and displacement of a memory ModRM (mod != 3) and set the
 * segment: an override, else SS when the base is rBP or rSP (BP in the
 * 16-bit forms), else DS (Intel SDM Vol. 1 §3.7.4, Table 3-5).
 */
static int decode_ea(struct ringvm_decoder *d, u8 mod, u8 rm,
		     struct ringvm_insn *insn)
{
	bool ss = false;
	u8 base = rm;
	u64 sib;
	int ret;

	if (d->addr_size == 2) {
		/* Table 2-1: SS for [BP+SI], [BP+DI], [BP+disp]; [disp16] */
		ss = rm == 2 || rm == 3 || (rm == 6 && mod != 0);
		ret = fetch(d, mod == 0 && rm == 6 ? 2 : mod, NULL);
		goto out;
	}
	/* Table 2-2: r/m 100 means a SIB byte follows (Table 2-3) */
	if (rm == 4) {
		ret = fetch(d, 1, &sib);
		if (ret)
			return ret;
		base = sib & 7;
	}
	/*
	 * mod 00 with base 101 has no base register, only a disp32: for
	 * r/m 101 in 64-bit mode it is RIP-relative (§2.2.1.6), and with a
	 * SIB it is [index*scale + disp32].  REX.B does not change either
	 * (Table 2-5), so R13 as a base needs a displacement like rBP.
	 */
	if (mod == 0 && base == 5) {
		ret = fetch(d, 4, NULL);
		goto out;
	}
	ss = (base == 4 || base == 5) && !(d->rex & REX_B);
	ret = fetch(d, mod == 1 ? 1 : mod == 2 ? 4 : 0, NULL);
out:
	insn->seg = d->seg >= 0 ? d->seg : ss ? RINGVM_SEG_SS : RINGVM_SEG_DS;
	return ret;
}

/* 4. The instructions */

/* MOV, MOVZX, MOVSX, MOVSXD to or from memory */
static int decode_mov(struct ringvm_decoder *d,
		      const struct ringvm_opcode *opc, struct ringvm_insn *insn)
{
	u8 size = (opc->flags & OP_BYTE) ? 1 : d->opsize;
	u64 modrm, imm;
	u8 field;
	int ret;

	insn->reg_size = size;
	insn->access_size = opc->mem_size ? min(opc->mem_size, size) : size;
	insn->sign_extend = (opc->flags & OP_SEXT) &&
			    insn->access_size < insn->reg_size;

	/* A0-A3: the offset has the address size (§2.2.1.4) */
	if (opc->flags & OP_MOFFS) {
		insn->reg = 0;
		insn->seg = d->seg >= 0 ? d->seg : RINGVM_SEG_DS;
		return fetch(d, d->addr_size, NULL);
	}

	ret = fetch(d, 1, &modrm);
	if (ret)
		return ret;
	if ((modrm >> 6) == 3)	/* a register operand: no memory access */
		return -EINVAL;
	ret = decode_ea(d, modrm >> 6, modrm & 7, insn);
	if (ret)
		return ret;

	field = (modrm >> 3) & 7;
	if (!(opc->flags & OP_IMM)) {
		/*
		 * An 8-bit register field of 4..7 is AH, CH, DH, BH without
		 * REX, and SPL, BPL, SIL, DIL with any REX, even 40 (Intel
		 * SDM Vol. 1 §3.4.1.1).
		 */
		insn->high8 = size == 1 && !d->rex && field >= 4;
		insn->reg = insn->high8 ? field - 4 :
			    field | ((d->rex & REX_R) ? 8 : 0);
		return 0;
	}
	if (field != 0)		/* C6 /1-7, C7 /1-7: not MOV */
		return -EINVAL;

	/* The immediate follows the displacement; imm32 for 64 (§2.2.1.5) */
	ret = fetch(d, min_t(u8, insn->access_size, 4), &imm);
	if (ret)
		return ret;
	insn->imm = insn->access_size == 8 ? (u64)(s64)(s32)imm : imm;
	return 0;
}

/*
 * Intel SDM Vol. 2B, MOV—Move to/from Debug Registers and MOV—Move to/from
 * Control Registers: the operands are always registers, "regardless of
 * the encoding of the MOD field", so no SIB or displacement follows.  The
 * GPR is 64-bit in 64-bit mode and 32-bit otherwise, whatever 66 or REX.W
 * say.  REX.R names CR8-CR15, and DR8-DR15, which are #UD.  DR4/DR5
 * aliasing (CR4.DE) is the caller's business; so is which CRs exist.
 */
static int decode_mov_dr_cr(struct ringvm_decoder *d,
			    const struct ringvm_opcode *opc,
			    struct ringvm_insn *insn)
{
	u64 modrm;
	int ret;

	ret = fetch(d, 1, &modrm);
	if (ret)
		return ret;
	if (opc->op == RINGVM_INSN_MOV_CR) {
		insn->cr = ((modrm >> 3) & 7) | ((d->rex & REX_R) ? 8 : 0);
	} else {
		if (d->rex & REX_R)
			return -EINVAL;
		insn->dr = (modrm >> 3) & 7;
	}
	insn->reg = (modrm & 7) | ((d->rex & REX_B) ? 8 : 0);
	insn->reg_size = d->mode64 ? 8 : 4;
	insn->access_size = insn->reg_size;
	insn->write = opc->flags & OP_WRITE;
	return 0;
}

/*
 * Intel SDM Vol. 2A, INS and OUTS: no ModRM; the operand size is 1 or
 * 2/4, REX.W has no effect.  INS writes ES:[rDI], which no override can
 * change; OUTS reads DS:[rSI], which can be overridden.
 */
static int decode_string_io(struct ringvm_decoder *d,
			    const struct ringvm_opcode *opc,
			    struct ringvm_insn *insn)
{
	u8 size = (opc->flags & OP_BYTE) ? 1 : min_t(u8, d->opsize, 4);

	insn->access_size = size;
	insn->reg_size = size;
	insn->write = opc->flags & OP_WRITE;
	insn->rep = d->rep;
	insn->seg = RINGVM_SEG_ES;
	if (insn->write)
		insn->seg = d->seg >= 0 ? d->seg : RINGVM_SEG_DS;
	return 0;
}

/*
 * Decode one instruction from @bytes.  Returns 0, -EINVAL for anything
 * outside the supported set (including LOCK, F2 anywhere, F3 except on
 * INS/OUTS, a register operand where MOV needs memory, and instructions
 * over 15 bytes), or -ENODATA if @avail bytes were not enough.
 */
int ringvm_decode_insn(const u8 *bytes, unsigned int avail,
		       enum ringvm_cpu_mode mode, struct ringvm_insn *insn)
{
	struct ringvm_decoder d = {
		.bytes = bytes,
		.avail = avail,
		.mode64 = mode == RINGVM_MODE_LONG64,
		.seg = -1,
	};
	const struct ringvm_opcode *opc;
	u64 b2;
	int ret;
	u8 b;

	memset(insn, 0, sizeof(*insn));
	insn->reg = -1;
	if (mode > RINGVM_MODE_LONG64)
		return -EINVAL;
	ret = decode_prefixes(&d, mode, &b);
	if (ret)
		return ret;
	opc = &opcode_1b[b];
	if (b == 0x0f) {
		ret = fetch(&d, 1, &b2);
		if (ret)
			return ret;
		opc = &opcode_0f[b2];
	}
	if (!(opc->flags & OP_VALID) ||
	    ((opc->flags & OP_ONLY64) && !d.mode64))
		return -EINVAL;
	/* REP means nothing on MOV: refuse it rather than guess */
	if (d.rep && opc->op != RINGVM_INSN_STRING_IO)
		return -EINVAL;

	insn->op = opc->op;
	insn->addr_size = d.addr_size;
	insn->seg = RINGVM_SEG_DS;
	if (opc->op == RINGVM_INSN_MOV_DR || opc->op == RINGVM_INSN_MOV_CR)
		ret = decode_mov_dr_cr(&d, opc, insn);
	else if (opc->op == RINGVM_INSN_STRING_IO)
		ret = decode_string_io(&d, opc, insn);
	else
		ret = decode_mov(&d, opc, insn);
	insn->len = d.pos;
	return ret;
}

/*
 * The length of the instruction in @bytes if it is @opcode (@opcode_len
 * bytes) after its prefixes: for an exit whose hardware reported the
 * instruction but not its length (SVM without NRIP save).  Every prefix
 * byte is counted, whether it means anything to @opcode or not (a REX
 * that a legacy prefix follows is ignored by the processor, AMD APM
 * Vol. 3 §1.2.7, but is still part of the instruction).  -EINVAL if the
 * bytes are another instruction or more than 15 bytes long (#GP, Intel
 * SDM Vol. 3A §6.15: such an instruction never reaches an intercept),
 * -ENODATA if @avail bytes end before the opcode does.
 */
int ringvm_insn_match(const u8 *bytes, unsigned int avail,
		      enum ringvm_cpu_mode mode, const u8 *opcode,
		      unsigned int opcode_len)
{
	struct ringvm_decoder d = {
		.bytes = bytes,
		.avail = avail,
		.mode64 = mode == RINGVM_MODE_LONG64,
	};
	unsigned int start;
	u64 b;
	int ret;

	do {
		ret = fetch(&d, 1, &b);
		if (ret)
			return ret;
	} while (is_prefix(b, d.mode64));
	start = d.pos - 1;		/* the opcode's first byte */
	ret = fetch(&d, opcode_len - 1, NULL);
	if (ret)
		return ret;
	if (memcmp(bytes + start, opcode, opcode_len))
		return -EINVAL;
	return d.pos;
}

/* 5. The register side */

static u64 size_mask(unsigned int size)
{
	return GENMASK_ULL(size * 8 - 1, 0);
}

/*
 * New value of the destination register after a load: 8- and 16-bit
 * destinations merge into @old (AH..BH at bits 15:8), 32-bit ones clear
 * bits 63:32 (Intel SDM Vol. 1 §3.4.1.1; unobservable outside 64-bit
 * mode), 64-bit ones replace it.
 */
u64 ringvm_insn_load_result(const struct ringvm_insn *insn, u64 old, u64 data)
{
	unsigned int shift = insn->high8 ? 8 : 0;
	u64 val = data & size_mask(insn->access_size), mask;

	if (insn->sign_extend && insn->access_size < 8)
		val = (u64)sign_extend64(val, insn->access_size * 8 - 1);
	if (insn->reg_size >= 4)
		return val & size_mask(insn->reg_size);
	mask = size_mask(insn->reg_size) << shift;
	return (old & ~mask) | ((val << shift) & mask);
}

/* What a STORE or STORE_IMM writes, in the low access_size bytes. */
u64 ringvm_insn_store_value(const struct ringvm_insn *insn, u64 regval)
{
	u64 val = insn->op == RINGVM_INSN_STORE_IMM ? insn->imm : regval;

	if (insn->high8)
		val >>= 8;
	return val & size_mask(insn->access_size);
}

/* 6. The guest page walker (Intel SDM Vol. 3A chapter 4) */

#define PT_PRESENT	BIT_ULL(0)
#define PT_WRITABLE	BIT_ULL(1)
#define PT_USER		BIT_ULL(2)
#define PT_PS		BIT_ULL(7)
#define PT_NX		BIT_ULL(63)
#define PT_ADDR		GENMASK_ULL(51, 12)	/* MAXPHYADDR = 52 */

/* The guest's paging structures, and rights accumulated over levels */
struct ringvm_walk {
	bool pse;		/* 32-bit paging with 4-MByte pages */
	bool pae;		/* PAE paging: bits 62:52 are reserved */
	bool nxe;		/* XD bits exist: PAE or 4-level, EFER.NXE */
	u8 levels, bits;	/* levels, index bits per level */
	u8 esize;		/* entry size: 4 or 8 */
	bool writable;		/* R/W = 1 at every level */
	bool user;		/* U/S = 1 at every level */
	bool nx;		/* XD = 1 at some level */
};

/* Does this present entry map a page rather than point to a table? */
static bool is_leaf(const struct ringvm_walk *w, int level, u64 pte)
{
	if (level == 1)
		return true;
	if (!(pte & PT_PS))
		return false;
	/* 4-MByte pages need CR4.PSE; PS in a PML4E is reserved */
	return w->esize == 4 ? w->pse : level <= 3;
}

/*
 * Reserved bits checked (a #PF with RSVD set).  With MAXPHYADDR = 52
 * there are no reserved address bits, so what is left is XD without
 * EFER.NXE, bits 62:52 of PAE entries, PS in a PML4E, the low address
 * bits of 1-GByte and 2-MByte pages (29:13, 20:13) and bit 21 of a
 * 4-MByte PDE.  PAE PDPTEs are not checked: a bad one fails MOV CR3.
 */
static u64 rsvd_bits(const struct ringvm_walk *w, int level, u64 pte)
{
	bool large = level > 1 && is_leaf(w, level, pte);
	u64 rsvd = w->nxe ? 0 : PT_NX;

	if (w->esize == 4)
		return large ? BIT_ULL(21) : 0;
	if (w->pae)
		rsvd |= GENMASK_ULL(62, 52);
	if (level == 4)
		rsvd |= PT_PS;
	if (large)		/* below the page's address: 20:13 or 29:13 */
		rsvd |= GENMASK_ULL(11 + (level - 1) * w->bits, 13);
	return rsvd;
}

/*
 * -EFAULT with the #PF error code (§4.7) in *@pf_error.  I/D is set only
 * where a fetch could fault for being one: with XD bits or CR4.SMEP.
 */
static int page_fault(const struct ringvm_walk_ctx *ctx,
		      const struct ringvm_walk *w, unsigned int access,
		      u32 bits, u32 *pf_error)
{
	if (access & RINGVM_WALK_WRITE)
		bits |= RINGVM_PFERR_WRITE;
	if (access & RINGVM_WALK_USER)
		bits |= RINGVM_PFERR_USER;
	if ((access & RINGVM_WALK_FETCH) &&
	    (w->nxe || (ctx->cr4 & X86_CR4_SMEP)))
		bits |= RINGVM_PFERR_FETCH;
	*pf_error = bits;
	return -EFAULT;
}

/* Access rights of the translation (§4.6.1); SMAP is not modelled. */
static bool walk_allowed(const struct ringvm_walk_ctx *ctx,
			 const struct ringvm_walk *w, unsigned int access)
{
	bool user = access & RINGVM_WALK_USER;

	if (user && !w->user)
		return false;
	/* Supervisor writes ignore R/W unless CR0.WP = 1 */
	if ((access & RINGVM_WALK_WRITE) && !w->writable &&
	    (user || (ctx->cr0 & X86_CR0_WP)))
		return false;
	if (!(access & RINGVM_WALK_FETCH))
		return true;
	/* SMEP: no supervisor fetch from a user-mode page */
	return !w->nx && (user || !w->user || !(ctx->cr4 & X86_CR4_SMEP));
}

/*
 * Translate linear address @la for @access (RINGVM_WALK_*).  Without
 * paging, and under 32-bit and PAE paging, linear addresses are 32 bits
 * wide and @la is truncated.  A non-canonical @la in long mode (the
 * guest should get #GP, not #PF) or EFER.LMA without CR4.PAE is -EINVAL;
 * 5-level paging is -EOPNOTSUPP.  Accessed and dirty bits are not set,
 * and 1-GByte pages are taken as supported.
 */
int ringvm_gva_to_gpa(const struct ringvm_walk_ctx *ctx, u64 la,
		      unsigned int access, u64 *gpa, u32 *pf_error)
{
	struct ringvm_walk w = {
		.levels = 4, .bits = 9, .esize = 8,
		.writable = true, .user = true,
	};
	u64 table = ctx->cr3 & PT_ADDR, pte, offset;
	unsigned int shift;
	int level, ret;

	*pf_error = 0;
	if (!(ctx->cr0 & X86_CR0_PG)) {
		*gpa = la & U32_MAX;
		return 0;
	}
	if (ctx->efer & EFER_LMA) {			/* §4.5 */
		if (!(ctx->cr4 & X86_CR4_PAE))
			return -EINVAL;
		if (ctx->cr4 & X86_CR4_LA57)
			return -EOPNOTSUPP;
		if ((u64)sign_extend64(la, 47) != la)
			return -EINVAL;
		w.nxe = ctx->efer & EFER_NX;
	} else if (ctx->cr4 & X86_CR4_PAE) {
		/* §4.4: four PDPTEs at CR3[31:5], then a PD and a PT */
		la &= U32_MAX;
		w.pae = true;
		w.nxe = ctx->efer & EFER_NX;
		w.levels = 3;
		table = ctx->cr3 & GENMASK_ULL(31, 5);
	} else {
		/* §4.3: two levels of 1024 4-byte entries */
		la &= U32_MAX;
		w.pse = ctx->cr4 & X86_CR4_PSE;
		w.levels = 2;
		w.bits = 10;
		w.esize = 4;
		table = ctx->cr3 & GENMASK_ULL(31, 12);
	}

	for (level = w.levels; ; level--) {
		shift = 12 + (level - 1) * w.bits;
		pte = 0;		/* 4-byte reads fill the low half */
		ret = ctx->read_gpa(ctx->opaque, table + w.esize *
				    ((la >> shift) & GENMASK(w.bits - 1, 0)),
				    &pte, w.esize, level);
		if (ret)
			return ret;
		if (!(pte & PT_PRESENT))
			return page_fault(ctx, &w, access, 0, pf_error);
		if (w.pae && level == 3) {	/* a PDPTE carries only P */
			table = pte & PT_ADDR;
			continue;
		}
		if (pte & rsvd_bits(&w, level, pte))
			return page_fault(ctx, &w, access, RINGVM_PFERR_PRESENT |
					  RINGVM_PFERR_RSVD, pf_error);
		w.writable &= !!(pte & PT_WRITABLE);
		w.user &= !!(pte & PT_USER);
		w.nx |= w.nxe && (pte & PT_NX);
		if (is_leaf(&w, level, pte))
			break;
		table = pte & PT_ADDR;	/* 4-byte entries: bits 31:12 */
	}

	if (!walk_allowed(ctx, &w, access))
		return page_fault(ctx, &w, access, RINGVM_PFERR_PRESENT,
				  pf_error);
	if (w.esize == 4 && level == 2)
		/* 4-MByte page: PDE bits 20:13 are address bits 39:32 */
		pte = (pte & GENMASK_ULL(31, 22)) |
		      ((pte & GENMASK_ULL(20, 13)) << 19);
	offset = GENMASK_ULL(shift - 1, 0);
	*gpa = (pte & PT_ADDR & ~offset) | (la & offset);
	return 0;
}
