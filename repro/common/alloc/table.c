/*
 * Probe order: the first allocator whose symbols the process has is the one named, so an
 * allocator that may be loaded beside another without serving malloc comes before the ones
 * it could mask (DESIGN.md section 3). The system allocator is last and always answers.
 */
#include "registry.h"

const struct allocid_entry *const tl_allocators[] = {
    &tl_alloc_mimalloc,  &tl_alloc_jemalloc, &tl_alloc_tcmalloc,
    &tl_alloc_tbbmalloc, &tl_alloc_faulty,   &tl_alloc_system,
};
const size_t tl_allocators_count = sizeof tl_allocators / sizeof tl_allocators[0];
