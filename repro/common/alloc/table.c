/*
 * Probe order (DESIGN.md "Checkpoint line format"): the first allocator whose symbols the process
 * has is the one named, and its owns() then says whether it really serves malloc. The system
 * allocator is last and always answers. snmalloc comes before jemalloc: its shims before 0.6 export
 * a mallctl of their own. scudo comes before system: the system entry's mallinfo2 lookup would
 * otherwise read scudo's own figures as the C library's.
 */
#include "registry.h"

/* Each defined in the file of its name. */
extern const struct allocid_entry tl_alloc_mimalloc, tl_alloc_snmalloc, tl_alloc_jemalloc,
    tl_alloc_tcmalloc, tl_alloc_tbbmalloc, tl_alloc_faulty, tl_alloc_rpmalloc, tl_alloc_hoard,
    tl_alloc_scudo, tl_alloc_system;

const struct allocid_entry *const tl_allocators[] = {
    &tl_alloc_mimalloc,  &tl_alloc_snmalloc, &tl_alloc_jemalloc, &tl_alloc_tcmalloc,
    &tl_alloc_tbbmalloc, &tl_alloc_faulty,   &tl_alloc_rpmalloc, &tl_alloc_hoard,
    &tl_alloc_scudo,     &tl_alloc_system,
};
const size_t tl_allocators_count = sizeof tl_allocators / sizeof tl_allocators[0];
