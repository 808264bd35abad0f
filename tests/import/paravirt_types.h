/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test header in the style of arch/x86/include/asm/paravirt_types.h (Linux 2.6.30
 * and later): callee-save thunks, nested page-table-level conditions, kernel
 * attributes, and constructs pvgen cannot carry over. Written for pvgen's tests.
 */
#ifndef _ASM_X86_PARAVIRT_TYPES_H
#define _ASM_X86_PARAVIRT_TYPES_H

#ifndef __ASSEMBLY__
#include <asm/desc_defs.h>
#include <asm/pgtable_types.h>

struct page;
struct thread_struct;
struct mm_struct;
struct task_struct;
struct cpumask;
struct flush_tlb_info;

/*
 * Wrapper type for pointers to code which uses the non-standard
 * calling convention.  See PV_CALL_SAVE_REGS_THUNK below.
 */
struct paravirt_callee_save {
	void *func;
};

/* general info */
struct pv_info {
#ifdef CONFIG_PARAVIRT_XXL
	u16 extra_user_64bit_cs;  /* __USER_CS if none */
#endif
	const char *name;
};

struct pv_lazy_ops {
	/* Set deferred update mode, used for batching operations. */
	void (*enter)(void);
	void (*leave)(void);
	void (*flush)(void);
} __no_randomize_layout;

struct pv_cpu_ops {
	/* hooks for various privileged instructions */
	void (*io_delay)(void);

#ifdef CONFIG_PARAVIRT_XXL
	unsigned long (*get_debugreg)(int regno);
	void (*set_debugreg)(int regno, unsigned long value);

	void (*load_sp0)(unsigned long sp0);

	void (*cpuid)(unsigned int *eax, unsigned int *ebx,
		      unsigned int *ecx, unsigned int *edx);

	/* Unsafe MSR operations.  These will warn or panic on failure. */
	u64 (*read_msr)(unsigned int msr);
	void (*write_msr)(unsigned int msr, unsigned low, unsigned high);
#endif
	void (*start_context_switch)(struct task_struct *prev);
	void (*end_context_switch)(struct task_struct *next);
} __no_randomize_layout;

struct pv_irq_ops {
#ifdef CONFIG_PARAVIRT_XXL
	/*
	 * Get/set interrupt state.  save_fl is expected to use X86_EFLAGS_IF;
	 * all other bits returned from save_fl are undefined.
	 *
	 * NOTE: These functions callers expect the callee to preserve
	 * more registers than the standard C calling convention.
	 */
	struct paravirt_callee_save save_fl;
	struct paravirt_callee_save irq_disable;
	struct paravirt_callee_save irq_enable;

	void (*safe_halt)(void);
	void (*halt)(void);
#endif
} __no_randomize_layout;

struct pv_mmu_ops {
	/* TLB operations */
	void (*flush_tlb_user)(void);
	void (*flush_tlb_multi)(const struct cpumask *cpus,
				const struct flush_tlb_info *info);

	void (*tlb_remove_table)(struct mmu_gather *tlb, void *table);

	/* Hook for intercepting the destruction of an mm_struct. */
	void (*exit_mmap)(struct mm_struct *mm);
	void (*notify_page_enc_status_changed)(unsigned long pfn, int npages, bool enc);

#ifdef CONFIG_PARAVIRT_XXL
	struct paravirt_callee_save read_cr2;
	void (*write_cr2)(unsigned long);

	/* Pagetable manipulation functions */
	void (*set_pte)(pte_t *ptep, pte_t pteval);

	struct paravirt_callee_save pte_val;
	struct paravirt_callee_save make_pte;

#if CONFIG_PGTABLE_LEVELS >= 4
	struct paravirt_callee_save pud_val;
	void (*set_p4d)(p4d_t *p4dp, p4d_t p4dval);

#if CONFIG_PGTABLE_LEVELS >= 5
	struct paravirt_callee_save p4d_val;
#endif	/* CONFIG_PGTABLE_LEVELS >= 5 */
#elif defined(CONFIG_X86_PAE) || IS_ENABLED(CONFIG_X86_HIGHPTE)
	void (*set_pud)(pud_t *pudp, pud_t pudval);
#else
	void (*set_pmd_only)(pmd_t *pmdp, pmd_t pmdval);
#endif	/* CONFIG_PGTABLE_LEVELS >= 4 */

	struct pv_lazy_ops lazy_mode;

	/* Sometimes the physical address is a pfn, and sometimes its
	   an mfn.  We can tell which is which from the index. */
	void (*set_fixmap)(unsigned /* enum fixed_addresses */ idx,
			   phys_addr_t phys, pgprot_t flags);
#endif
} __no_randomize_layout;

/* Constructs the importer has to report rather than translate. */
struct pv_odd_ops {
	void (*with_callback)(void (*fn)(void *), void *data);
	int (*printk_like)(const char *fmt, ...);
	unsigned int flags : 4;
	u8 pad[3];
	union {
		u32 word;
		u8 bytes[4];
	} raw;
	void (*regparm_hook)(int a, int b) __attribute__((regparm(3)));
	void (*aligned_hook)(void) __aligned(8);
	asmlinkage void (*stack_hook)(unsigned long a);
#if FANCY_MACRO(3)
	void (*fancy)(void);
#endif
	void (*new)(int class);
};

struct paravirt_patch_template {
	struct pv_cpu_ops	cpu;
	struct pv_irq_ops	irq;
	struct pv_mmu_ops	mmu;
} __no_randomize_layout;

extern struct pv_info pv_info;
extern struct paravirt_patch_template pv_ops;

#define PARAVIRT_PATCH(x)					\
	(offsetof(struct paravirt_patch_template, x) / sizeof(void *))

/* Callee-save wrappers: from these the importer learns the thunks' signatures. */
static __always_inline unsigned long arch_local_save_flags(void)
{
	return PVOP_ALT_CALLEE0(unsigned long, irq.save_fl, "pushf; pop %%rax;",
				ALT_NOT_XEN);
}

static __always_inline void arch_local_irq_disable(void)
{
	PVOP_VCALLEE0(irq.irq_disable);
}

static inline pte_t __pte(pteval_t val)
{
	return (pte_t) { PVOP_CALLEE1(pteval_t, mmu.make_pte, val) };
}

static inline pteval_t pte_val(pte_t pte)
{
	return PVOP_CALLEE1(pteval_t, mmu.pte_val, pte.pte);
}

static inline unsigned long read_cr2(void)
{
	return PVOP_CALLEE0(unsigned long, mmu.read_cr2);
}

#endif	/* __ASSEMBLY__ */
#endif	/* _ASM_X86_PARAVIRT_TYPES_H */
