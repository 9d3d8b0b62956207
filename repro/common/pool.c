/*
 * The thread pool (tl_scenario.pool): `concurrency` workers, started after the first checkpoint,
 * run the body once per work item until `threads` items are done; the main thread hands out
 * the items of one checkpoint interval at a time and waits for them. The workers end, and are
 * joined, before the last checkpoint, so the OS thread count is back to its start there.
 */
#include <stdatomic.h>

#include "internal.h"

static prim_sem work;     /* one post per item to do, or per worker to stop */
static prim_sem finished; /* one post per item done */
static atomic_int stopping;
static void (*pool_body)(tl_thread *t);

static void worker(void *arg) {
    tl_thread *t = arg;
    for (;;) {
        prim_sem_wait(&work);
        if (atomic_load(&stopping))
            return;
        pool_body(t);
        prim_sem_post(&finished);
    }
}

int tl_pool_init(void) {
    return prim_sem_init(&work) == 0 && prim_sem_init(&finished) == 0 ? 0 : -1;
}

/* Stop the first `started` workers and join them; -1 when a join fails. */
static int stop_workers(const tl_spawner *sp, size_t started) {
    int rc = 0;
    atomic_store(&stopping, 1);
    for (size_t i = 0; i < started; i++)
        prim_sem_post(&work);
    for (size_t i = 0; i < started; i++) {
        if (sp->join(i) != 0)
            rc = -1;
    }
    return rc;
}

int tl_pool(const tl_params *p, const tl_scenario *s, const tl_spawner *sp, tl_thread *threads,
            void (*checkpoint)(uint64_t done), uint64_t *done) {
    size_t started = 0;
    pool_body = s->body;
    *done = 0;
    while (started < p->concurrency) {
        if (sp->start(started, worker, &threads[started]) != 0) {
            stop_workers(sp, started);
            return -1;
        }
        started++;
    }
    for (uint64_t next_cp = p->interval;; next_cp += p->interval) {
        uint64_t items = (next_cp < p->threads ? next_cp : p->threads) - *done;
        for (uint64_t i = 0; i < items; i++)
            prim_sem_post(&work);
        for (uint64_t i = 0; i < items; i++)
            prim_sem_wait(&finished);
        *done += items;
        if (*done == p->threads)
            break;
        checkpoint(*done);
    }
    if (stop_workers(sp, started) != 0)
        return -1;
    checkpoint(*done);
    return 0;
}
