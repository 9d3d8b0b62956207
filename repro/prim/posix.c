/*
 * Platform layer, POSIX tier: what every POSIX system gives the same way (pthreads and their
 * keys, semaphores, clocks, dlopen/dlsym). A platform file (linux.c, darwin.c) is built beside
 * this one and adds only what its OS does its own way (prim.h says which functions).
 */
#define _GNU_SOURCE
#include "posix.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

_Static_assert(sizeof(pthread_t) <= sizeof(uintptr_t), "pthread_t must fit prim_thread.handle");
_Static_assert(sizeof(pthread_key_t) <= sizeof(uintptr_t), "pthread_key_t must fit prim_tls_key");

static uint64_t page_size;

void prim_init(void) {
    long ps = sysconf(_SC_PAGESIZE);
    page_size = ps > 0 ? (uint64_t)ps : 4096;
}

uint64_t prim_posix_page_size(void) {
    return page_size;
}

unsigned long prim_pid(void) {
    return (unsigned long)getpid();
}

uint64_t prim_clock_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void prim_sleep_ms(unsigned ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void *thread_trampoline(void *arg) {
    prim_thread *t = arg;
    t->fn(t->arg);
    return NULL;
}

int prim_thread_create(prim_thread *t, prim_thread_fn fn, void *arg) {
    pthread_t pt;
    t->fn = fn;
    t->arg = arg;
    if (pthread_create(&pt, NULL, thread_trampoline, t) != 0)
        return -1;
    t->handle = (uintptr_t)pt;
    return 0;
}

/* --thread-api on POSIX (DESIGN.md "Repro command line"): one API, pthread_create. */
int prim_thread_api_set(const char *name) {
    return strcmp(name, "pthread") == 0 ? 0 : -1;
}

const char *prim_thread_api_name(void) {
    return "pthread";
}

int prim_thread_join(prim_thread *t) {
    return pthread_join((pthread_t)t->handle, NULL) == 0 ? 0 : -1;
}

int prim_thread_create_detached(prim_thread *t, prim_thread_fn fn, void *arg) {
    pthread_attr_t attr;
    pthread_t pt;
    t->fn = fn;
    t->arg = arg;
    if (pthread_attr_init(&attr) != 0)
        return -1;
    int rc = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (rc == 0)
        rc = pthread_create(&pt, &attr, thread_trampoline, t);
    pthread_attr_destroy(&attr);
    if (rc != 0)
        return -1;
    t->handle = (uintptr_t)pt;
    return 0;
}

void prim_thread_exit(void) {
    pthread_exit(NULL);
}

/* macOS has no unnamed semaphores (sem_init fails with ENOSYS): darwin.c has its own. */
#ifndef __APPLE__
int prim_sem_init(prim_sem *s) {
    sem_t *sem = malloc(sizeof *sem);
    if (sem == NULL)
        return -1;
    if (sem_init(sem, 0, 0) != 0) {
        free(sem);
        return -1;
    }
    s->handle = (uintptr_t)sem;
    return 0;
}

void prim_sem_post(prim_sem *s) {
    sem_post((sem_t *)s->handle);
}

void prim_sem_wait(prim_sem *s) {
    while (sem_wait((sem_t *)s->handle) != 0 && errno == EINTR) {
    }
}
#endif

int prim_tls_create(prim_tls_key *key, void (*dtor)(void *value)) {
    pthread_key_t k;
    if (pthread_key_create(&k, dtor) != 0)
        return -1;
    key->id = (uintptr_t)k;
    return 0;
}

int prim_tls_set(prim_tls_key key, const void *value) {
    return pthread_setspecific((pthread_key_t)key.id, value) == 0 ? 0 : -1;
}

void *prim_tls_get(prim_tls_key key) {
    return pthread_getspecific((pthread_key_t)key.id);
}

int prim_tls_delete(prim_tls_key key) {
    return pthread_key_delete((pthread_key_t)key.id) == 0 ? 0 : -1;
}

unsigned prim_tls_rounds(void) {
    return PTHREAD_DESTRUCTOR_ITERATIONS;
}

void *prim_symbol(const char *name) {
    return dlsym(RTLD_DEFAULT, name);
}

void *prim_module_open(const char *path) {
    return dlopen(path, RTLD_NOW | RTLD_LOCAL);
}

void *prim_module_symbol(void *module, const char *name) {
    return dlsym(module, name);
}

/* CMake names a MODULE library .so on every POSIX target, macOS too
 * (CMAKE_SHARED_MODULE_SUFFIX). */
int prim_posix_module_path(char *exe, const char *name, char *buf, size_t size) {
    char *slash = strrchr(exe, '/');
    if (slash == NULL)
        return -1;
    *slash = '\0';
    int len = snprintf(buf, size, "%s/%s.so", exe, name);
    return len > 0 && (size_t)len < size ? 0 : -1;
}

int prim_module_close(void *module) {
    return dlclose(module) == 0 ? 0 : -1;
}
