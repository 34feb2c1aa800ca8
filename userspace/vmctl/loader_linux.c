// SPDX-License-Identifier: GPL-2.0
/*
 * vmctl run --kernel: the Linux x86 boot protocol, 64-bit entry
 * (Documentation/arch/x86/boot.rst in the kernel sources; its section
 * names are cited below).  What a boot loader does, without the
 * real-mode setup code, which needs a BIOS:
 *
 *  1. Check the setup header: "HdrS", protocol 2.12 or later, a kernel
 *     that has the 64-bit entry (XLF_KERNEL_64) and loads high.
 *  2. Place things in guest RAM: the protected-mode kernel at its
 *     preferred address (pref_address, when relocatable; 1 MiB if not)
 *     with room for init_size; the initrd as high as initrd_addr_max
 *     and the RAM allow; the zero page and the command line in low
 *     memory above the boot data (boot.h).
 *  3. Fill the zero page (struct boot_params): the setup header copied
 *     from the image and completed, the E820 map (memmap.c), the
 *     ACPI RSDP (acpi.c).
 *  4. Enter at the 64-bit entry, load address + 0x200, in long mode
 *     with the first 4 GiB identity mapped (boot.c), RSI = the zero
 *     page, interrupts off, and the GDT the protocol asks for: __BOOT_CS
 *     (0x10) a flat code segment, __BOOT_DS (0x18) a flat data segment.
 * Any header field or size that does not fit ends with one "vmctl:" line
 * before the guest runs; nothing is written outside guest RAM.
 */
#include <string.h>

#include "machine.h"

/* Offsets into the image and into struct boot_params ("THE REAL-MODE KERNEL HEADER"). */
#define HDR_START		0x1f1
#define HDR_SETUP_SECTS		0x1f1	/* u8; 0 means 4 */
#define HDR_BOOT_FLAG		0x1fe	/* u16 0xaa55 */
#define HDR_JUMP		0x200	/* 0xeb, then the header's length - 2 */
#define HDR_MAGIC		0x202	/* "HdrS" */
#define HDR_VERSION		0x206	/* u16 */
#define HDR_TYPE_OF_LOADER	0x210	/* u8 */
#define HDR_LOADFLAGS		0x211	/* u8 */
#define HDR_RAMDISK_IMAGE	0x218	/* u32 */
#define HDR_RAMDISK_SIZE	0x21c	/* u32 */
#define HDR_CMD_LINE_PTR	0x228	/* u32 */
#define HDR_INITRD_ADDR_MAX	0x22c	/* u32 */
#define HDR_KERNEL_ALIGNMENT	0x230	/* u32 */
#define HDR_RELOCATABLE		0x234	/* u8 */
#define HDR_XLOADFLAGS		0x236	/* u16 */
#define HDR_CMDLINE_SIZE	0x238	/* u32 */
#define HDR_PREF_ADDRESS	0x258	/* u64 */
#define HDR_INIT_SIZE		0x260	/* u32 */
#define HDR_MIN_END		0x264	/* the fields above all lie below */

#define BP_ACPI_RSDP_ADDR	0x070	/* u64 */
#define BP_E820_ENTRIES		0x1e8	/* u8 */
#define BP_E820_TABLE		0x2d0	/* 20-byte entries */
#define BP_E820_MAX		128
#define BP_SIZE			4096

#define LOADED_HIGH		0x01	/* loadflags */
#define XLF_KERNEL_64		0x01	/* xloadflags */
#define MIN_VERSION		0x020c	/* 2.12: xloadflags, the 64-bit entry */
#define LOADER_UNDEFINED	0xff	/* type_of_loader: not in the list */
#define ENTRY_64		0x200	/* from the load address */

/* Low memory: zero page, command line and stack, above boot.h's data. */
#define LINUX_ZERO_PAGE		0x8000
#define LINUX_CMDLINE		0x9000
#define LINUX_CMDLINE_END	0x20000
#define LINUX_STACK		0x9f000

#define LINUX_DEFAULT_LOAD	0x100000	/* not relocatable: 1 MiB */

/* The GDT of "64-bit BOOT PROTOCOL": selector 0x10 code, 0x18 data. */
#define BOOT_CS			0x10
#define BOOT_DS			0x18
#define GDT_CODE64		0x00af9b000000ffffULL	/* L, P, DPL 0, XR */
#define GDT_DATA		0x00cf93000000ffffULL	/* G, D/B, P, RW */

static __u32 get16(const __u8 *p, size_t off)
{
	return p[off] | p[off + 1] << 8;
}

static __u32 get32(const __u8 *p, size_t off)
{
	return get16(p, off) | get16(p, off + 2) << 16;
}

static __u64 get64(const __u8 *p, size_t off)
{
	return get32(p, off) | (__u64)get32(p, off + 4) << 32;
}

static void put32(__u8 *p, size_t off, __u32 v)
{
	memcpy(p + off, &v, sizeof(v));		/* x86: little-endian */
}

static void put64(__u8 *p, size_t off, __u64 v)
{
	memcpy(p + off, &v, sizeof(v));
}

static bool linux_probe(const struct vmctl_kernel *k)
{
	return k->image_size >= HDR_MAGIC + 4 &&
	       get16(k->image, HDR_BOOT_FLAG) == 0xaa55 &&
	       !memcmp(k->image + HDR_MAGIC, "HdrS", 4);
}

/* What 1. and 2. decide. */
struct linux_layout {
	size_t setup_size;	/* bytes of the image before the kernel */
	size_t hdr_end;		/* end of the setup header in the image */
	__u64 load;		/* the protected-mode kernel */
	__u64 kernel_end;	/* load + its size or init_size */
	__u64 initrd;
	__u32 cmdline_max;
};

/* 1. */
static int check_header(const struct vmctl_kernel *k, struct linux_layout *l)
{
	const __u8 *img = k->image;
	unsigned int version, sects;

	if (k->image_size < HDR_MIN_END)
		return vmctl_fail("kernel %s: truncated setup header",
				  k->path);
	version = get16(img, HDR_VERSION);
	if (version < MIN_VERSION)
		return vmctl_fail("kernel %s: boot protocol %u.%02u is not supported: vmctl needs 2.12 or later (Linux 3.8+)",
				  k->path, version >> 8, version & 0xff);
	if (!(img[HDR_LOADFLAGS] & LOADED_HIGH))
		return vmctl_fail("kernel %s: a zImage (loaded low) is not supported, only bzImage",
				  k->path);
	if (!(get16(img, HDR_XLOADFLAGS) & XLF_KERNEL_64))
		return vmctl_fail("kernel %s: no 64-bit entry point (a 32-bit kernel?)",
				  k->path);
	l->hdr_end = HDR_JUMP + 2 + img[HDR_JUMP + 1];
	if (img[HDR_JUMP] != 0xeb || l->hdr_end < HDR_MIN_END ||
	    l->hdr_end > BP_E820_TABLE)
		return vmctl_fail("kernel %s: bad setup header length", k->path);
	sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4;
	l->setup_size = (sects + 1) * 512;
	if (k->image_size <= l->setup_size)
		return vmctl_fail("kernel %s: no protected-mode kernel after %zu bytes of setup",
				  k->path, l->setup_size);
	l->cmdline_max = get32(img, HDR_CMDLINE_SIZE);
	if (l->cmdline_max > LINUX_CMDLINE_END - LINUX_CMDLINE - 1)
		l->cmdline_max = LINUX_CMDLINE_END - LINUX_CMDLINE - 1;
	if (strlen(k->cmdline) > l->cmdline_max)
		return vmctl_fail("kernel %s: the command line is %zu bytes, the kernel takes %u",
				  k->path, strlen(k->cmdline), l->cmdline_max);
	return 0;
}

/* 2. */
static int place(struct vmctl_machine *m, const struct vmctl_kernel *k,
		 struct linux_layout *l)
{
	const __u8 *img = k->image;
	__u64 size = k->image_size - l->setup_size, need, top, max;
	__u32 init_size = get32(img, HDR_INIT_SIZE);

	l->load = LINUX_DEFAULT_LOAD;
	if (img[HDR_RELOCATABLE]) {
		__u64 pref = get64(img, HDR_PREF_ADDRESS);
		__u32 align = get32(img, HDR_KERNEL_ALIGNMENT);

		if (pref >= LINUX_DEFAULT_LOAD && pref < (1ULL << 32) &&
		    (!align || !(align & (align - 1))) &&
		    (!align || !(pref & (align - 1))))
			l->load = pref;
	}
	need = init_size > size ? init_size : size;
	if (vmctl_ram_from(m, l->load) < need)
		return vmctl_fail("kernel %s: needs %llu MiB of RAM from 0x%llx (init_size), more than VM %s has",
				  k->path,
				  (unsigned long long)((need + (1 << 20) - 1) >> 20),
				  (unsigned long long)l->load, m->name);
	l->kernel_end = l->load + need;

	l->initrd = 0;
	if (!k->initrd)
		return 0;
	/* As high as possible below initrd_addr_max ("ramdisk_image"). */
	max = get32(img, HDR_INITRD_ADDR_MAX);
	top = l->kernel_end + vmctl_ram_from(m, l->kernel_end);
	if (top > max + 1ULL)
		top = max + 1ULL;
	if (top < l->kernel_end || top - l->kernel_end < k->initrd_size)
		return vmctl_fail("initrd %s: %zu bytes do not fit in the RAM of %s above the kernel (0x%llx-0x%llx)",
				  k->initrd_path, k->initrd_size, m->name,
				  (unsigned long long)l->kernel_end,
				  (unsigned long long)top);
	l->initrd = (top - k->initrd_size) & ~0xfffULL;
	if (l->initrd < l->kernel_end)
		return vmctl_fail("initrd %s: no page-aligned room above the kernel",
				  k->initrd_path);
	return 0;
}

/* 3. */
static int fill_zero_page(struct vmctl_machine *m,
			  const struct vmctl_kernel *k,
			  const struct linux_layout *l)
{
	struct vmctl_mem_range map[VMCTL_MAX_MEM_RANGES];
	__u8 *bp = vmctl_gpa_to_hva(m, LINUX_ZERO_PAGE, BP_SIZE);
	char *cmdline = vmctl_gpa_to_hva(m, LINUX_CMDLINE,
					 l->cmdline_max + 1);
	unsigned int i, n;

	if (!bp || !cmdline)
		return vmctl_fail("%s: no RAM at 0x%x-0x%x for the zero page and command line",
				  m->name, LINUX_ZERO_PAGE, LINUX_CMDLINE_END - 1);
	memset(bp, 0, BP_SIZE);
	memcpy(bp + HDR_START, k->image + HDR_START, l->hdr_end - HDR_START);
	bp[HDR_TYPE_OF_LOADER] = LOADER_UNDEFINED;
	put32(bp, HDR_CMD_LINE_PTR, LINUX_CMDLINE);
	put32(bp, HDR_RAMDISK_IMAGE, l->initrd);
	put32(bp, HDR_RAMDISK_SIZE, k->initrd ? k->initrd_size : 0);
	strcpy(cmdline, k->cmdline);	/* length checked in check_header() */

	n = vmctl_memory_map(m, map);
	if (n > BP_E820_MAX)
		n = BP_E820_MAX;
	for (i = 0; i < n; i++) {
		__u8 *e = bp + BP_E820_TABLE + 20 * i;

		put64(e, 0, map[i].addr);
		put64(e, 8, map[i].size);
		put32(e, 16, map[i].type);
	}
	bp[BP_E820_ENTRIES] = n;
	put64(bp, BP_ACPI_RSDP_ADDR, m->acpi_rsdp);
	return 0;
}

/* 4. */
static int enter_64(struct vmctl_machine *m, const struct linux_layout *l)
{
	__u64 *gdt;
	struct ringvm_sregs sregs;
	struct ringvm_regs regs;
	int ret;

	ret = vmctl_boot_setup(m, VMCTL_MODE_LONG, l->load + ENTRY_64,
			       LINUX_STACK);
	if (ret)
		return ret;
	/*
	 * boot.c's GDT (in RAM: boot_setup checked) has 0x10 data and 0x18
	 * code64, the protocol's the other way round.
	 */
	gdt = vmctl_gpa_to_hva(m, VMCTL_BOOT_GDT, 4 * 8);
	gdt[BOOT_CS / 8] = GDT_CODE64;
	gdt[BOOT_DS / 8] = GDT_DATA;
	ret = vmctl_get_sregs(m, 0, &sregs);
	if (!ret) {
		sregs.cs.selector = BOOT_CS;
		sregs.ds.selector = sregs.es.selector = BOOT_DS;
		sregs.fs.selector = sregs.gs.selector = BOOT_DS;
		sregs.ss.selector = BOOT_DS;
		ret = vmctl_set_sregs(m, 0, &sregs);
	}
	if (!ret)
		ret = vmctl_get_regs(m, 0, &regs);
	if (!ret) {
		regs.rsi = LINUX_ZERO_PAGE;
		ret = vmctl_set_regs(m, 0, &regs);
	}
	if (ret < 0)
		return vmctl_fail("setting vCPU 0 up for the kernel: %s",
				  strerror(-ret));
	return 0;
}

static int linux_load(struct vmctl_machine *m, const struct vmctl_kernel *k)
{
	struct linux_layout l = { 0 };
	void *dst;
	int ret;

	ret = check_header(k, &l);
	if (!ret)
		ret = place(m, k, &l);
	if (ret)
		return ret;
	dst = vmctl_gpa_to_hva(m, l.load, k->image_size - l.setup_size);
	if (!dst)
		return vmctl_fail("kernel %s: 0x%llx is not RAM", k->path,
				  (unsigned long long)l.load);
	memcpy(dst, k->image + l.setup_size, k->image_size - l.setup_size);
	if (k->initrd) {
		dst = vmctl_gpa_to_hva(m, l.initrd, k->initrd_size);
		if (!dst)
			return vmctl_fail("initrd %s: 0x%llx is not RAM",
					  k->initrd_path,
					  (unsigned long long)l.initrd);
		memcpy(dst, k->initrd, k->initrd_size);
	}
	ret = fill_zero_page(m, k, &l);
	if (!ret)
		ret = enter_64(m, &l);
	return ret;
}

const struct vmctl_loader vmctl_loader_linux = {
	.name = "linux",
	.probe = linux_probe,
	.load = linux_load,
};
