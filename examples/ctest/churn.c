/*
 * Threads created and joined one after another; each mallocs a 2 KiB block, holds it under a
 * thread-exit key, and the key's destructor frees it when LEAK_BYTES is 0 (else the block
 * leaks). With WITH_CHECKPOINTS it reports `TLSLEAK/1 cp` lines through tlsleak.h.
 *
 *   churn THREADS
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef WITH_CHECKPOINTS
#include "tlsleak.h"
#endif

#define BLOCK_BYTES 2048

static pthread_key_t key;

static void dtor(void *block) {
    if (LEAK_BYTES == 0)
        free(block);
}

static void *body(void *arg) {
    (void)arg;
    char *block = malloc(BLOCK_BYTES);
    if (block == NULL)
        abort();
    memset(block, 1, BLOCK_BYTES);
    pthread_setspecific(key, block);
    return NULL;
}

int main(int argc, char **argv) {
    unsigned long threads = argc > 1 ? strtoul(argv[1], NULL, 10) : 4000;
    if (pthread_key_create(&key, dtor) != 0)
        return 1;
#ifdef WITH_CHECKPOINTS
    tlsleak_checkpoint(0);
#endif
    for (unsigned long done = 1; done <= threads; done++) {
        pthread_t t;
        if (pthread_create(&t, NULL, body, NULL) != 0 || pthread_join(t, NULL) != 0) {
            fprintf(stderr, "thread %lu failed\n", done);
            return 1;
        }
#ifdef WITH_CHECKPOINTS
        if (done % 100 == 0)
            tlsleak_checkpoint(done);
#endif
    }
    return 0;
}
