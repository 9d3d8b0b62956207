/*
 * An ordinary program, unaware of tlsleak: POSIX threads created one after another, each
 * holding a block under a thread-exit key (pthread_key_create). Its destructor frees the block,
 * unless the program was asked to leak.
 *
 *   churn_pthread THREADS LEAK_BYTES [join|detach]
 *
 * LEAK_BYTES > 0: each thread's block is that big and the destructor drops it (a leak of
 * LEAK_BYTES per thread). LEAK_BYTES = 0, the twin: a 2048-byte block, freed.
 * detach: threads are detached; main waits for each body to end before the next, and ends
 * with pthread_exit so the process lives until the last thread is gone.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_key_t key;
static size_t leak;
static sem_t body_done;

static void dtor(void *block) {
    if (leak == 0)
        free(block);
}

static void *body(void *arg) {
    (void)arg;
    size_t size = leak > 0 ? leak : 2048;
    char *block = malloc(size);
    if (block == NULL)
        abort();
    memset(block, 0x5a, size); /* resident, not just reserved */
    pthread_setspecific(key, block);
    sem_post(&body_done);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4 ||
        (argc == 4 && strcmp(argv[3], "join") != 0 && strcmp(argv[3], "detach") != 0)) {
        fprintf(stderr, "usage: %s THREADS LEAK_BYTES [join|detach]\n", argv[0]);
        return 2;
    }
    unsigned long threads = strtoul(argv[1], NULL, 10);
    leak = strtoul(argv[2], NULL, 10);
    int detach = argc == 4 && strcmp(argv[3], "detach") == 0;
    if (pthread_key_create(&key, dtor) != 0 || sem_init(&body_done, 0, 0) != 0)
        return 1;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (detach)
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (unsigned long i = 0; i < threads; i++) {
        pthread_t t;
        if (pthread_create(&t, &attr, body, NULL) != 0) {
            fprintf(stderr, "pthread_create failed after %lu threads\n", i);
            return 1;
        }
        sem_wait(&body_done);
        if (!detach && pthread_join(t, NULL) != 0)
            return 1;
    }
    printf("done %lu threads\n", threads);
    fflush(stdout);
    if (detach)
        pthread_exit(NULL);
    return 0;
}
