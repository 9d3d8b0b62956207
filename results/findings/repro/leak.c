/* Standalone repro of the thread-teardown leaks in results/findings/ (libc + pthread only).
 *
 * Usage: ./leak THREADS EVERY ROUND FIRST SIZE [CONC]
 *   THREADS  threads to create and join, CONC at a time (default 1)
 *   EVERY    print "threads_done rss_bytes" every EVERY threads (RSS from /proc/self/statm)
 *   ROUND    0: no key: the thread body mallocs, writes and frees SIZE bytes;
 *            1-4: a pthread key destructor re-arms itself until destructor round ROUND
 *            (glibc runs at most 4, PTHREAD_DESTRUCTOR_ITERATIONS), then mallocs, writes
 *            and frees SIZE bytes
 *   FIRST    1: the thread body never calls malloc, so the destructor's is the thread's first;
 *            0: the body mallocs, writes and frees SIZE bytes first
 * Build: cc -O2 -Wall -Wextra -pthread leak.c -o leak
 * Run:   LD_PRELOAD=/path/to/liballocator.so ./leak 20000 1000 4 1 1024
 * The rate of a leak is (rss_last - rss_at_20%) / (threads_last - threads_at_20%). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_CONC = 64 };
static long round_at, first, size;
static pthread_key_t key;
static int rounds[MAX_CONC];

static void use(size_t n) {
    char *p = malloc(n);
    if (p == NULL)
        abort();
    memset(p, 0xA5, n);                         /* every page touched: RSS counts the whole block */
    __asm__ volatile("" : : "r"(p) : "memory"); /* the compiler may not drop the pair */
    free(p);
}

static void use_block(void) {
    use((size_t)size);
}

static void dtor(void *v) {
    int *round = v;
    if (++*round < round_at) {
        pthread_setspecific(key, v); /* re-armed: glibc calls it again in the next round */
        return;
    }
    use_block();
}

static void *body(void *v) {
    if (!first || round_at == 0)
        use_block();
    if (round_at > 0) {
        *(int *)v = 0;
        pthread_setspecific(key, v);
    }
    return NULL;
}

static long rss(void) {
    long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return 0;
    if (fscanf(f, "%*s %ld", &pages) != 1)
        pages = 0;
    fclose(f);
    return pages * sysconf(_SC_PAGESIZE);
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s THREADS EVERY ROUND FIRST SIZE [CONC]\n", argv[0]);
        return 2;
    }
    long n = atol(argv[1]), every = atol(argv[2]), conc = argc > 6 ? atol(argv[6]) : 1;
    round_at = atol(argv[3]), first = atol(argv[4]), size = atol(argv[5]);
    if (n < 1 || every < 1 || round_at < 0 || round_at > 4 || size < 1 || conc < 1 ||
        conc > MAX_CONC) {
        fprintf(stderr, "leak: bad arguments (ROUND 0-4, CONC 1-%d)\n", MAX_CONC);
        return 2;
    }
    /* The allocator initialises (and creates its own thread-exit key, if it has one) before
     * the program creates its key, as in most programs: glibc calls destructors in key order. */
    use(16);
    if (pthread_key_create(&key, dtor) != 0)
        return 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_t t[MAX_CONC];
    for (long done = 0, next = 0;; done += conc) {
        if (done >= next || done >= n) {
            printf("%ld %ld\n", done, rss());
            next += every;
        }
        if (done >= n)
            break;
        for (long s = 0; s < conc; s++)
            if (pthread_create(&t[s], NULL, body, &rounds[s]) != 0)
                return 1;
        for (long s = 0; s < conc; s++)
            pthread_join(t[s], NULL);
    }
    return 0;
}
