/*
 * An ordinary C11 program, unaware of tlsleak: <threads.h> threads created and joined one after
 * another, each holding a block under a tss_create key whose destructor frees it, unless the
 * program was asked to leak.
 *
 *   churn_c11 THREADS LEAK_BYTES
 *
 * LEAK_BYTES > 0: the block is that big and the destructor drops it. LEAK_BYTES = 0, the twin:
 * a 2048-byte block, freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

static tss_t key;
static size_t leak;

static void dtor(void *block) {
    if (leak == 0)
        free(block);
}

static int body(void *arg) {
    (void)arg;
    size_t size = leak > 0 ? leak : 2048;
    char *block = malloc(size);
    if (block == NULL)
        abort();
    memset(block, 0x5a, size);
    tss_set(key, block);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s THREADS LEAK_BYTES\n", argv[0]);
        return 2;
    }
    unsigned long threads = strtoul(argv[1], NULL, 10);
    leak = strtoul(argv[2], NULL, 10);
    if (tss_create(&key, dtor) != thrd_success)
        return 1;
    for (unsigned long i = 0; i < threads; i++) {
        thrd_t t;
        if (thrd_create(&t, body, NULL) != thrd_success || thrd_join(t, NULL) != thrd_success) {
            fprintf(stderr, "thread %lu failed\n", i);
            return 1;
        }
    }
    printf("done %lu threads\n", threads);
    return 0;
}
