/*
 * How often a thread's key destructors run: one key whose destructor sets the key again every
 * time (glibc calls it once per round, PTHREAD_DESTRUCTOR_ITERATIONS times), one that sets it
 * again once, one that never does. Prints "always=A once=B never=C" after the join.
 *
 *   dtor_rounds
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>

static pthread_key_t always, once, never;
static int calls_always, calls_once, calls_never;

static void dtor_always(void *v) {
    calls_always++;
    pthread_setspecific(always, v);
}

static void dtor_once(void *v) {
    if (++calls_once == 1)
        pthread_setspecific(once, v);
}

static void dtor_never(void *v) {
    (void)v;
    calls_never++;
}

static void *body(void *arg) {
    pthread_setspecific(always, arg);
    pthread_setspecific(once, arg);
    pthread_setspecific(never, arg);
    return NULL;
}

int main(void) {
    static int value;
    pthread_t t;
    if (pthread_key_create(&always, dtor_always) != 0 ||
        pthread_key_create(&once, dtor_once) != 0 || pthread_key_create(&never, dtor_never) != 0 ||
        pthread_create(&t, NULL, body, &value) != 0 || pthread_join(t, NULL) != 0)
        return 1;
    printf("always=%d once=%d never=%d\n", calls_always, calls_once, calls_never);
    return 0;
}
