/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A fault's class from what the hooks saw: pure functions, written once
 * for the BPF outcome programs and the unit test that checks them against
 * the kernel's rules (tests/unit/test_classify.c).
 */
#ifndef PFWATCH_CLASSIFY_H
#define PFWATCH_CLASSIFY_H

#include "pfwatch.h"

#ifdef __VMLINUX_H__
/* vmlinux.h holds the kernel's enums but not its macros: the uapi values
 * (include/uapi/asm-generic/signal.h and siginfo.h). */
#define SIGBUS		7
#define SIGSEGV		11
#define SEGV_MAPERR	1
#define SEGV_ACCERR	2
#define SEGV_PKUERR	4
#define BUS_MCEERR_AR	4
#define BUS_MCEERR_AO	5
#else
#include <signal.h>
#include <stdbool.h>
/* Userspace has the signal macros but not the kernel's mm enums, which BPF
 * takes from vmlinux.h: their values, from include/linux/mm_types.h. */
enum vm_fault_reason {
	VM_FAULT_OOM = 0x000001,
	VM_FAULT_SIGBUS = 0x000002,
	VM_FAULT_MAJOR = 0x000004,
	VM_FAULT_HWPOISON = 0x000010,
	VM_FAULT_HWPOISON_LARGE = 0x000020,
	VM_FAULT_SIGSEGV = 0x000040,
	VM_FAULT_RETRY = 0x000400,
};

enum fault_flag {
	FAULT_FLAG_WRITE = 1 << 0,
	FAULT_FLAG_TRIED = 1 << 5,
};
#endif

/* Not a class: another hook decides (a retry follows, or signal_generate
 * classifies the fault), or the signal is not one a fault raises. */
#define FAULT_NOT_MINE NR_FAULT_CLASSES

/* What the fault touched, as far as the hooks could tell. */
enum mapping_hint { HINT_UNKNOWN, HINT_ANON, HINT_FILE, HINT_SWAP };

struct fault_hints {
	__u8 vma;		/* enum mapping_hint: the vma or filemap_fault */
	__u8 rss;		/* the last RSS counter the fault changed */
	__u8 private_copy;	/* the fault copied a file page privately */
	__u8 shared;		/* a shared mapping (fexit and kprobe only) */
	__u8 huge;		/* it allocated an anonymous huge page */
	__u8 numa;		/* NUMA balancing's hint fault ran in it */
	__u8 uffd;		/* it waited off-CPU or retried, in a registered range */
	__u8 huge_fallback;	/* a huge page was wanted, none was free */
};

/* fexit and kprobe: what the vma says, and whether a write to it copies a
 * file's page into a private one. */
static __always_inline void hint_vma(struct fault_hints *hints, bool file,
				     bool shared, __u32 flags)
{
	hints->vma = file ? HINT_FILE : HINT_ANON;
	hints->shared = shared;
	hints->private_copy = file && !shared && (flags & FAULT_FLAG_WRITE);
}

/* The first rule that holds decides; each class's rule is written once. */
static __always_inline __u32 minor_class(__u32 error_code,
					 const struct fault_hints *hints)
{
	__u32 write_to_present = PF_ERR_PROT | PF_ERR_WRITE;

	if (hints->numa)
		return FAULT_NUMA_HINT;
	/* A shared mapping's page is only marked dirty (wp_page_shared). */
	if (((error_code & write_to_present) == write_to_present && !hints->shared) ||
	    hints->private_copy)
		return FAULT_COW;
	/* The vma, where a hook saw it, over the RSS counters, which other
	 * work of the fault may move (a batch folded before 6.2). */
	if (hints->vma == HINT_FILE ||
	    (hints->vma == HINT_UNKNOWN && hints->rss == HINT_FILE))
		return FAULT_FILE_CACHED;
	/* A swap-in that found its page cached: minor, no I/O. */
	if (hints->rss == HINT_SWAP)
		return FAULT_SWAP_CACHE;
	if (hints->huge)
		return FAULT_ANON_THP;
	return FAULT_ANON_ZERO;
}

/* The vma knows best; without one, the RSS counter the fault changed. */
static __always_inline __u32 major_class(const struct fault_hints *hints)
{
	__u8 hint = hints->vma != HINT_UNKNOWN ? hints->vma : hints->rss;

	return hint == HINT_ANON || hint == HINT_SWAP ? FAULT_SWAP_IN
						      : FAULT_FILE_READ;
}

/*
 * A fault the kernel completed, minor or major. A userfaultfd fault is
 * one class whichever the kernel counted it (a retry after the handler's
 * reply is major on some kernels): the outcome counts which, apart.
 */
static __always_inline __u32 completed_class(bool major, __u32 error_code,
					     const struct fault_hints *hints)
{
	if (hints->uffd)
		return FAULT_UFFD;
	return major ? major_class(hints) : minor_class(error_code, hints);
}

/* mm_account_fault's rule: a second try (FAULT_FLAG_TRIED) is major. */
static __always_inline bool outcome_major(__u32 ret, __u32 flags)
{
	return (ret & VM_FAULT_MAJOR) || (flags & FAULT_FLAG_TRIED);
}

/*
 * fexit and kretprobe: handle_mm_fault's return value for a fault with
 * these flags, read as mm_account_fault() and the arch's mm_fault_error()
 * read it: a retry is counted when it completes; out of memory comes
 * before the signal bits (no signal follows it); the signal bits are left
 * to signal_generate; a second try (FAULT_FLAG_TRIED) is major.
 */
static __always_inline __u32 outcome_class(__u32 ret, __u32 flags,
					   __u32 error_code,
					   const struct fault_hints *hints)
{
	if (ret & VM_FAULT_RETRY)
		return FAULT_NOT_MINE;
	if (ret & (VM_FAULT_OOM | VM_FAULT_HWPOISON | VM_FAULT_HWPOISON_LARGE))
		return FAULT_OTHER_ERROR;
	if (ret & (VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV))
		return FAULT_NOT_MINE;
	return completed_class(outcome_major(ret, flags), error_code, hints);
}

/* signal_generate: a signal with this si_code, if a fault raised it. */
static __always_inline __u32 signal_class(int sig, int code)
{
	if (code <= 0)	/* sent by a process (kill, tgkill), not a fault */
		return FAULT_NOT_MINE;
	if (sig == SIGSEGV) {
		if (code == SEGV_MAPERR)
			return FAULT_SEGV_MAPERR;
		if (code == SEGV_ACCERR || code == SEGV_PKUERR)
			return FAULT_SEGV_ACCERR;
		return FAULT_NOT_MINE;
	}
	if (sig != SIGBUS)
		return FAULT_NOT_MINE;
	if (code == BUS_MCEERR_AR || code == BUS_MCEERR_AO)
		return FAULT_OTHER_ERROR;	/* hardware poison */
	return FAULT_SIGBUS;
}

#endif /* PFWATCH_CLASSIFY_H */
