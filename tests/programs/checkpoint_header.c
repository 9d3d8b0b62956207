/*
 * A program that reports its own checkpoints with include/tlsleak.h: threads created and joined
 * one after another, each leaking LEAK_BYTES (0: none), a checkpoint every INTERVAL threads.
 *
 *   checkpoint_header THREADS LEAK_BYTES [INTERVAL]
 */
#define _POSIX_C_SOURCE 200809L
#include "tlsleak.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t leak;
static void *volatile last_leaked; /* the compiler must not drop malloc and memset */

static void *body(void *arg) {
    (void)arg;
    if (leak > 0) {
        char *block = malloc(leak);
        if (block == NULL)
            abort();
        memset(block, 0x5a, leak);
        last_leaked = block; /* overwritten by the next thread: the block leaks */
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s THREADS LEAK_BYTES [INTERVAL]\n", argv[0]);
        return 2;
    }
    unsigned long long threads = strtoull(argv[1], NULL, 10);
    leak = strtoul(argv[2], NULL, 10);
    unsigned long long interval = argc == 4 ? strtoull(argv[3], NULL, 10) : 10;
    if (interval == 0)
        interval = 1;
    puts("an ordinary line of the program's own output");
    fflush(stdout);
    tlsleak_start("checkpoint header", threads);
    tlsleak_checkpoint(0);
    unsigned long long done = 0;
    while (done < threads) {
        pthread_t t;
        if (pthread_create(&t, NULL, body, NULL) != 0 || pthread_join(t, NULL) != 0) {
            tlsleak_end(done, 0);
            return 1;
        }
        if (++done % interval == 0 || done == threads)
            tlsleak_checkpoint(done);
    }
    tlsleak_end(done, 1);
    return 0;
}
