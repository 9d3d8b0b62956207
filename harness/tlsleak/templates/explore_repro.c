/* $title $key
@@if build
 * Build: $build
@@end
 * Run:   $run   (args: threads every; prints: threads_done rss_bytes) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
@@if c11
#include <threads.h>
@@end
@@if detached
#include <sched.h>
@@end
enum { SIZE = $size, KEYS = $keys, ROUND = $round, CONC = $concurrency, HELD = $held };
static struct ctx { int k, round; void *held[HELD]; void *out; } ctxs[CONC][KEYS];
@@if !cxx
static $key_type keys[KEYS];
@@end
@@if tlsvar
static __thread struct ctx *mine[KEYS]; /* what the destructor reads */
@@end
static void *touch(void *p, size_t n) {
    if (p == NULL) abort();
    __asm__ volatile("" : : "r"(p) : "memory"); /* keep the block */
    return memset(p, 0xA5, n);
}
@@if fill
static void *fill(size_t n) { return touch(malloc(n), n); }
@@end
@@if cxx
struct acting { /* a thread_local object whose destructor acts */
    struct ctx *c = nullptr;
    ~acting() {
        if (c == nullptr) return;
        $action_cxx
    }
};
static thread_local acting actors[KEYS];
@@else
static void dtor(void *v) { /* re-armed until round ROUND, then acts */
    struct ctx *c = $value;
    if (++c->round < ROUND) { $set_key; return; }
    $action
}
@@end
static void *body(void *v) {
    struct ctx *c = (struct ctx *)v;
    for (int k = 0; k < KEYS; k++) {
        c[k].k = k, c[k].round = 0;
@@if holds prealloc
        for (int i = 0; i < HELD; i++) c[k].held[i] = fill(SIZE);
@@end
@@if cxx
        actors[k].c = &c[k];
@@end
@@if tlsvar
        mine[k] = &c[k];
        pthread_setspecific(keys[k], (void *)(long)(k + 1));
@@end
@@if !cxx !tlsvar
        $set_own_key;
@@end
    }
@@if prealloc !holds
    free(fill(SIZE)); /* the thread uses the allocator before its exit */
@@end
@@if exit
    pthread_exit(NULL);
@@else
    return NULL;
@@end
}
@@if !cxx
static void make_keys(void) {
    for (int k = 0; k < KEYS; k++) $create_key;
}
@@if early_key
/* keys made before any allocator initialises, even a preloaded one */
__attribute__((used, section(".preinit_array"))) static void (*early)(void) = make_keys;
@@end
@@end
static long proc(const char *path, const char *format) { /* a number in /proc */
    long v = 0;
    FILE *f = fopen(path, "r");
    if (f != NULL && fscanf(f, format, &v) != 1) v = 0;
    if (f != NULL) fclose(f);
    return v;
}
static long rss(void) {
    return proc("/proc/self/statm", "%*s %ld") * sysconf(_SC_PAGESIZE);
}
@@if detached
static long threads(void) { /* field 20 of stat: num_threads */
    return proc("/proc/self/stat", "%*d %*s %*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %ld");
}
@@end
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 20000, every = argc > 2 ? atol(argv[2]) : 1000;
    pthread_t t[CONC];
@@if !cxx !early_key
    free(fill(SIZE)); make_keys(); /* the allocator initialises first */
@@end
    setvbuf(stdout, NULL, _IOLBF, 0);
@@if detached
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
@@end
    for (long done = 0, next = 0;; done += CONC) {
        if (done >= next || done >= n)
            printf("%ld %ld\n", done, rss()), next += every;
        if (done >= n) break;
@@if holds !prealloc
        for (int s = 0; s < CONC; s++) /* the main thread allocates */
            for (int k = 0; k < KEYS; k++)
                for (int i = 0; i < HELD; i++) ctxs[s][k].held[i] = fill(SIZE);
@@end
        for (int s = 0; s < CONC; s++)
            if (pthread_create(&t[s], $attr, body, ctxs[s]) != 0) return 1;
@@if detached
        while (threads() > 1) sched_yield(); /* until the OS let them go */
@@else
        for (int s = 0; s < CONC; s++) pthread_join(t[s], NULL);
@@end
@@if handoff
        for (int s = 0; s < CONC; s++)
            for (int k = 0; k < KEYS; k++) free(ctxs[s][k].out);
@@end
    }
    return 0;
}
