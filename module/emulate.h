/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ringvm core: the instruction decoder and the guest page-table walker.
 *
 *  1. ringvm_decode_insn()      - the few instructions that reach the core
 *     with no hardware decode: MMIO loads and stores, MOV to/from DRn and
 *     MOV to CR8 (SVM without decode assists) and INS/OUTS;
 *     ringvm_insn_match() - the length of a known instruction with its
 *     prefixes (SVM without NRIP save).
 *  2. ringvm_insn_load_result() / ringvm_insn_store_value() - MOV semantics
 *     for the register side of a decoded access.
 *  3. ringvm_gva_to_gpa()       - translate a guest linear address through
 *     the guest's own page tables (instruction fetch, string I/O operands).
 *
 * Vendor-neutral pure functions: no allocation, no locks, no sleeping, so
 * they may be called with preemption or interrupts disabled.  The walker
 * sleeps only if its read_gpa callback does.
 */
#ifndef RINGVM_EMULATE_H
#define RINGVM_EMULATE_H

#include <linux/bits.h>
#include <linux/types.h>

/* Longest legal x86 instruction (Intel SDM Vol. 3A §6.15, #GP). */
#define RINGVM_INSN_MAX_LEN	15

/* Guest execution mode, as the core derives it from CR0.PE, EFER.LMA, CS */
enum ringvm_cpu_mode {
	RINGVM_MODE_REAL,	/* also virtual-8086: 16-bit defaults */
	RINGVM_MODE_PROT16,	/* CS.D = 0 */
	RINGVM_MODE_PROT32,	/* CS.D = 1 (also compatibility mode) */
	RINGVM_MODE_LONG64,	/* EFER.LMA && CS.L */
};

enum ringvm_insn_op {
	RINGVM_INSN_LOAD,	/* reg <- mem: MOV, MOVZX, MOVSX, MOVSXD, A0/A1 */
	RINGVM_INSN_STORE,	/* mem <- reg: MOV, A2/A3 */
	RINGVM_INSN_STORE_IMM,	/* mem <- imm: C6 /0, C7 /0 */
	RINGVM_INSN_MOV_DR,	/* MOV to/from DRn: 0F 21, 0F 23 */
	RINGVM_INSN_MOV_CR,	/* MOV to CRn: 0F 22 (reads never exit) */
	RINGVM_INSN_STRING_IO,	/* INS/OUTS: 6C-6F, optional REP (F3) */
};

/* Segment registers in their x86 encoding order (Sreg field). */
enum ringvm_seg {
	RINGVM_SEG_ES,
	RINGVM_SEG_CS,
	RINGVM_SEG_SS,
	RINGVM_SEG_DS,
	RINGVM_SEG_FS,
	RINGVM_SEG_GS,
};

/*
 * One decoded instruction.
 *
 * @reg is the GPR to read or modify, in x86 encoding order (0 = RAX ..
 * 7 = RDI, 8..15 = R8..R15), -1 if none.  For AH, CH, DH and BH (an 8-bit
 * register field of 4..7 with no REX prefix) @reg is the containing
 * register 0..3 and @high8 is set: the operand is bits 15:8 of regs[@reg].
 * So a caller always reads and writes back regs[@reg].
 *
 * @seg is the segment of the memory operand: an override prefix (in
 * 64-bit mode only FS and GS count), else SS for an rBP/rSP base (BP in
 * 16-bit forms), else DS; INS always uses ES.  For MOV_DR, @reg_size is
 * the GPR's width (8 in 64-bit mode, else 4); for STRING_IO, @access_size
 * is the element size and @addr_size the width of rSI/rDI/rCX.
 */
struct ringvm_insn {
	u8 len;		/* bytes consumed, 1..15 */
	u8 op;		/* enum ringvm_insn_op */
	u8 access_size;	/* bytes read/written in memory: 1, 2, 4 or 8 */
	u8 reg_size;	/* size of the register operand: 1, 2, 4 or 8 */
	s8 reg;		/* GPR, see above; -1 if none */
	bool high8;	/* operand is bits 15:8 of @reg (AH, CH, DH, BH) */
	bool sign_extend; /* LOAD: sign-extend access_size to reg_size */
	bool write;	/* MOV_DR: MOV DRn, reg; STRING_IO: OUTS */
	bool rep;	/* STRING_IO: F3 prefix present */
	u8 dr;		/* MOV_DR: debug register number 0..7 */
	u8 cr;		/* MOV_CR: control register number 0..15 */
	u8 seg;		/* enum ringvm_seg of the memory operand */
	u8 addr_size;	/* effective address size: 2, 4 or 8 */
	u64 imm;	/* STORE_IMM: imm sign-extended to access_size */
};

/*
 * Decode one instruction of @avail bytes (never reads beyond them).
 * Returns 0; -ENODATA if @avail was not enough; -EINVAL for anything
 * else: an opcode outside the set above, a register operand on a memory
 * MOV, LOCK (F0) or REPNE (F2) anywhere, REP (F3) other than on INS/OUTS,
 * REX.R on MOV DR (DR8-DR15), more than 15 bytes.  As on hardware, MOV
 * DR and MOV CR ignore the ModRM mod field (always a register, no
 * displacement).
 */
int ringvm_decode_insn(const u8 *bytes, unsigned int avail,
		       enum ringvm_cpu_mode mode, struct ringvm_insn *insn);

/*
 * The length of the instruction in @bytes if, after any legacy prefixes
 * and (64-bit mode) REX prefixes, its opcode is the @opcode_len bytes at
 * @opcode; -EINVAL if it is not or would pass 15 bytes, -ENODATA if
 * @avail bytes were not enough.  Never reads beyond @avail.
 */
int ringvm_insn_match(const u8 *bytes, unsigned int avail,
		      enum ringvm_cpu_mode mode, const u8 *opcode,
		      unsigned int opcode_len);

/*
 * The register side, with MOV semantics.  load_result: the new value of
 * regs[insn->reg] given its @old value and the loaded @data (low
 * access_size bytes used): 8/16-bit destinations merge into @old, 32-bit
 * ones clear bits 63:32, 64-bit ones replace it.  store_value: what a
 * STORE of @regval (= regs[insn->reg]) or a STORE_IMM writes, truncated
 * to access_size.  Both handle @high8.
 */
u64 ringvm_insn_load_result(const struct ringvm_insn *insn, u64 old,
			    u64 data);
u64 ringvm_insn_store_value(const struct ringvm_insn *insn, u64 regval);

/*
 * What the walker needs of the guest.  @read_gpa reads @size bytes (8, or
 * 4 for 32-bit paging entries) of guest-physical memory into @buf and
 * returns 0 or a negative errno (e.g. not RAM); @level is the paging
 * level of the table it reads from (4 for a PML4, 1 for a page table),
 * for a caller that remembers a table page per level.
 */
struct ringvm_walk_ctx {
	u64 cr0, cr3, cr4, efer;
	int (*read_gpa)(void *opaque, u64 gpa, void *buf, unsigned int size,
			int level);
	void *opaque;
};

/* @access bits for ringvm_gva_to_gpa() */
#define RINGVM_WALK_WRITE	BIT(0)	/* data write */
#define RINGVM_WALK_USER	BIT(1)	/* CPL 3 access */
#define RINGVM_WALK_FETCH	BIT(2)	/* instruction fetch */

/* x86 #PF error code bits (Intel SDM Vol. 3A §4.7) */
#define RINGVM_PFERR_PRESENT	BIT(0)
#define RINGVM_PFERR_WRITE	BIT(1)
#define RINGVM_PFERR_USER	BIT(2)
#define RINGVM_PFERR_RSVD	BIT(3)
#define RINGVM_PFERR_FETCH	BIT(4)

int ringvm_gva_to_gpa(const struct ringvm_walk_ctx *ctx, u64 la,
		      unsigned int access, u64 *gpa, u32 *pf_error);

#endif /* RINGVM_EMULATE_H */
