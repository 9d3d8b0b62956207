/*
 * What explore_point.cpp needs from C: the C11 tss keys (threads.h is a C header). Built with
 * XP_HAVE_C11 where the toolchain has threads.h; without it every call fails.
 */
#ifndef TLSLEAK_EXPLORE_H
#define TLSLEAK_EXPLORE_H

#ifdef __cplusplus
extern "C" {
#endif

#define XP_MAX_KEYS 8

/* Key k (0 .. XP_MAX_KEYS-1) of the C11 mechanism: 0 = ok, -1 on failure or without C11. */
int xp_tss_create(unsigned k, void (*dtor)(void *value));
int xp_tss_set(unsigned k, void *value);
unsigned xp_tss_rounds(void); /* TSS_DTOR_ITERATIONS; 0 without C11 */

#ifdef __cplusplus
}
#endif

#endif
