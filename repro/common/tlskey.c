/*
 * The one place that picks the thread-exit key mechanism, from the build setting TLSLEAK_TLS
 * (compiled once per scenario program):
 *   pthread  the OS key of prim.h (pthread_key_create; FlsAlloc on Windows)
 *   c11      C11 tss_create
 *   cxx      C++ thread_local, used directly by the scenario: no key here
 *   none     no thread-exit destructor at all
 */
#include "repro.h"

#define TL_MECH_none 1
#define TL_MECH_pthread 2
#define TL_MECH_c11 3
#define TL_MECH_cxx 4
#define TL_PASTE(a, b) a##b
#define TL_MECH_OF(m) TL_PASTE(TL_MECH_, m)
#define TL_STR(x) #x
#define TL_XSTR(x) TL_STR(x)

#ifndef TLSLEAK_TLS
#error "TLSLEAK_TLS must be set by the build: none, pthread, c11 or cxx"
#endif
#define TL_MECH TL_MECH_OF(TLSLEAK_TLS)
#if TL_MECH < TL_MECH_none || TL_MECH > TL_MECH_cxx
#error "TLSLEAK_TLS must be none, pthread, c11 or cxx"
#endif

/* A scenario that registers its own thread-exit hook links the `none` key under its name. */
const char *tl_key_mechanism(void) {
#ifdef TLSLEAK_TLS_NAME
    return TLSLEAK_TLS_NAME;
#else
    return TL_XSTR(TLSLEAK_TLS);
#endif
}

#if TL_MECH == TL_MECH_pthread
#include "../prim/prim.h"

static prim_tls_key key;

int tl_key_create(void (*dtor)(void *value)) {
    return prim_tls_create(&key, dtor);
}

int tl_key_set(const void *value) {
    return prim_tls_set(key, value);
}

void *tl_key_get(void) {
    return prim_tls_get(key);
}

int tl_key_delete(void) {
    return prim_tls_delete(key);
}

unsigned tl_key_rounds(void) {
    return prim_tls_rounds();
}

#elif TL_MECH == TL_MECH_c11
#include <threads.h>

static tss_t key;

int tl_key_create(void (*dtor)(void *value)) {
    return tss_create(&key, dtor) == thrd_success ? 0 : -1;
}

int tl_key_set(const void *value) {
    return tss_set(key, (void *)value) == thrd_success ? 0 : -1;
}

void *tl_key_get(void) {
    return tss_get(key);
}

int tl_key_delete(void) {
    tss_delete(key);
    return 0;
}

unsigned tl_key_rounds(void) {
    return TSS_DTOR_ITERATIONS;
}

#else /* none, cxx */

int tl_key_create(void (*dtor)(void *value)) {
    (void)dtor;
    return -1;
}

int tl_key_set(const void *value) {
    (void)value;
    return -1;
}

void *tl_key_get(void) {
    return NULL;
}

int tl_key_delete(void) {
    return -1;
}

unsigned tl_key_rounds(void) {
    return 0;
}

#endif

/* Mechanism-neutral, on top of the above. */

void tl_key_arm(tl_thread *t) {
    t->round = 0;
    if (tl_key_set(t) != 0)
        tl_fatal("cannot set the thread-exit key");
}

int tl_key_rearm(tl_thread *t) {
    if (++t->round >= tl_key_rounds())
        return 0;
    if (tl_key_set(t) != 0)
        tl_fatal("cannot set the thread-exit key again");
    return 1;
}
