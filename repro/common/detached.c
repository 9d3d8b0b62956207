/*
 * tl_detached_spawner: threads created detached, so each gives back its own stack and handle
 * as it ends and nobody joins it. The main thread still waits for each one before it reuses
 * the slot, so no more than `concurrency` are alive at once and every checkpoint sees them all
 * gone: the thread posts its slot's semaphore when its function returns (recording its OS id
 * first), and the main thread then waits until the OS no longer lists that thread, which is
 * after its thread-exit destructors have run.
 */
#include <stdlib.h>

#include "internal.h"

typedef struct detached_slot {
    prim_thread thread;
    prim_sem ended;
    uint64_t os_id; /* written by the thread before it posts `ended` */
    void (*fn)(void *);
    void *arg;
} detached_slot;

static detached_slot *slots;

static void run_detached(void *arg) {
    detached_slot *d = arg;
    d->os_id = prim_thread_id();
    d->fn(d->arg);
    prim_sem_post(&d->ended);
}

static int detached_init(size_t count) {
    slots = calloc(count, sizeof *slots);
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < count; i++) {
        if (prim_sem_init(&slots[i].ended) != 0)
            return -1;
    }
    return 0;
}

static int detached_start(size_t slot, void (*fn)(void *), void *arg) {
    detached_slot *d = &slots[slot];
    d->fn = fn;
    d->arg = arg;
    return prim_thread_create_detached(&d->thread, run_detached, d);
}

static int detached_join(size_t slot) {
    detached_slot *d = &slots[slot];
    prim_sem_wait(&d->ended);
    prim_thread_wait_gone(d->os_id);
    return 0;
}

const tl_spawner tl_detached_spawner = {detached_init, detached_start, detached_join, NULL};
