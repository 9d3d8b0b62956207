/*
 * libtlsleak_probe.so: counts the threads of an unmodified, dynamically linked program and
 * publishes the counts in a shared file the harness reads (layout: probe.h; docs/DESIGN.md
 * section 5). Preloaded (LD_PRELOAD), before or after an override allocator: it defines no
 * allocator symbol and calls no allocation function, so the allocator keeps serving malloc.
 *
 * Invariant: nothing here calls malloc after probe_init(). dlsym, pthread_atfork and
 * pthread_key_create may allocate inside libc, so they run in the constructor (or, for dlsym,
 * once on first use when another library's constructor creates a thread before ours ran).
 * Thread start routines are handed over in a static slot table, not on the heap.
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

/* The shared page; NULL while this process does not publish (no file, taken, forked child). */
static _Atomic(_Atomic uint64_t *) words;

static pthread_key_t teardown_key;
static int teardown_ok; /* the key exists and setting it never allocates */

/* Per thread: 1 from the start of a counted thread to the end of its body, then 2. */
static PROBE_TLS int thread_state;
static PROBE_TLS int thread_armed; /* the teardown key is set in this thread */

/* --- real functions, found once ------------------------------------------------------------- */

static void *next_symbol(_Atomic(void *) *cache, const char *name) {
    void *f = atomic_load_explicit(cache, memory_order_acquire);
    if (f == NULL) {
        f = dlsym(RTLD_NEXT, name);
        atomic_store_explicit(cache, f, memory_order_release);
    }
    return f;
}

static _Atomic(void *) real_create, real_exit, real_detach;

/* --- counting --------------------------------------------------------------------------------- */

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void count(enum tlsleak_probe_word w) {
    _Atomic uint64_t *page = atomic_load_explicit(&words, memory_order_acquire);
    if (page == NULL)
        return;
    atomic_fetch_add_explicit(&page[w], 1, memory_order_relaxed);
    atomic_store_explicit(&page[TLSLEAK_PROBE_W_T_NS], now_ns(), memory_order_release);
}

/* Re-arms itself until the last destructor round, then counts the thread as finished. */
static void teardown_dtor(void *value) {
    uintptr_t round = (uintptr_t)value;
    if (round < PTHREAD_DESTRUCTOR_ITERATIONS &&
        pthread_setspecific(teardown_key, (void *)(round + 1)) == 0)
        return;
    count(TLSLEAK_PROBE_W_FINISHED);
}

static void thread_began(void) {
    if (atomic_load_explicit(&words, memory_order_acquire) == NULL)
        return; /* not publishing: leave the thread uncounted from start to end */
    thread_state = 1;
    count(TLSLEAK_PROBE_W_STARTED);
    thread_armed = teardown_ok && pthread_setspecific(teardown_key, (void *)1) == 0;
}

static void thread_body_ended(void) {
    if (thread_state != 1)
        return;
    thread_state = 2;
    count(TLSLEAK_PROBE_W_RETURNED);
    if (!thread_armed)
        count(TLSLEAK_PROBE_W_FINISHED);
}

/* --- handing the start routine to the new thread without the heap --------------------------- */

#define PROBE_SLOTS 1024 /* threads created and not yet running; more run unwrapped */

typedef struct slot {
    atomic_int busy;
    void *(*start)(void *);
    // cppcheck-suppress unusedStructMember ; used where <threads.h> exists
    int (*start_c11)(void *); /* thrd_create's */
    void *arg;
} slot;

static slot slots[PROBE_SLOTS];
static atomic_uint slot_hint;

static slot *slot_take(void) {
    unsigned first = atomic_fetch_add_explicit(&slot_hint, 1, memory_order_relaxed);
    for (unsigned i = 0; i < PROBE_SLOTS; i++) {
        slot *s = &slots[(first + i) % PROBE_SLOTS];
        int expected = 0;
        if (atomic_compare_exchange_strong(&s->busy, &expected, 1))
            return s;
    }
    count(TLSLEAK_PROBE_W_UNWRAPPED);
    return NULL;
}

static void slot_give_back(slot *s) {
    atomic_store_explicit(&s->busy, 0, memory_order_release);
}

static void *trampoline(void *p) {
    slot *s = p;
    void *(*start)(void *) = s->start;
    void *arg = s->arg;
    slot_give_back(s);
    thread_began();
    void *ret = start(arg);
    thread_body_ended();
    return ret;
}

/* --- set-up ----------------------------------------------------------------------------------- */

static void forked_child(void) {
    atomic_store_explicit(&words, NULL, memory_order_release); /* the parent's file, not ours */
}

/* Map the file named by TLSLEAK_PROBE_FILE and claim it for this process: its pid word must be
 * 0 (nobody yet) or this pid (an exec'd image of the same process). */
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
    _Atomic uint64_t *page = map;
    uint64_t expected = 0;
    atomic_compare_exchange_strong(&page[TLSLEAK_PROBE_W_MAGIC], &expected, TLSLEAK_PROBE_MAGIC);
    expected = 0;
    atomic_compare_exchange_strong(&page[TLSLEAK_PROBE_W_VERSION], &expected,
                                   TLSLEAK_PROBE_VERSION);
    uint64_t pid = (uint64_t)getpid();
    uint64_t owner = 0;
    if (atomic_load(&page[TLSLEAK_PROBE_W_MAGIC]) != TLSLEAK_PROBE_MAGIC ||
        atomic_load(&page[TLSLEAK_PROBE_W_VERSION]) != TLSLEAK_PROBE_VERSION) {
        munmap(map, TLSLEAK_PROBE_FILE_SIZE); /* another layout: leave it alone */
        return;
    }
    if (!atomic_compare_exchange_strong(&page[TLSLEAK_PROBE_W_PID], &owner, pid) && owner != pid) {
        atomic_fetch_add(&page[TLSLEAK_PROBE_W_REFUSED], 1);
        munmap(map, TLSLEAK_PROBE_FILE_SIZE);
        return;
    }
    atomic_store(&page[TLSLEAK_PROBE_W_FLAGS], teardown_ok ? TLSLEAK_PROBE_FLAG_TEARDOWN : 0);
    atomic_store(&page[TLSLEAK_PROBE_W_T_NS], now_ns());
    atomic_store_explicit(&words, page, memory_order_release);
}

__attribute__((constructor)) static void probe_init(void) {
    next_symbol(&real_create, "pthread_create");
    next_symbol(&real_exit, "pthread_exit");
    next_symbol(&real_detach, "pthread_detach");
#if defined(__GLIBC__)
    /* glibc keeps the values of the first 32 keys inside the thread descriptor; a later key's
     * pthread_setspecific may calloc its storage, which the probe must not do. */
    teardown_ok = pthread_key_create(&teardown_key, teardown_dtor) == 0 && teardown_key < 32;
#endif
    pthread_atfork(NULL, NULL, forked_child);
    map_file();
}

/* --- the wrapped functions -------------------------------------------------------------------- */

PROBE_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                                void *(*start)(void *), void *arg) {
    create_fn create = (create_fn)next_symbol(&real_create, "pthread_create");
    if (create == NULL)
        return EAGAIN; /* no pthread_create after ours: cannot happen with a C library */
    slot *s = slot_take();
    if (s == NULL)
        return create(thread, attr, start, arg);
    s->start = start;
    s->arg = arg;
    int rc = create(thread, attr, trampoline, s);
    if (rc != 0) {
        slot_give_back(s);
        return rc;
    }
    int state;
    if (attr != NULL && pthread_attr_getdetachstate(attr, &state) == 0 &&
        state == PTHREAD_CREATE_DETACHED)
        count(TLSLEAK_PROBE_W_DETACHED);
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
        count(TLSLEAK_PROBE_W_DETACHED);
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
    slot *s = p;
    int (*start)(void *) = s->start_c11;
    void *arg = s->arg;
    slot_give_back(s);
    thread_began();
    int ret = start(arg);
    thread_body_ended();
    return ret;
}

PROBE_EXPORT int thrd_create(thrd_t *thr, thrd_start_t func, void *arg) {
    thrd_create_fn create = (thrd_create_fn)next_symbol(&real_thrd_create, "thrd_create");
    if (create == NULL)
        return thrd_error;
    slot *s = slot_take();
    if (s == NULL)
        return create(thr, func, arg);
    s->start_c11 = func;
    s->arg = arg;
    int rc = create(thr, trampoline_c11, s);
    if (rc != thrd_success)
        slot_give_back(s);
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
        count(TLSLEAK_PROBE_W_DETACHED);
    return rc;
}
#endif
