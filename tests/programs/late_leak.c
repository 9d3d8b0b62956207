/*
 * An ordinary program, unaware of tlsleak, whose leak starts late: POSIX threads created and
 * joined one after another, each holding a block under a thread-exit key whose destructor
 * frees it, until FROM_PERCENT of THREADS have run; from then on the destructor drops it (a
 * leak of LEAK_BYTES per thread over the last part of the run only).
 *
 *   late_leak THREADS LEAK_BYTES FROM_PERCENT
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_key_t key;
static size_t size;
static int leaking;

static void dtor(void *block) {
    if (!leaking)
        free(block);
}

static void *body(void *arg) {
    (void)arg;
    char *block = malloc(size);
    if (block == NULL)
        abort();
    memset(block, 0x5a, size); /* resident, not just reserved */
    pthread_setspecific(key, block);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s THREADS LEAK_BYTES FROM_PERCENT\n", argv[0]);
        return 2;
    }
    unsigned long threads = strtoul(argv[1], NULL, 10);
    size = strtoul(argv[2], NULL, 10);
    unsigned long from = threads / 100 * strtoul(argv[3], NULL, 10);
    if (size == 0 || pthread_key_create(&key, dtor) != 0)
        return 2;
    for (unsigned long i = 0; i < threads; i++) {
        leaking = i >= from;
        pthread_t t;
        if (pthread_create(&t, NULL, body, NULL) != 0 || pthread_join(t, NULL) != 0) {
            fprintf(stderr, "thread %lu failed\n", i);
            return 1;
        }
    }
    return 0;
}
