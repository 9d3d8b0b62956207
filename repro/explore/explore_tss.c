/*
 * C11 tss keys for explore_point, which is C++ (for thread_local) and so cannot include
 * threads.h itself.
 */
#include "explore.h"

#ifdef XP_HAVE_C11
#include <threads.h>

static tss_t keys[XP_MAX_KEYS];

int xp_tss_create(unsigned k, void (*dtor)(void *value)) {
    return k < XP_MAX_KEYS && tss_create(&keys[k], dtor) == thrd_success ? 0 : -1;
}

int xp_tss_set(unsigned k, void *value) {
    return k < XP_MAX_KEYS && tss_set(keys[k], value) == thrd_success ? 0 : -1;
}

unsigned xp_tss_rounds(void) {
    return TSS_DTOR_ITERATIONS;
}

#else

int xp_tss_create(unsigned k, void (*dtor)(void *value)) {
    (void)k;
    (void)dtor;
    return -1;
}

int xp_tss_set(unsigned k, void *value) {
    (void)k;
    (void)value;
    return -1;
}

unsigned xp_tss_rounds(void) {
    return 0;
}

#endif
