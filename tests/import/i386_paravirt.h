/*
 * Test header in the style of include/asm-i386/paravirt.h (Linux 2.6.20-2.6.23):
 * one big table of hooks, fastcall everywhere, #ifdef'd members, and the usual
 * macros and inline wrappers around it. Written for pvgen's tests.
 */
#ifndef __ASM_PARAVIRT_H
#define __ASM_PARAVIRT_H

#include <linux/linkage.h>
#include <asm/page.h>

#ifdef CONFIG_PARAVIRT
/* Patch IDs of the sites the patcher knows. */
#define PARAVIRT_IRQ_DISABLE 0
#define PARAVIRT_IRQ_ENABLE 1
#define PARAVIRT_PATCH(x)					\
	(offsetof(struct paravirt_ops, x) / sizeof(void *))

#ifndef __ASSEMBLY__
struct thread_struct;
struct Xgt_desc_struct;
struct tss_struct;
struct mm_struct;

/* Lazy mode for batching updates / context switch */
enum paravirt_lazy_mode {
	PARAVIRT_LAZY_NONE = 0,
	PARAVIRT_LAZY_MMU = 1,
	PARAVIRT_LAZY_CPU = 2,
	PARAVIRT_LAZY_FLUSH = 3,
};

struct paravirt_ops
{
	unsigned int kernel_rpl;
	int paravirt_enabled;
	const char *name;

	/*
	 * Patch may replace one of the defined code sequences with
	 * arbitrary code; it returns the number of bytes it wrote.
	 */
	unsigned (*patch)(u8 type, u16 clobber, void *firstinsn, unsigned len);

	void (*arch_setup)(void);
	char *(*memory_setup)(void);
	void (*init_IRQ)(void);

	void (*banner)(void);

	unsigned long (*get_wallclock)(void);
	int (*set_wallclock)(unsigned long);
	void (*time_init)(void);

	/* All the function pointers here are declared as "fastcall"
	   so that we get a register-based calling convention. */

	void (fastcall *cpuid)(unsigned int *eax, unsigned int *ebx,
			       unsigned int *ecx, unsigned int *edx);

	unsigned long (fastcall *get_debugreg)(int regno);
	void (fastcall *set_debugreg)(int regno, unsigned long value);

	void (fastcall *clts)(void);

	unsigned long (fastcall *read_cr0)(void);
	void (fastcall *write_cr0)(unsigned long);

	unsigned long (fastcall *save_fl)(void);
	void (fastcall *restore_fl)(unsigned long);
	void (fastcall *irq_disable)(void);
	void (fastcall *irq_enable)(void);

	/* err = 0/-EFAULT.  wrmsr returns 0/-EFAULT. */
	u64 (fastcall *read_msr)(unsigned int msr, int *err);
	int (fastcall *write_msr)(unsigned int msr, u64 val);

	u64 (fastcall *read_tsc)(void);

	void (fastcall *load_gdt)(const struct Xgt_desc_struct *);
	void (fastcall *write_idt_entry)(void *dt, int entrynum, u32 low, u32 high);
	void (fastcall *load_esp0)(struct tss_struct *tss, struct thread_struct *thread);

	void (fastcall *set_lazy_mode)(enum paravirt_lazy_mode mode);

#ifdef CONFIG_X86_LOCAL_APIC
	void (fastcall *apic_write)(unsigned long reg, unsigned long v);
	void (fastcall *apic_write_atomic)(unsigned long reg, unsigned long v);
	unsigned long (fastcall *apic_read)(unsigned long reg);
#endif

	void (fastcall *flush_tlb_user)(void);
	void (fastcall *flush_tlb_single)(u32 addr);

	void (fastcall *set_pte)(pte_t *ptep, pte_t pteval);
	void (fastcall *set_pte_at)(struct mm_struct *mm, u32 addr, pte_t *ptep, pte_t pteval);
#ifdef CONFIG_X86_PAE
	void (fastcall *set_pte_atomic)(pte_t *ptep, pte_t pteval);
	void (fastcall *set_pud)(pud_t *pudp, pud_t pudval);
	unsigned long long (fastcall *pte_val)(pte_t);
#else
	unsigned long (fastcall *pte_val)(pte_t);
#endif

	/* These two are jmp to, not actually called. */
	void (fastcall *irq_enable_sysexit)(void);
	void (fastcall *iret)(void);

	void (fastcall *startup_ipi_hook)(int phys_apicid, unsigned long start_eip,
					  unsigned long start_esp);
};

/* Mark a paravirt probe function. */
#define paravirt_probe(fn)						\
 static asmlinkage void (*__paravirtprobe_##fn)(void) __attribute_used__ \
		__attribute__((__section__(".paravirtprobe"))) = fn

extern struct paravirt_ops paravirt_ops;

#define paravirt_enabled() (paravirt_ops.paravirt_enabled)

static inline void load_esp0(struct tss_struct *tss,
			     struct thread_struct *thread)
{
	paravirt_ops.load_esp0(tss, thread);
}

static inline unsigned long __raw_local_save_flags(void)
{
	unsigned long f;

	asm volatile("call *%1"
		     : "=a"(f)
		     : "m"(paravirt_ops.save_fl)
		     : "memory", "cc");
	return f;
}

#endif /* __ASSEMBLY__ */
#endif /* CONFIG_PARAVIRT */
#endif	/* __ASM_PARAVIRT_H */
