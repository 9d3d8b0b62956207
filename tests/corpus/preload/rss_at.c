/*
 * libcorpus_rss_at.so: the corpus's own outside measurement, not tlsleak's probe. Preloaded
 * into a program (after the allocator under test, as the allocator's own preload would be),
 * it counts the program's threads whose body has ended and, when the count reaches each of
 * the thresholds in CORPUS_RSS_AT (comma-separated, ascending), appends the process's resident
 * set size to the file CORPUS_RSS_OUT:
 *
 *   at=2500 rss=10240000
 *   at=7500 rss=10260000
 *   total=10000          (at exit: the threads counted in all)
 *
 * (RSS(3N) - RSS(N)) / 2N is then the program's growth per thread (tests/corpus/corpus.py).
 * Nothing here calls malloc after the constructor: start routines are handed to new threads
 * through a static table, RSS is read from /proc/self/statm with open/read, and lines are
 * written with write(2). A forked child stops counting (the parent's file, not its own).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_AT 64
#define SLOTS 512

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
typedef void (*exit_fn)(void *);

static create_fn real_create;
static exit_fn real_exit;
static int out_fd = -1;
static unsigned long at[MAX_AT];
static int n_at;
static atomic_ulong ended;
static atomic_int counting;
static _Thread_local __attribute__((tls_model("initial-exec"))) int in_counted_body;

static struct {
    atomic_int busy;
    void *(*start)(void *);
    void *arg;
} slots[SLOTS];

static long rss_bytes(void) {
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char *p = strchr(buf, ' ');
    return p == NULL ? -1 : strtol(p + 1, NULL, 10) * sysconf(_SC_PAGESIZE);
}

static void put_line(const char *line) {
    size_t len = strlen(line);
    if (out_fd >= 0 && write(out_fd, line, len) != (ssize_t)len)
        out_fd = -1;
}

static void body_ended(void) {
    if (!in_counted_body)
        return;
    in_counted_body = 0;
    if (!atomic_load(&counting))
        return;
    unsigned long n = atomic_fetch_add(&ended, 1) + 1;
    for (int i = 0; i < n_at; i++) {
        if (at[i] == n) {
            char line[80];
            snprintf(line, sizeof line, "at=%lu rss=%ld\n", n, rss_bytes());
            put_line(line);
        }
    }
}

static void *trampoline(void *p) {
    void *(*start)(void *) = slots[(uintptr_t)p].start;
    void *arg = slots[(uintptr_t)p].arg;
    atomic_store(&slots[(uintptr_t)p].busy, 0);
    in_counted_body = 1;
    void *ret = start(arg);
    body_ended();
    return ret;
}

__attribute__((visibility("default"))) int pthread_create(pthread_t *t, const pthread_attr_t *a,
                                                          void *(*start)(void *), void *arg) {
    if (real_create == NULL) /* another library's constructor, before ours */
        real_create = (create_fn)dlsym(RTLD_NEXT, "pthread_create");
    for (uintptr_t i = 0; i < SLOTS; i++) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&slots[i].busy, &expected, 1)) {
            slots[i].start = start;
            slots[i].arg = arg;
            int rc = real_create(t, a, trampoline, (void *)i);
            if (rc != 0)
                atomic_store(&slots[i].busy, 0);
            return rc;
        }
    }
    return EAGAIN; /* more than SLOTS threads not yet running: never in the corpus */
}

__attribute__((visibility("default"))) void pthread_exit(void *ret) {
    body_ended();
    real_exit(ret);
    abort();
}

static void forked_child(void) {
    atomic_store(&counting, 0);
    out_fd = -1;
}

__attribute__((constructor)) static void rss_at_init(void) {
    real_create = (create_fn)dlsym(RTLD_NEXT, "pthread_create");
    real_exit = (exit_fn)dlsym(RTLD_NEXT, "pthread_exit");
    const char *path = getenv("CORPUS_RSS_OUT");
    const char *list = getenv("CORPUS_RSS_AT");
    if (path == NULL || list == NULL || real_create == NULL || real_exit == NULL)
        return;
    for (char *end; *list != '\0' && n_at < MAX_AT; list = *end == ',' ? end + 1 : end) {
        at[n_at++] = strtoul(list, &end, 10);
        if (end == list)
            return;
    }
    out_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    pthread_atfork(NULL, NULL, forked_child);
    atomic_store(&counting, 1);
}

__attribute__((destructor)) static void rss_at_fini(void) {
    if (!atomic_load(&counting))
        return;
    char line[40];
    snprintf(line, sizeof line, "total=%lu\n", atomic_load(&ended));
    put_line(line);
}
