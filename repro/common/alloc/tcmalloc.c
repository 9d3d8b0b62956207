/*
 * gperftools tcmalloc: owns by MallocExtension_GetOwnership, version by tc_version, statistics
 * by MallocExtension_GetNumericProperty: heap_inuse generic.current_allocated_bytes,
 * heap_mapped generic.heap_size, alloc_tcache tcmalloc.current_total_thread_cache_bytes (the
 * free blocks cached, not the ThreadCache structs). gperftools (2.10) has no numeric property
 * for its metadata or for the number of thread caches ("tcmalloc.metadata_bytes" and
 * "tcmalloc.thread_cache_count" are Google tcmalloc's, which has no C API).
 */
#include <stdio.h>

#include "registry.h"

typedef const char *(*tc_version_fn)(int *major, int *minor, const char **patch);
typedef int (*tc_get_ownership_fn)(const void *p); /* 0 unknown, 1 owned, 2 not owned */
typedef int (*tc_get_numeric_property_fn)(const char *property, size_t *value);

static tc_version_fn version_fn;
static tc_get_ownership_fn ownership_fn;
static tc_get_numeric_property_fn numeric_fn;

static bool probe(const tl_alloc_info *a) {
    (void)a;
    TL_LOOKUP(version_fn, "tc_version");
    TL_LOOKUP(ownership_fn, "MallocExtension_GetOwnership");
    if (version_fn == NULL && ownership_fn == NULL)
        return false;
    TL_LOOKUP(numeric_fn, "MallocExtension_GetNumericProperty");
    return true;
}

static int owns(const tl_alloc_info *a, void *block) {
    (void)a;
    return ownership_fn != NULL && ownership_fn(block) == 1;
}

/* tc_version()'s string as it returns it ("gperftools 2.10"): the harness decodes it. */
static void version(const tl_alloc_info *a, char *buf, size_t size) {
    (void)a;
    if (version_fn == NULL)
        return;
    int major = 0, minor = 0;
    const char *patch = "";
    const char *text = version_fn(&major, &minor, &patch);
    snprintf(buf, size, "%s", text != NULL ? text : "");
}

/* A numeric property into *out; `bit` if tcmalloc answered, else 0. */
static unsigned tc_size(const char *name, uint64_t *out, unsigned bit) {
    size_t value = 0;
    if (!numeric_fn(name, &value))
        return 0;
    *out = value;
    return bit;
}

static void stats(tl_heap *h) {
    if (numeric_fn == NULL)
        return;
    h->have |= tc_size("generic.current_allocated_bytes", &h->inuse, TL_HEAP_INUSE);
    h->have |= tc_size("generic.heap_size", &h->mapped, TL_HEAP_MAPPED);
    h->have |= tc_size("tcmalloc.current_total_thread_cache_bytes", &h->tcache, TL_HEAP_TCACHE);
}

const struct allocid_entry tl_alloc_tcmalloc = {"tcmalloc", probe, owns, version, stats};
