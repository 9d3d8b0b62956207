/*
 * tl_run: the life of every scenario program, in the order DESIGN.md "Checkpoint line format"
 * prints it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static uint64_t t0;
static tl_thread *threads; /* one per slot, for the whole run */

/* A joined thread can stay listed by the OS for a moment after pthread_join returns (the
 * kernel wakes the joiner before it removes the task), so a thread count read right after a
 * join may count it. Read again until the count stops falling: a few milliseconds at most. */
static void mem_read_settled(prim_mem *m) {
    prim_mem_read(m);
    for (int i = 0; i < 10 && (m->have & PRIM_HAVE_THREADS); i++) {
        uint64_t before = m->threads;
        prim_sleep_ms(1);
        prim_mem_read(m);
        if (m->threads >= before)
            break;
    }
}

static void checkpoint(uint64_t done) {
    uint64_t now = prim_clock_ns();
    if (done == 0)
        t0 = now; /* time counts from the first checkpoint */
    prim_mem m;
    tl_heap h;
    mem_read_settled(&m);
    tl_alloc_stats(&h);
    tl_report_cp(done, now - t0, &m, &h);
}

int tl_run(int argc, char **argv, const tl_scenario *s) {
    char err[256];
    tl_params p;
    switch (tl_args_parse(argc, argv, &p, err, sizeof err)) {
        case TL_ARGS_OK:
            break;
        case TL_ARGS_HELP:
            fputs(tl_usage, stdout);
            return 0;
        default:
            fprintf(stderr, "%s: %s\n", s->name, err);
            return 2;
    }

    prim_init();
    const tl_spawner *sp = s->spawner != NULL ? s->spawner : &tl_prim_spawner;
    if (p.thread_api[0] != '\0' && !(sp->api != NULL && strcmp(p.thread_api, sp->api) == 0)) {
        /* An OS API replaces a scenario's own spawner (std::thread) by the OS threads. */
        if (prim_thread_api_set(p.thread_api) != 0) {
            fprintf(stderr, "%s: --thread-api: '%s' is not offered by this build\n", s->name,
                    p.thread_api);
            return 2;
        }
        if (sp->api != NULL)
            sp = &tl_prim_spawner;
    }
    tl_report_start(s->name, tl_key_mechanism(), sp->api != NULL ? sp->api : prim_thread_api_name(),
                    &p);

    /* Identify before the first checkpoint: the probe malloc also initialises the allocator
     * on the main thread, which is not thread churn. */
    static tl_alloc_info alloc;
    tl_alloc_identify(&alloc, (size_t)p.size);
    tl_report_alloc(&alloc);

    if (s->setup != NULL && s->setup(&p) != 0)
        tl_fatal("scenario setup failed");
    threads = calloc((size_t)p.concurrency, sizeof *threads);
    if (threads == NULL || sp->init((size_t)p.concurrency) != 0)
        tl_fatal("cannot allocate thread slots");
    for (size_t i = 0; i < p.concurrency; i++) {
        threads[i].params = &p;
        threads[i].slot = i;
    }
    if (s->pool && tl_pool_init() != 0)
        tl_fatal("cannot set up the thread pool");

    checkpoint(0);
    uint64_t done = 0;
    int rc = s->pool ? tl_pool(&p, s, sp, threads, checkpoint, &done)
                     : tl_churn(&p, s, sp, threads, checkpoint, &done);
    if (rc != 0) {
        fprintf(stderr, "%s: thread create or join failed after %llu threads\n", s->name,
                (unsigned long long)done);
        tl_report_end(done, "error");
        return 1;
    }
    tl_report_end(done, "ok");
    return 0;
}
