/*
 * libtlsleak_probe.so: counts the threads of an unmodified, dynamically linked program and
 * publishes the counts in a shared file the harness reads (layout: probe.h; docs/DESIGN.md
 * "The probe"). Preloaded (LD_PRELOAD), before or after an override allocator: it defines no
 * allocator symbol and calls no allocation function, so the allocator keeps serving malloc.
 * It reaches every dynamically linked process the command starts (the preload is inherited):
 * each one that starts a thread claims a slot of its own in the file, a forked child a new
 * one, an exec'd image the slot its process already had.
 *
 * Invariant: nothing here calls malloc after probe_init(). dlsym, pthread_atfork and
 * pthread_key_create may allocate inside libc, so they run in the constructor (or, for dlsym,
 * once on first use when another library's constructor creates a thread before ours ran).
 * Thread start routines are handed over in a static relay table, not on the heap.
 *
 * Which moment is "finished": a per-thread memory slope pairs memory with threads whose
 * teardown is over, as the built-in scenarios do (`done` counts joined threads). With glibc
 * the probe keeps a pthread key armed in each thread and counts the thread in that key's
 * destructor at the last destructor round (PTHREAD_DESTRUCTOR_ITERATIONS), after C++
 * thread_local destructors (which glibc runs before key destructors) and after the rounds in
 * which the program's and the allocator's own key destructors ran. Elsewhere it counts when
 * the body ends (start routine returned or pthread_exit). Either way the count differs from
 * the true one by at most the threads alive at that moment, an offset that does not grow with
 * the number of threads and so does not bias a slope.
 */
#define _GNU_SOURCE
#include "probe.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<threads.h>)
#include <threads.h>
#define PROBE_HAVE_C11_THREADS 1
#endif
#endif

#define PROBE_EXPORT __attribute__((visibility("default")))
/* Initial-exec: a preloaded library has static TLS, and its access never calls into libc. */
#define PROBE_TLS _Thread_local __attribute__((tls_model("initial-exec")))

_Static_assert(sizeof(_Atomic uint64_t) == 8, "the shared file holds 64-bit words");

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
typedef void (*exit_fn)(void *);
typedef int (*detach_fn)(pthread_t);

/* The shared file, mapped once in the constructor (NULL: no file named, or another layout). */
static _Atomic uint64_t *page;
/* This process's slot: NULL until its first thread claims one (or none was free). */
static _Atomic(_Atomic uint64_t *) words;
static atomic_int claim_state; /* 0 not claimed, 1 being claimed, 2 done (words may be NULL) */

static pthread_key_t teardown_key;
static int teardown_ok; /* the key exists and setting it never allocates */

/* Per thread: 1 from the start of a counted thread to the end of its body, then 2. */
static PROBE_TLS int thread_state;
static PROBE_TLS int thread_armed; /* the teardown key is set in this thread */

/* --- real functions, found once --------------------------------------------------------------- */

static void *next_symbol(_Atomic(void *) *cache, const char *name) {
    void *f = atomic_load_explicit(cache, memory_order_acquire);
    if (f == NULL) {
        f = dlsym(RTLD_NEXT, name);
        atomic_store_explicit(cache, f, memory_order_release);
    }
    return f;
}

static _Atomic(void *) real_create, real_exit, real_detach;

/* --- this process's slot ---------------------------------------------------------------------- */

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* This process's start time in clock ticks after boot (field 22 of /proc/self/stat), which
 * tells an exec'd image of the same process (same pid and start time) from a process that
 * got a recycled pid. 0 where there is no /proc. Reads into the stack: no allocation. */
static uint64_t start_time(void) {
    char buf[1024];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    const char *p = NULL;
    for (const char *q = buf; *q; q++)
        if (*q == ')')
            p = q; /* the name may hold ')': the fields start after the last one */
    if (p == NULL)
        return 0;
    for (int field = 2; field < 22 && *p; p++)
        if (*p == ' ')
            field++;
    uint64_t v = 0;
    while (*p >= '0' && *p <= '9')
        v = v * 10u + (uint64_t)(*p++ - '0');
    return v;
}

static _Atomic uint64_t *slot_at(uint64_t i) {
    return page + TLSLEAK_PROBE_HEADER_WORDS + i * TLSLEAK_PROBE_SLOT_WORDS;
}

/* The slot this process (pid, start time) had before an exec, or a new one; NULL when the
 * table is full (counted in the header's `overflow`). */
static _Atomic uint64_t *claim(void) {
    uint64_t pid = (uint64_t)getpid(), start = start_time();
    uint64_t slots = atomic_load(&page[TLSLEAK_PROBE_W_SLOTS]);
    uint64_t claimed = atomic_load(&page[TLSLEAK_PROBE_W_CLAIMED]);
    for (uint64_t i = 0; i < claimed && i < slots; i++) {
        _Atomic uint64_t *s = slot_at(i);
        if (atomic_load(&s[TLSLEAK_PROBE_S_PID]) == pid &&
            atomic_load(&s[TLSLEAK_PROBE_S_START]) == start) {
            atomic_fetch_add(&s[TLSLEAK_PROBE_S_IMAGES], 1);
            return s;
        }
    }
    uint64_t i = atomic_fetch_add(&page[TLSLEAK_PROBE_W_CLAIMED], 1);
    if (i >= slots) {
        atomic_fetch_add(&page[TLSLEAK_PROBE_W_OVERFLOW], 1);
        return NULL;
    }
    _Atomic uint64_t *s = slot_at(i);
    atomic_store(&s[TLSLEAK_PROBE_S_START], start);
    atomic_store(&s[TLSLEAK_PROBE_S_FLAGS], teardown_ok ? TLSLEAK_PROBE_FLAG_TEARDOWN : 0);
    atomic_store(&s[TLSLEAK_PROBE_S_IMAGES], 1);
    atomic_store(&s[TLSLEAK_PROBE_S_PARENT], (uint64_t)getppid());
    atomic_store(&s[TLSLEAK_PROBE_S_T_NS], now_ns());
    atomic_store_explicit(&s[TLSLEAK_PROBE_S_PID], pid, memory_order_release); /* ready */
    return s;
}

/* This process's slot, claimed by the first thread that asks (the others wait for it). */
static _Atomic uint64_t *my_slot(void) {
    _Atomic uint64_t *s = atomic_load_explicit(&words, memory_order_acquire);
    if (s != NULL || page == NULL)
        return s;
    int expected = 0;
    if (atomic_compare_exchange_strong(&claim_state, &expected, 1)) {
        s = claim();
        atomic_store_explicit(&words, s, memory_order_release);
        atomic_store_explicit(&claim_state, 2, memory_order_release);
        return s;
    }
    while (atomic_load_explicit(&claim_state, memory_order_acquire) == 1)
        sched_yield();
    return atomic_load_explicit(&words, memory_order_acquire);
}

/* --- counting --------------------------------------------------------------------------------- */

static void count(enum tlsleak_probe_slot_word w) {
    _Atomic uint64_t *s = my_slot();
    if (s == NULL)
        return;
    atomic_fetch_add_explicit(&s[w], 1, memory_order_relaxed);
    atomic_store_explicit(&s[TLSLEAK_PROBE_S_T_NS], now_ns(), memory_order_release);
}

/* Re-arms itself until the last destructor round, then counts the thread as finished. */
static void teardown_dtor(void *value) {
    uintptr_t round = (uintptr_t)value;
    if (round < PTHREAD_DESTRUCTOR_ITERATIONS &&
        pthread_setspecific(teardown_key, (void *)(round + 1)) == 0)
        return;
    count(TLSLEAK_PROBE_S_FINISHED);
}

static void thread_began(void) {
    if (my_slot() == NULL)
        return; /* not publishing: leave the thread uncounted from start to end */
    thread_state = 1;
    count(TLSLEAK_PROBE_S_STARTED);
    thread_armed = teardown_ok && pthread_setspecific(teardown_key, (void *)1) == 0;
}

static void thread_body_ended(void) {
    if (thread_state != 1)
        return;
    thread_state = 2;
    count(TLSLEAK_PROBE_S_RETURNED);
    if (!thread_armed)
        count(TLSLEAK_PROBE_S_FINISHED);
}

/* --- handing the start routine to the new thread without the heap ----------------------------- */

#define PROBE_RELAYS 1024 /* threads created and not yet running; more run unwrapped */

typedef struct relay {
    atomic_int busy;
    void *(*start)(void *);
    // cppcheck-suppress unusedStructMember ; used where <threads.h> exists
    int (*start_c11)(void *); /* thrd_create's */
    void *arg;
} relay;

static relay relays[PROBE_RELAYS];
static atomic_uint relay_hint;

static relay *relay_take(void) {
    unsigned first = atomic_fetch_add_explicit(&relay_hint, 1, memory_order_relaxed);
    for (unsigned i = 0; i < PROBE_RELAYS; i++) {
        relay *r = &relays[(first + i) % PROBE_RELAYS];
        int expected = 0;
        if (atomic_compare_exchange_strong(&r->busy, &expected, 1))
            return r;
    }
    count(TLSLEAK_PROBE_S_UNWRAPPED);
    return NULL;
}

static void relay_give_back(relay *r) {
    atomic_store_explicit(&r->busy, 0, memory_order_release);
}

static void *trampoline(void *p) {
    relay *r = p;
    void *(*start)(void *) = r->start;
    void *arg = r->arg;
    relay_give_back(r);
    thread_began();
    void *ret = start(arg);
    thread_body_ended();
    return ret;
}

/* --- set-up ----------------------------------------------------------------------------------- */

/* A forked child is another process: it claims a slot of its own when it starts a thread. The
 * forking thread goes on as the child's main thread, which the child does not count. */
static void forked_child(void) {
    atomic_store_explicit(&words, NULL, memory_order_release);
    atomic_store_explicit(&claim_state, 0, memory_order_release);
    thread_state = 0;
    thread_armed = 0;
    if (teardown_ok)
        pthread_setspecific(teardown_key, NULL);
}

/* Map the file named by TLSLEAK_PROBE_FILE, setting up its header if it is new; a file of
 * another layout is left alone. Claiming a slot waits for the first thread. */
static void map_file(void) {
    const char *path = getenv(TLSLEAK_PROBE_ENV);
    if (path == NULL || path[0] == '\0')
        return;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    struct stat st;
    int ok = fstat(fd, &st) == 0 && (st.st_size >= (off_t)TLSLEAK_PROBE_FILE_SIZE ||
                                     ftruncate(fd, (off_t)TLSLEAK_PROBE_FILE_SIZE) == 0);
    void *map = ok ? mmap(NULL, TLSLEAK_PROBE_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
                   : MAP_FAILED;
    close(fd);
    if (map == MAP_FAILED)
        return;
    _Atomic uint64_t *p = map;
    static const struct {
        enum tlsleak_probe_word word;
        uint64_t value;
    } header[] = {{TLSLEAK_PROBE_W_MAGIC, TLSLEAK_PROBE_MAGIC},
                  {TLSLEAK_PROBE_W_VERSION, TLSLEAK_PROBE_VERSION},
                  {TLSLEAK_PROBE_W_SLOTS, TLSLEAK_PROBE_SLOTS},
                  {TLSLEAK_PROBE_W_SLOT_WORDS, TLSLEAK_PROBE_SLOT_WORDS}};
    for (size_t i = 0; i < sizeof header / sizeof header[0]; i++) {
        uint64_t expected = 0;
        atomic_compare_exchange_strong(&p[header[i].word], &expected, header[i].value);
        if (atomic_load(&p[header[i].word]) != header[i].value) {
            munmap(map, TLSLEAK_PROBE_FILE_SIZE); /* another layout: leave it alone */
            return;
        }
    }
    page = p;
}

/* A gated file: wait (no allocation, no thread of ours) until the sampler says it has sampled
 * this process, so that a fast program does not run its threads before anyone samples it. */
static void wait_for_sampler(void) {
    if (page == NULL || atomic_load(&page[TLSLEAK_PROBE_W_GATE]) == 0)
        return;
    struct timespec ms = {0, 1000000};
    for (unsigned waited = 0; waited < TLSLEAK_PROBE_GATE_MS; waited++) {
        if (atomic_load(&page[TLSLEAK_PROBE_W_ATTACHED]) != 0)
            return;
        nanosleep(&ms, NULL);
    }
}

__attribute__((constructor)) static void probe_init(void) {
    next_symbol(&real_create, "pthread_create");
    next_symbol(&real_exit, "pthread_exit");
    next_symbol(&real_detach, "pthread_detach");
#if defined(__GLIBC__)
    /* glibc keeps the values of the first 32 keys inside the thread descriptor; a later key's
     * pthread_setspecific may calloc its storage, which the probe must not do. */
    teardown_ok = pthread_key_create(&teardown_key, teardown_dtor) == 0 && teardown_key < 32;
#else
    (void)teardown_dtor; /* elsewhere (musl) the thread's end is counted when its body ends */
#endif
    pthread_atfork(NULL, NULL, forked_child);
    map_file();
    wait_for_sampler();
}

/* --- the wrapped functions -------------------------------------------------------------------- */

PROBE_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                                void *(*start)(void *), void *arg) {
    create_fn create = (create_fn)next_symbol(&real_create, "pthread_create");
    if (create == NULL)
        return EAGAIN; /* no pthread_create after ours: cannot happen with a C library */
    relay *r = relay_take();
    if (r == NULL)
        return create(thread, attr, start, arg);
    r->start = start;
    r->arg = arg;
    int rc = create(thread, attr, trampoline, r);
    if (rc != 0) {
        relay_give_back(r);
        return rc;
    }
    int state;
    if (attr != NULL && pthread_attr_getdetachstate(attr, &state) == 0 &&
        state == PTHREAD_CREATE_DETACHED)
        count(TLSLEAK_PROBE_S_DETACHED);
    return 0;
}

PROBE_EXPORT void pthread_exit(void *retval) {
    thread_body_ended();
    exit_fn leave = (exit_fn)next_symbol(&real_exit, "pthread_exit");
    if (leave != NULL)
        leave(retval);
    abort(); /* unreachable: the real pthread_exit does not return */
}

PROBE_EXPORT int pthread_detach(pthread_t thread) {
    detach_fn detach = (detach_fn)next_symbol(&real_detach, "pthread_detach");
    int rc = detach != NULL ? detach(thread) : ESRCH;
    if (rc == 0)
        count(TLSLEAK_PROBE_S_DETACHED);
    return rc;
}

#ifdef PROBE_HAVE_C11_THREADS
/* glibc's thrd_create and thrd_exit reach pthread_create and pthread_exit inside libc, where
 * no preload can interpose, so they are wrapped themselves. */
typedef int (*thrd_create_fn)(thrd_t *, thrd_start_t, void *);
typedef void (*thrd_exit_fn)(int);
typedef int (*thrd_detach_fn)(thrd_t);
static _Atomic(void *) real_thrd_create, real_thrd_exit, real_thrd_detach;

static int trampoline_c11(void *p) {
    relay *r = p;
    int (*start)(void *) = r->start_c11;
    void *arg = r->arg;
    relay_give_back(r);
    thread_began();
    int ret = start(arg);
    thread_body_ended();
    return ret;
}

PROBE_EXPORT int thrd_create(thrd_t *thr, thrd_start_t func, void *arg) {
    thrd_create_fn create = (thrd_create_fn)next_symbol(&real_thrd_create, "thrd_create");
    if (create == NULL)
        return thrd_error;
    relay *r = relay_take();
    if (r == NULL)
        return create(thr, func, arg);
    r->start_c11 = func;
    r->arg = arg;
    int rc = create(thr, trampoline_c11, r);
    if (rc != thrd_success)
        relay_give_back(r);
    return rc;
}

PROBE_EXPORT void thrd_exit(int res) {
    thread_body_ended();
    thrd_exit_fn leave = (thrd_exit_fn)next_symbol(&real_thrd_exit, "thrd_exit");
    if (leave != NULL)
        leave(res);
    abort();
}

PROBE_EXPORT int thrd_detach(thrd_t thr) {
    thrd_detach_fn detach = (thrd_detach_fn)next_symbol(&real_thrd_detach, "thrd_detach");
    int rc = detach != NULL ? detach(thr) : thrd_error;
    if (rc == thrd_success)
        count(TLSLEAK_PROBE_S_DETACHED);
    return rc;
}
#endif
