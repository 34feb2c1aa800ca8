// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl run --kernel: the Multiboot Specification version 0.6.96 loader
 * (multiboot v1, as GRUB legacy and QEMU -kernel boot it).  Runs in
 * vmctl before vCPU 0's first entry; the image and the initrd are files
 * read whole, and every byte of them is hostile: nothing here writes
 * outside guest RAM, and anything the loader cannot do exactly as the
 * specification says is refused with one "vmctl: ..." line.
 *
 *  1. The header (§3.1): the magic and checksum in the first 8192
 *     bytes, 4-byte aligned; its required feature bits.
 *  2. The kernel's place in guest RAM: an ELF32 i386 executable's PT_LOAD
 *     segments, or, with header flag bit 16, the header's address fields
 *     (§3.1.3, the "a.out kludge").  Every segment is checked before any
 *     is copied: in the RAM of the memory map, clear of boot.h's boot
 *     data, below 4 GiB.
 *  3. The boot information (§3.3) in free RAM: the info structure, the
 *     command line, the memory map, the boot loader's name, and --initrd
 *     as module 1, page aligned.
 *  4. The machine state at entry (§3.2): flat 32-bit protected mode
 *     without paging (boot.c), EAX = 0x2BADB002, EBX = the info.
 */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "machine.h"

/* §3.1.1 The layout of the Multiboot header, and §3.1.2 its magic fields */
#define MB_HEADER_MAGIC		0x1BADB002
#define MB_SEARCH		8192	/* it lies wholly in these bytes */
#define MB_HEADER_ALIGN		4

#define MB_PAGE_ALIGN		(1U << 0)	/* modules on 4 KiB pages */
#define MB_MEMORY_INFO		(1U << 1)	/* mem_* (and mmap_*) */
#define MB_VIDEO_MODE		(1U << 2)	/* the graphics fields */
#define MB_AOUT_KLUDGE		(1U << 16)	/* the address fields */
#define MB_REQUIRED_MASK	0x0000ffffU	/* bits a loader must honour */

/* Offsets in the header of the fields after flags and checksum. */
#define MB_HDR_HEADER_ADDR	12
#define MB_HDR_LOAD_ADDR	16
#define MB_HDR_LOAD_END_ADDR	20
#define MB_HDR_BSS_END_ADDR	24
#define MB_HDR_ENTRY_ADDR	28
#define MB_HDR_SIZE_BASE	12	/* magic, flags, checksum */
#define MB_HDR_SIZE_AOUT	32	/* ... and the address fields */
#define MB_HDR_SIZE_VIDEO	48	/* ... and the graphics fields */

/* §3.2 Machine state: EAX at entry */
#define MB_BOOTLOADER_MAGIC	0x2BADB002

/* §3.3 Boot information format: the flags of the info structure */
#define MB_INFO_MEMORY		(1U << 0)	/* mem_lower, mem_upper */
#define MB_INFO_CMDLINE		(1U << 2)
#define MB_INFO_MODS		(1U << 3)
#define MB_INFO_MMAP		(1U << 6)
#define MB_INFO_LOADER_NAME	(1U << 9)

/*
 * The info structure of 0.6.96, 88 bytes; the fields after mmap_addr
 * are zero (their flags are clear).  All addresses are physical and 32
 * bits wide.
 */
struct mb_info {
	__u32 flags;
	__u32 mem_lower;	/* KiB from 0, at most 640 */
	__u32 mem_upper;	/* KiB from 1 MiB up to the first hole */
	__u32 boot_device;
	__u32 cmdline;
	__u32 mods_count;
	__u32 mods_addr;
	__u32 syms[4];
	__u32 mmap_length;
	__u32 mmap_addr;
	__u32 drives_length;
	__u32 drives_addr;
	__u32 config_table;
	__u32 boot_loader_name;
	__u32 apm_table;
	__u32 vbe_control_info;
	__u32 vbe_mode_info;
	__u16 vbe_mode;
	__u16 vbe_interface_seg;
	__u16 vbe_interface_off;
	__u16 vbe_interface_len;
};
_Static_assert(sizeof(struct mb_info) == 88, "multiboot 0.6.96 info");

/* One module (§3.3, mods_addr): [mod_start, mod_end) and its string. */
struct mb_module {
	__u32 mod_start;
	__u32 mod_end;
	__u32 string;
	__u32 reserved;
};

/*
 * One memory map entry (§3.3, mmap_addr): @size counts the bytes after
 * itself, and mmap_addr points at it (as the specification's example
 * kernel, GRUB and QEMU have it).  Packed: base_addr is at offset 4.
 */
struct mb_mmap_entry {
	__u32 size;
	__u64 base_addr;
	__u64 length;
	__u32 type;		/* 1 available RAM, anything else reserved */
} __attribute__((packed));
_Static_assert(sizeof(struct mb_mmap_entry) == 24, "multiboot mmap entry");

#define MB_LOADER_NAME		"ringvm vmctl"
#define PAGE_SIZE		4096ULL
#define SZ_1M			0x100000ULL
#define SZ_4G			0x100000000ULL
#define LOW_MEM_MAX		0xa0000ULL	/* 640 KiB */

/*
 * The guest-physical ranges the kernel occupies, and then what 3. places:
 * a bound, so a hostile ELF with thousands of segments is refused.
 */
#define MB_MAX_SEGMENTS		32
#define MB_MAX_USED		(MB_MAX_SEGMENTS + 4)

struct mb_segment {
	__u64 paddr;		/* where it goes */
	__u64 memsz;		/* bytes in memory, the bss included */
	__u64 offset;		/* in the file */
	__u64 filesz;		/* bytes copied from the file */
};

struct mb_range {
	__u64 start, end;	/* [start, end) */
};

struct mb_load {
	__u32 flags;		/* the header's */
	__u64 entry;
	unsigned int nr_seg;
	struct mb_segment seg[MB_MAX_SEGMENTS];
	/* RAM of the memory map, and what is taken in it. */
	unsigned int nr_ram;
	struct vmctl_mem_range ram[VMCTL_MAX_MEM_RANGES];
	unsigned int nr_used;
	struct mb_range used[MB_MAX_USED];
};

static __u32 get32(const __u8 *p)
{
	__u32 v;

	memcpy(&v, p, sizeof(v));	/* little-endian, as the guest's */
	return v;
}

/* 1. The header */

/*
 * The offset of the first valid header: magic, and a checksum that makes
 * magic + flags + checksum zero mod 2^32 (§3.1.2); -1 if there is none.
 */
static long mb_find_header(const struct vmctl_kernel *k)
{
	size_t end = k->image_size < MB_SEARCH ? k->image_size : MB_SEARCH;
	size_t off;

	for (off = 0; off + MB_HDR_SIZE_BASE <= end; off += MB_HEADER_ALIGN) {
		const __u8 *h = k->image + off;

		if (get32(h) == MB_HEADER_MAGIC &&
		    (__u32)(get32(h) + get32(h + 4) + get32(h + 8)) == 0)
			return off;
	}
	return -1;
}

static bool multiboot_probe(const struct vmctl_kernel *k)
{
	return mb_find_header(k) >= 0;
}

/*
 * §3.1.2: a loader that sees one of bits 0-15 set but does not
 * understand it or cannot fulfil it "must notify the user and fail to
 * load the OS image".  Bit 0 is met by always page-aligning the module,
 * bit 1 by always giving the memory fields and the map.  Bit 2 asks for
 * a video mode and a VBE table: a VM without a display cannot give
 * them.  Bits 16-31 are optional and ignored unless understood (16 is,
 * in 2.).
 */
static int mb_check_flags(const struct vmctl_kernel *k, __u32 flags)
{
	__u32 unknown = flags & MB_REQUIRED_MASK &
			~(MB_PAGE_ALIGN | MB_MEMORY_INFO | MB_VIDEO_MODE);

	if (flags & MB_VIDEO_MODE)
		return vmctl_fail("%s: multiboot header asks for a video mode (flags bit 2): vmctl has no display",
				  k->path);
	if (unknown)
		return vmctl_fail("%s: multiboot header requires features vmctl does not know (flags 0x%08x)",
				  k->path, unknown);
	return 0;
}

/* 2. The kernel's place in guest RAM */

static bool overlaps(__u64 s1, __u64 e1, __u64 s2, __u64 e2)
{
	return s1 < e2 && s2 < e1;
}

/*
 * Whether [@start, @end) lies inside one RAM range of the memory map and
 * clear of the boot data: where a kernel may be loaded.  The map leaves
 * out the EBDA, the VGA hole and the BIOS area, where the ACPI tables go.
 */
static bool mb_usable(const struct mb_load *l, __u64 start, __u64 end)
{
	unsigned int i;

	if (overlaps(start, end, VMCTL_BOOT_START, VMCTL_BOOT_END))
		return false;
	for (i = 0; i < l->nr_ram; i++)
		if (start >= l->ram[i].addr &&
		    end - l->ram[i].addr <= l->ram[i].size)
			return true;
	return false;
}

/* Add one segment after checking it; 0 or VMCTL_EXIT_FAIL. */
static int mb_add_segment(struct vmctl_machine *m,
			  const struct vmctl_kernel *k, struct mb_load *l,
			  const struct mb_segment *s)
{
	__u64 end = s->paddr + s->memsz;	/* 32-bit values: no wrap */

	if (s->filesz > s->memsz)
		return vmctl_fail("%s: a segment has more bytes in the file (0x%llx) than in memory (0x%llx)",
				  k->path, (unsigned long long)s->filesz,
				  (unsigned long long)s->memsz);
	if (s->offset > k->image_size ||
	    s->filesz > k->image_size - s->offset)
		return vmctl_fail("%s: truncated: a segment needs file bytes 0x%llx-0x%llx of 0x%zx",
				  k->path, (unsigned long long)s->offset,
				  (unsigned long long)(s->offset + s->filesz),
				  k->image_size);
	if (end > SZ_4G)
		return vmctl_fail("%s: segment at 0x%llx-0x%llx is above 4 GiB",
				  k->path, (unsigned long long)s->paddr,
				  (unsigned long long)end);
	if (overlaps(s->paddr, end, VMCTL_BOOT_START, VMCTL_BOOT_END))
		return vmctl_fail("%s: segment at 0x%llx-0x%llx overlaps the boot data at 0x%x-0x%x",
				  k->path, (unsigned long long)s->paddr,
				  (unsigned long long)end - 1,
				  VMCTL_BOOT_START, VMCTL_BOOT_END - 1);
	if (!mb_usable(l, s->paddr, end) ||
	    !vmctl_gpa_to_hva(m, s->paddr, s->memsz))
		return vmctl_fail("%s: segment at 0x%llx-0x%llx is not in the RAM of %s",
				  k->path, (unsigned long long)s->paddr,
				  (unsigned long long)end - 1, m->name);
	if (l->nr_seg >= MB_MAX_SEGMENTS)
		return vmctl_fail("%s: more than %u segments to load",
				  k->path, MB_MAX_SEGMENTS);
	l->seg[l->nr_seg++] = *s;
	l->used[l->nr_used++] = (struct mb_range) { s->paddr, end };
	return 0;
}

/*
 * An ELF32 executable for the i386 (§3.1: the loader understands ELF
 * without the address fields).  Segments go to their physical address
 * p_paddr.  The entry is e_entry, taken from virtual to physical through
 * the segment holding it when the two differ, as GRUB 2 does for
 * higher-half kernels.
 */
static int mb_parse_elf(struct vmctl_machine *m,
			const struct vmctl_kernel *k, struct mb_load *l)
{
	const __u8 *img = k->image;
	Elf32_Ehdr eh;
	unsigned int i;
	bool entry_found = false;
	int ret;

	if (k->image_size < EI_NIDENT || memcmp(img, ELFMAG, SELFMAG))
		return vmctl_fail("%s: multiboot kernel is not ELF and its header has no address fields (flags bit 16)",
				  k->path);
	if (img[EI_CLASS] == ELFCLASS64)
		return vmctl_fail("%s: ELF64: a multiboot kernel is a 32-bit ELF",
				  k->path);
	if (img[EI_CLASS] != ELFCLASS32 || img[EI_DATA] != ELFDATA2LSB)
		return vmctl_fail("%s: not a little-endian ELF32 file",
				  k->path);
	if (k->image_size < sizeof(eh))
		return vmctl_fail("%s: truncated ELF header", k->path);
	memcpy(&eh, img, sizeof(eh));
	if (eh.e_machine != EM_386 || eh.e_type != ET_EXEC)
		return vmctl_fail("%s: not an i386 ELF executable (e_machine %u, e_type %u)",
				  k->path, eh.e_machine, eh.e_type);
	if (eh.e_phnum == 0 || eh.e_phentsize != sizeof(Elf32_Phdr))
		return vmctl_fail("%s: ELF has no program headers of the i386 size",
				  k->path);
	if (eh.e_phoff > k->image_size ||
	    (__u64)eh.e_phnum * sizeof(Elf32_Phdr) >
	    k->image_size - eh.e_phoff)
		return vmctl_fail("%s: truncated: the ELF program headers end past the file",
				  k->path);

	for (i = 0; i < eh.e_phnum; i++) {
		Elf32_Phdr ph;
		struct mb_segment s;

		memcpy(&ph, img + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		s = (struct mb_segment) {
			.paddr = ph.p_paddr, .memsz = ph.p_memsz,
			.offset = ph.p_offset, .filesz = ph.p_filesz,
		};
		ret = mb_add_segment(m, k, l, &s);
		if (ret)
			return ret;
		if (!entry_found && eh.e_entry >= ph.p_vaddr &&
		    eh.e_entry - ph.p_vaddr < ph.p_memsz) {
			l->entry = (__u64)eh.e_entry - ph.p_vaddr + ph.p_paddr;
			entry_found = true;
		}
	}
	if (!l->nr_seg)
		return vmctl_fail("%s: ELF has nothing to load", k->path);
	if (!entry_found)
		return vmctl_fail("%s: entry point 0x%x is in no loaded segment",
				  k->path, eh.e_entry);
	return 0;
}

/*
 * §3.1.3 The address fields: the file from the header's offset less
 * (header_addr - load_addr) is loaded at load_addr, up to load_end_addr
 * (0: to the end of the file); bss_end_addr (0: none) ends the bss that
 * the loader zeroes.
 */
static int mb_parse_aout(struct vmctl_machine *m,
			 const struct vmctl_kernel *k, struct mb_load *l,
			 size_t hdr_off)
{
	const __u8 *h = k->image + hdr_off;
	__u32 header_addr = get32(h + MB_HDR_HEADER_ADDR);
	__u32 load_addr = get32(h + MB_HDR_LOAD_ADDR);
	__u32 load_end = get32(h + MB_HDR_LOAD_END_ADDR);
	__u32 bss_end = get32(h + MB_HDR_BSS_END_ADDR);
	__u32 entry = get32(h + MB_HDR_ENTRY_ADDR);
	struct mb_segment s = { .paddr = load_addr };

	if (load_addr > header_addr || header_addr - load_addr > hdr_off)
		return vmctl_fail("%s: multiboot load_addr 0x%x is not within 0x%zx bytes below header_addr 0x%x (the header's offset in the file)",
				  k->path, load_addr, hdr_off, header_addr);
	s.offset = hdr_off - (header_addr - load_addr);
	if (!load_end)
		s.filesz = k->image_size - s.offset;
	else if (load_end < load_addr)
		return vmctl_fail("%s: multiboot load_end_addr 0x%x is below load_addr 0x%x",
				  k->path, load_end, load_addr);
	else
		s.filesz = load_end - load_addr;
	s.memsz = s.filesz;
	if (bss_end) {
		if (bss_end < load_addr + s.filesz)
			return vmctl_fail("%s: multiboot bss_end_addr 0x%x is before load_end_addr",
					  k->path, bss_end);
		s.memsz = bss_end - load_addr;
	}
	if (entry < load_addr || entry - load_addr >= s.memsz)
		return vmctl_fail("%s: multiboot entry_addr 0x%x is outside the image at 0x%x-0x%llx",
				  k->path, entry, load_addr,
				  (unsigned long long)(load_addr + s.memsz - 1));
	l->entry = entry;
	return mb_add_segment(m, k, l, &s);
}

/* Copy the checked segments into guest RAM, zeroing their bss. */
static void mb_copy_segments(struct vmctl_machine *m,
			     const struct vmctl_kernel *k,
			     const struct mb_load *l)
{
	unsigned int i;

	for (i = 0; i < l->nr_seg; i++) {
		const struct mb_segment *s = &l->seg[i];
		__u8 *dst = vmctl_gpa_to_hva(m, s->paddr, s->memsz);

		memcpy(dst, k->image + s->offset, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
}

/* 3. The boot information */

/*
 * A free place for @size bytes aligned to @align, below 4 GiB, in the
 * RAM of the memory map, above the boot data and clear of all that is
 * used; taken.  First fit from the bottom, so the small things land in
 * low memory.  0 if there is none (0 is never free: the boot data is
 * above it).
 */
static __u64 mb_alloc(struct mb_load *l, __u64 size, __u64 align)
{
	unsigned int i, j;

	if (l->nr_used >= MB_MAX_USED)
		return 0;
	for (i = 0; i < l->nr_ram; i++) {
		__u64 end = l->ram[i].addr + l->ram[i].size;
		__u64 at = l->ram[i].addr;
		bool moved = true;

		if (end > SZ_4G)
			end = SZ_4G;
		if (at < VMCTL_BOOT_END)
			at = VMCTL_BOOT_END;
		while (moved) {
			moved = false;
			at = (at + align - 1) & ~(align - 1);
			if (at >= end || size > end - at)
				break;
			for (j = 0; j < l->nr_used; j++) {
				if (overlaps(at, at + size, l->used[j].start,
					     l->used[j].end)) {
					at = l->used[j].end;
					moved = true;
				}
			}
			if (!moved) {
				l->used[l->nr_used++] =
					(struct mb_range) { at, at + size };
				return at;
			}
		}
	}
	return 0;
}

/*
 * mem_lower: the RAM at 0, in KiB, up to 640 KiB; mem_upper: the RAM
 * without a gap from 1 MiB, in KiB (§3.3: "maximally the address of the
 * first upper memory hole minus 1 megabyte").
 */
static void mb_memory_fields(struct vmctl_machine *m, const struct mb_load *l,
			     struct mb_info *info)
{
	__u64 upper = vmctl_ram_from(m, SZ_1M) / 1024;
	unsigned int i;

	info->mem_lower = 0;
	for (i = 0; i < l->nr_ram; i++) {
		if (l->ram[i].addr == 0) {
			__u64 low = l->ram[i].size < LOW_MEM_MAX ?
				    l->ram[i].size : LOW_MEM_MAX;

			info->mem_lower = low / 1024;
		}
	}
	info->mem_upper = upper > 0xffffffffULL ? 0xffffffffU : upper;
	info->flags |= MB_INFO_MEMORY;
}

/*
 * --initrd, as module 1 on pages of its own (header flag bit 0 asks for
 * the alignment; it is done for every kernel, and a kernel that frees a
 * module's pages frees nothing else): its address, or 0 after saying why.
 */
static __u64 mb_place_module(struct vmctl_machine *m,
			     const struct vmctl_kernel *k, struct mb_load *l)
{
	__u64 len = k->initrd_size ? k->initrd_size : 1;
	__u64 at = mb_alloc(l, (len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1),
			    PAGE_SIZE);
	void *dst = at ? vmctl_gpa_to_hva(m, at, len) : NULL;

	if (!dst) {
		vmctl_fail("initrd %s: %zu bytes do not fit in the free RAM of %s below 4 GiB",
			   k->initrd_path, k->initrd_size, m->name);
		return 0;
	}
	memcpy(dst, k->initrd, k->initrd_size);
	return at;
}

/*
 * The boot information: the module, then one block with the info structure, the
 * module list, the memory map and the strings.  Returns the info's
 * address, or 0 after saying why.
 */
static __u64 mb_boot_info(struct vmctl_machine *m,
			  const struct vmctl_kernel *k, struct mb_load *l,
			  const struct vmctl_mem_range *map, unsigned int nr_map)
{
	const char *cmdline = k->cmdline ? k->cmdline : "";
	size_t cmd_len = strlen(cmdline) + 1;
	size_t mod_len = k->initrd_path ? strlen(k->initrd_path) + 1 : 0;
	__u64 mods_off = sizeof(struct mb_info);
	__u64 mmap_off = mods_off + (k->initrd_path ? sizeof(struct mb_module)
						    : 0);
	__u64 cmd_off = mmap_off + nr_map * sizeof(struct mb_mmap_entry);
	__u64 name_off = cmd_off + cmd_len;
	__u64 str_off = name_off + sizeof(MB_LOADER_NAME);
	__u64 size = str_off + mod_len;
	__u64 mod_at = 0, at;
	struct mb_info info = { 0 };
	unsigned int i;
	__u8 *blk;

	if (k->initrd_path) {
		mod_at = mb_place_module(m, k, l);
		if (!mod_at)
			return 0;
	}
	at = mb_alloc(l, size, 8);
	blk = at ? vmctl_gpa_to_hva(m, at, size) : NULL;
	if (!blk) {
		vmctl_fail("%s: no free RAM in %s for the multiboot information (%llu bytes)",
			   k->path, m->name, (unsigned long long)size);
		return 0;
	}
	memset(blk, 0, size);

	mb_memory_fields(m, l, &info);
	info.flags |= MB_INFO_MMAP;
	info.mmap_addr = at + mmap_off;
	info.mmap_length = nr_map * sizeof(struct mb_mmap_entry);
	for (i = 0; i < nr_map; i++) {
		struct mb_mmap_entry e = {
			.size = sizeof(e) - sizeof(e.size),
			.base_addr = map[i].addr, .length = map[i].size,
			.type = map[i].type,
		};

		memcpy(blk + mmap_off + i * sizeof(e), &e, sizeof(e));
	}

	info.flags |= MB_INFO_CMDLINE;
	info.cmdline = at + cmd_off;
	memcpy(blk + cmd_off, cmdline, cmd_len);
	info.flags |= MB_INFO_LOADER_NAME;
	info.boot_loader_name = at + name_off;
	memcpy(blk + name_off, MB_LOADER_NAME, sizeof(MB_LOADER_NAME));

	/* mod_end is exclusive, as GRUB and QEMU give it. */
	info.flags |= MB_INFO_MODS;
	if (k->initrd_path) {
		struct mb_module mod = {
			.mod_start = mod_at,
			.mod_end = mod_at + k->initrd_size,
			.string = at + str_off,
		};

		memcpy(blk + mods_off, &mod, sizeof(mod));
		memcpy(blk + str_off, k->initrd_path, mod_len);
		info.mods_count = 1;
		info.mods_addr = at + mods_off;
	}
	memcpy(blk, &info, sizeof(info));
	return at;
}

/* 4. The machine state, and the whole load */

static int mb_set_entry_regs(struct vmctl_machine *m, __u64 entry,
			     __u64 info)
{
	struct ringvm_regs regs;
	int ret;

	/*
	 * §3.2: CS and DS, ES, FS, GS, SS flat 32-bit, CR0.PE set and
	 * CR0.PG clear, EFLAGS.IF and VM clear; A20 is always on in a VM.
	 * ESP, the GDT and the IDT are the kernel's to set.
	 */
	ret = vmctl_boot_setup(m, VMCTL_MODE_PROTECTED, entry, 0);
	if (ret)
		return ret;
	ret = vmctl_get_regs(m, 0, &regs);
	if (ret < 0)
		return vmctl_fail("reading vCPU 0's registers: %s",
				  strerror(-ret));
	regs.rax = MB_BOOTLOADER_MAGIC;
	regs.rbx = info;
	ret = vmctl_set_regs(m, 0, &regs);
	if (ret < 0)
		return vmctl_fail("setting vCPU 0's registers: %s",
				  strerror(-ret));
	return 0;
}

static int multiboot_load(struct vmctl_machine *m,
			  const struct vmctl_kernel *k)
{
	struct vmctl_mem_range map[VMCTL_MAX_MEM_RANGES];
	unsigned int nr_map, i;
	struct mb_load *l;
	long hdr_off = mb_find_header(k);
	__u64 info;
	size_t need;
	int ret;

	if (hdr_off < 0)
		return vmctl_fail("%s: no multiboot header in the first %u bytes",
				  k->path, MB_SEARCH);
	l = calloc(1, sizeof(*l));
	if (!l)
		return vmctl_fail("out of memory");
	nr_map = vmctl_memory_map(m, map);
	for (i = 0; i < nr_map; i++)
		if (map[i].type == VMCTL_E820_RAM)
			l->ram[l->nr_ram++] = map[i];

	/* 1. */
	l->flags = get32(k->image + hdr_off + 4);
	ret = mb_check_flags(k, l->flags);
	if (ret)
		goto out;
	need = l->flags & MB_AOUT_KLUDGE ? MB_HDR_SIZE_AOUT : MB_HDR_SIZE_BASE;
	if (hdr_off + need > k->image_size || hdr_off + need > MB_SEARCH) {
		ret = vmctl_fail("%s: truncated multiboot header at offset 0x%lx",
				 k->path, hdr_off);
		goto out;
	}

	/* 2.  §3.1.2: bit 16 makes the address fields win over ELF's. */
	if (l->flags & MB_AOUT_KLUDGE)
		ret = mb_parse_aout(m, k, l, hdr_off);
	else
		ret = mb_parse_elf(m, k, l);
	if (ret)
		goto out;
	mb_copy_segments(m, k, l);

	/* 3. */
	info = mb_boot_info(m, k, l, map, nr_map);
	if (!info) {
		ret = VMCTL_EXIT_FAIL;
		goto out;
	}

	/* 4. */
	ret = mb_set_entry_regs(m, l->entry, info);
out:
	free(l);
	return ret;
}

const struct vmctl_loader vmctl_loader_multiboot = {
	.name = "multiboot",
	.probe = multiboot_probe,
	.load = multiboot_load,
};
