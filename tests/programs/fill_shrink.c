/*
 * An ordinary program, unaware of tlsleak, with a bounded cache that fills and then shrinks,
 * as an allocator's own stress test does (mimalloc's test/test-stress.c: rounds of threads
 * whose surviving objects fill memory, then fall back): never a leak. POSIX threads are
 * created and joined one after another; each of the first FILL_THREADS adds a block of
 * BLOCK_BYTES to a global cache, the next one frees two thirds of it, and the rest only
 * malloc and free a block of their own.
 *
 *   fill_shrink THREADS FILL_THREADS BLOCK_BYTES
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void **cache;
static unsigned long filled, fill_threads;
static size_t block;

static void *body(void *arg) {
    unsigned long i = (unsigned long)(size_t)arg;
    char *b = malloc(block);
    if (b == NULL)
        abort();
    memset(b, 0x5a, block); /* resident, not just reserved */
    if (i < fill_threads) {
        cache[filled++] = b;
        return NULL;
    }
    if (i == fill_threads)
        while (filled > fill_threads / 3)
            free(cache[--filled]);
    free(b);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s THREADS FILL_THREADS BLOCK_BYTES\n", argv[0]);
        return 2;
    }
    unsigned long threads = strtoul(argv[1], NULL, 10);
    fill_threads = strtoul(argv[2], NULL, 10);
    block = strtoul(argv[3], NULL, 10);
    cache = calloc(fill_threads + 1, sizeof *cache);
    if (cache == NULL || block == 0)
        return 2;
    for (unsigned long i = 0; i < threads; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, body, (void *)(size_t)i) != 0 || pthread_join(t, NULL) != 0) {
            fprintf(stderr, "thread %lu failed\n", i);
            return 1;
        }
    }
    return 0;
}
