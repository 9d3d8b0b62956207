/*
 * faulty: tlsleak's own allocator, whose thread-cache teardown can be broken on purpose, so
 * the harness is shown catching the mechanism of a thread-exit leak itself, in an allocator
 * whose every line is known (and serves as the fixture to compare and bisect against).
 *
 * Design (Linux, glibc):
 *  - One address range is reserved at start-up (PROT_NONE) and committed as a bump pointer
 *    advances, so "is this pointer ours" is a range check.
 *  - Every block has a 16-byte header (size class, state). 44 size classes up to 64 KiB, each
 *    with a global free list, all under one mutex. Larger blocks are page spans, given back
 *    to the OS (MADV_DONTNEED) when freed and reused best-fit.
 *  - A thread gets a cache on its first malloc: a struct of about 22 KiB from the arena,
 *    written whole (so resident), holding up to 64 freed blocks per class. malloc arms a
 *    pthread key with it, once per thread; the key is created at start-up, before any key of
 *    the program, and glibc runs key destructors in key order, so ours runs first at thread
 *    exit: it returns the cached blocks and the cache to the arena and marks the thread done,
 *    after which malloc on that thread uses the arena directly (glibc's fix for its bug
 *    22111). free uses the thread's cache if it has one, else the arena: as with glibc's
 *    tcache, a thread that only frees gets no cache, so a free in the last destructor round,
 *    when no key can be armed any more, leaves nothing behind.
 *
 * TLSLEAK_FAULTY (comma-separated, read once at start-up) breaks it, one mistake each:
 *   recreate        teardown does not mark the thread done, so a malloc after it (from a
 *                   program key destructor, which runs after ours) makes a new cache, and the
 *                   key, armed once per thread, is not armed again: that cache is never
 *                   released (microsoft/mimalloc #944, glibc bug 22111, snmalloc PR #161)
 *   drop            teardown forgets the cache without returning its memory to the arena
 *   skip_free_only  free makes a cache too, to keep what it frees, but only malloc arms the
 *                   key: a thread that only frees never has its cache torn down
 *                   (jemalloc/jemalloc #2351, #896)
 * Two more are not bugs: bounded caches the detector must not call a leak.
 *   fill            each cache teardown keeps one more 1 KiB block in a global cache, up to
 *                   5000 blocks (5 MiB over the first 5000 threads), then the cache is full and
 *                   memory stays flat (a pool that warms up, like a size-class cache filling)
 *   steps           every 1000th cache teardown grows a global cache by a 1 MiB chunk, five
 *                   times (5 MiB over the first 5000 threads, in 1 MiB steps), then stops
 *                   (an allocator that reserves segments ahead, in large pieces)
 * Both count the bytes they keep in faulty_thread_stats' cache bytes (alloc_tcache).
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE, madvise */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "faulty.h"

#ifndef FAULTY_VERSION
#error "FAULTY_VERSION must be set by the build"
#endif

enum {
    FAULT_RECREATE = 1,
    FAULT_DROP = 2,
    FAULT_SKIP_FREE_ONLY = 4,
    FAULT_FILL = 8,
    FAULT_STEPS = 16
};

#define REGION_BYTES ((size_t)64 << 30) /* address space reserved; committed as used */
#define COMMIT_STEP ((size_t)4 << 20)
#define NCLASSES 44 /* 16..128 by 16, then four per doubling up to 64 KiB */
#define MAX_SMALL ((size_t)64 << 10)
#define CACHE_SLOTS 64
#define CACHE_CLASS_BYTES ((size_t)64 << 10) /* a thread caches at most this much per class */
#define REFILL 8                             /* blocks fetched into a cache at once, at most */
#define FILL_BYTES ((size_t)1 << 10)         /* fill: kept per teardown ... */
#define FILL_BLOCKS 5000                     /* ... this many times, then full */
#define STEP_BYTES ((size_t)1 << 20)         /* steps: a chunk this large ... */
#define STEP_EVERY 1000                      /* ... every this many teardowns ... */
#define STEP_COUNT 5                         /* ... this many times */

enum { CLS_LARGE = 0xffff, CLS_ALIGNED = 0xfffe };
enum { LIVE = 0x4c495645u, FREE = 0x46524545u };

struct hdr {        /* before every pointer handed out; 16 bytes keep them 16-aligned */
    uint32_t cls;   /* size class, CLS_LARGE or CLS_ALIGNED */
    uint32_t state; /* LIVE or FREE */
    size_t aux;     /* CLS_LARGE: span bytes; CLS_ALIGNED: distance back to the real block */
};
#define HDR sizeof(struct hdr)

struct cache {
    uint32_t count[NCLASSES];
    void *slot[NCLASSES][CACHE_SLOTS];
};

static struct {
    pthread_mutex_t lock;
    char *base, *end;       /* the reserved range, set once at start-up */
    char *bump, *committed; /* the rest under lock */
    void *free_list[NCLASSES];
    void *large; /* freed spans, linked through their first word */
    pthread_key_t key;
    unsigned faults;
    size_t page;
} arena = {.lock = PTHREAD_MUTEX_INITIALIZER};

static atomic_size_t inuse;
/* faulty_thread_stats: caches made and not yet back in the arena, and the bytes they hold (the
 * cache structs and the free blocks cached in them). */
static atomic_size_t live_caches, cache_bytes;
static atomic_size_t teardowns; /* cache teardowns so far (fill, steps) */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static _Thread_local struct {
    struct cache *cache;
    bool armed; /* the key has held a cache of this thread */
    bool done;  /* torn down: the arena serves this thread directly */
} self __attribute__((tls_model("initial-exec")));

static void say(const char *msg) {
    ssize_t n = write(STDERR_FILENO, msg, strlen(msg));
    (void)n;
}

static void die(const char *msg) {
    say(msg);
    abort();
}

static size_t round_up(size_t n, size_t to) {
    return (n + to - 1) / to * to;
}

static struct hdr *hdr_of(const void *p) {
    return (struct hdr *)((uintptr_t)p - HDR);
}

static size_t class_size(unsigned c) {
    if (c < 8)
        return (size_t)(c + 1) * 16;
    size_t base = (size_t)128 << ((c - 8) / 4);
    return base + base / 4 * ((c - 8) % 4 + 1);
}

static unsigned class_of(size_t n) {
    if (n <= 128)
        return n == 0 ? 0 : (unsigned)((n - 1) / 16);
    unsigned b = 63u - (unsigned)__builtin_clzll((unsigned long long)(n - 1)); /* 2^b < n */
    size_t base = (size_t)1 << b;
    return 8 + (b - 7) * 4 + (unsigned)((n - base - 1) / (base / 4));
}

static uint32_t cache_cap(unsigned c) {
    size_t n = CACHE_CLASS_BYTES / class_size(c);
    return n < 2 ? 2 : n > CACHE_SLOTS ? CACHE_SLOTS : (uint32_t)n;
}

/* --- the arena (lock held) -------------------------------------------------------------- */

static char *carve(size_t bytes, size_t align) {
    char *p = (char *)round_up((uintptr_t)arena.bump, align);
    if (p > arena.end || bytes > (size_t)(arena.end - p))
        return NULL;
    if (p + bytes > arena.committed) {
        size_t more = round_up((size_t)(p + bytes - arena.committed), COMMIT_STEP);
        if (more > (size_t)(arena.end - arena.committed))
            more = (size_t)(arena.end - arena.committed);
        if (mprotect(arena.committed, more, PROT_READ | PROT_WRITE) != 0)
            return NULL;
        arena.committed += more;
    }
    arena.bump = p + bytes;
    return p;
}

static void *global_pop(unsigned c) {
    void *p = arena.free_list[c];
    if (p != NULL) {
        arena.free_list[c] = *(void **)p;
        return p;
    }
    char *raw = carve(HDR + class_size(c), HDR);
    if (raw == NULL)
        return NULL;
    *(struct hdr *)raw = (struct hdr){.cls = c, .state = FREE};
    return raw + HDR;
}

static void global_push(void *p) {
    unsigned c = hdr_of(p)->cls;
    *(void **)p = arena.free_list[c];
    arena.free_list[c] = p;
}

/* --- the per-thread cache --------------------------------------------------------------- */

static void cache_bytes_add(size_t n) {
    atomic_fetch_add_explicit(&cache_bytes, n, memory_order_relaxed);
}

static void cache_bytes_sub(size_t n) {
    atomic_fetch_sub_explicit(&cache_bytes, n, memory_order_relaxed);
}

/* The usable size of the block a cache struct lives in. */
static size_t cache_struct_bytes(void) {
    return class_size(class_of(sizeof(struct cache)));
}

/* fill and steps: memory carved for good from the arena, written (so resident) and counted as
 * cache bytes. Never given back: a bounded global cache that was filled, not a leak. */
static void keep_for_good(size_t bytes) {
    pthread_mutex_lock(&arena.lock);
    char *p = carve(bytes, HDR);
    pthread_mutex_unlock(&arena.lock);
    if (p == NULL)
        return;
    memset(p, 0x5A, bytes);
    cache_bytes_add(bytes);
}

static void grow_global_cache(void) {
    size_t n = atomic_fetch_add_explicit(&teardowns, 1, memory_order_relaxed) + 1;
    if ((arena.faults & FAULT_FILL) && n <= FILL_BLOCKS)
        keep_for_good(FILL_BYTES);
    if ((arena.faults & FAULT_STEPS) && n % STEP_EVERY == 0 && n / STEP_EVERY <= STEP_COUNT)
        keep_for_good(STEP_BYTES);
}

/* The thread-exit key's destructor: the cache goes back to the arena. */
static void cache_teardown(void *value) {
    struct cache *c = value;
    grow_global_cache();
    self.cache = NULL;
    self.done = !(arena.faults & FAULT_RECREATE);
    if (arena.faults & FAULT_DROP)
        return; /* the cache and the blocks in it are lost (and stay counted as a live cache) */
    size_t bytes = cache_struct_bytes();
    pthread_mutex_lock(&arena.lock);
    for (unsigned k = 0; k < NCLASSES; k++) {
        for (uint32_t i = 0; i < c->count[k]; i++)
            global_push(c->slot[k][i]);
        bytes += c->count[k] * class_size(k);
    }
    global_push(c);
    pthread_mutex_unlock(&arena.lock);
    cache_bytes_sub(bytes);
    atomic_fetch_sub_explicit(&live_caches, 1, memory_order_relaxed);
}

static struct cache *cache_new(void) {
    pthread_mutex_lock(&arena.lock);
    struct cache *c = global_pop(class_of(sizeof *c));
    pthread_mutex_unlock(&arena.lock);
    if (c != NULL) {
        memset(c, 0, sizeof *c); /* every page written: the cache is resident */
        self.cache = c;
        atomic_fetch_add_explicit(&live_caches, 1, memory_order_relaxed);
        cache_bytes_add(cache_struct_bytes());
    }
    return c;
}

/* The calling thread's cache for malloc, made and armed on its first call; NULL: use the
 * arena. */
static struct cache *cache_for_malloc(void) {
    if (self.cache != NULL && self.armed)
        return self.cache;
    if (self.done)
        return NULL;
    struct cache *c = self.cache != NULL ? self.cache : cache_new();
    if (c != NULL && !self.armed) /* once per thread */
        self.armed = pthread_setspecific(arena.key, c) == 0;
    return c;
}

/* The calling thread's cache for free, if it has one; NULL: use the arena. */
static struct cache *cache_for_free(void) {
    if (self.cache != NULL || self.done || !(arena.faults & FAULT_SKIP_FREE_ONLY))
        return self.cache;
    return cache_new(); /* skip_free_only: a cache nobody arms */
}

static void *small_alloc(unsigned c) {
    struct cache *tc = cache_for_malloc();
    if (tc != NULL && tc->count[c] > 0) {
        cache_bytes_sub(class_size(c));
        return tc->slot[c][--tc->count[c]];
    }
    uint32_t want = tc != NULL ? cache_cap(c) / 2 : 0;
    if (want > REFILL)
        want = REFILL;
    uint32_t refilled = 0;
    pthread_mutex_lock(&arena.lock);
    void *p = global_pop(c);
    while (p != NULL && tc != NULL && tc->count[c] < want) {
        void *more = global_pop(c);
        if (more == NULL)
            break;
        tc->slot[c][tc->count[c]++] = more;
        refilled++;
    }
    pthread_mutex_unlock(&arena.lock);
    if (refilled > 0)
        cache_bytes_add(refilled * class_size(c));
    return p;
}

static void small_free(void *p) {
    unsigned c = hdr_of(p)->cls;
    struct cache *tc = cache_for_free();
    if (tc != NULL && tc->count[c] < cache_cap(c)) {
        tc->slot[c][tc->count[c]++] = p;
        cache_bytes_add(class_size(c));
        return;
    }
    uint32_t returned = 0;
    pthread_mutex_lock(&arena.lock);
    while (tc != NULL && tc->count[c] > cache_cap(c) / 2) { /* full: half goes back */
        global_push(tc->slot[c][--tc->count[c]]);
        returned++;
    }
    global_push(p);
    pthread_mutex_unlock(&arena.lock);
    if (returned > 0)
        cache_bytes_sub(returned * class_size(c));
}

/* --- page spans ------------------------------------------------------------------------- */

static void *large_alloc(size_t n) {
    if (n > REGION_BYTES)
        return NULL;
    size_t bytes = round_up(n + HDR, arena.page);
    pthread_mutex_lock(&arena.lock);
    void **best = NULL;
    for (void **at = &arena.large; *at != NULL; at = (void **)*at) {
        size_t have = hdr_of(*at)->aux;
        if (have >= bytes && (best == NULL || have < hdr_of(*best)->aux))
            best = at;
    }
    char *p = NULL;
    if (best != NULL) {
        p = *best;
        *best = *(void **)p;
    } else {
        char *raw = carve(bytes, arena.page);
        if (raw != NULL) {
            p = raw + HDR;
            *hdr_of(p) = (struct hdr){.cls = CLS_LARGE, .state = FREE, .aux = bytes};
        }
    }
    pthread_mutex_unlock(&arena.lock);
    return p;
}

static void large_free(void *p) {
    struct hdr *h = hdr_of(p);
    size_t bytes = h->aux;
    madvise(h, bytes, MADV_DONTNEED); /* the pages go back to the OS, the range stays ours */
    *h = (struct hdr){.cls = CLS_LARGE, .state = FREE, .aux = bytes};
    pthread_mutex_lock(&arena.lock);
    *(void **)p = arena.large;
    arena.large = p;
    pthread_mutex_unlock(&arena.lock);
}

/* --- start-up --------------------------------------------------------------------------- */

static unsigned parse_faults(const char *s) {
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {{"recreate", FAULT_RECREATE},
                 {"drop", FAULT_DROP},
                 {"skip_free_only", FAULT_SKIP_FREE_ONLY},
                 {"fill", FAULT_FILL},
                 {"steps", FAULT_STEPS}};
    unsigned faults = 0;
    while (s != NULL && *s != '\0') {
        size_t len = strcspn(s, ",");
        unsigned bit = 0;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            if (strlen(names[i].name) == len && strncmp(s, names[i].name, len) == 0)
                bit = names[i].bit;
        }
        if (bit == 0 && len > 0) {
            say("faulty: unknown switch in TLSLEAK_FAULTY (accepted: recreate, drop, "
                "skip_free_only, fill, steps)\n");
            _exit(2);
        }
        faults |= bit;
        s += len + (s[len] == ',');
    }
    return faults;
}

static void init(void) {
    arena.page = (size_t)sysconf(_SC_PAGESIZE);
    void *base =
        mmap(NULL, REGION_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
        die("faulty: cannot reserve address space\n");
    arena.base = arena.bump = arena.committed = base;
    arena.end = arena.base + REGION_BYTES;
    arena.faults = parse_faults(getenv("TLSLEAK_FAULTY"));
    /* At the first malloc, so before the program's keys, whose destructors then run after
     * ours (glibc runs them in key order). */
    if (pthread_key_create(&arena.key, cache_teardown) != 0)
        die("faulty: cannot create the thread-exit key\n");
}

static void boot(void) {
    pthread_once(&once, init);
}

static bool in_region(const void *p) {
    uintptr_t c = (uintptr_t)p;
    return c >= (uintptr_t)arena.base + HDR && c < (uintptr_t)arena.end;
}

/* The block an aligned pointer lies in; p itself otherwise. */
static void *block_of(void *p) {
    struct hdr *h = hdr_of(p);
    return h->cls == CLS_ALIGNED ? (char *)p - h->aux : p;
}

static size_t block_usable(const void *b) {
    const struct hdr *h = hdr_of(b);
    return h->cls == CLS_LARGE ? h->aux - HDR : class_size(h->cls);
}

static bool product(size_t a, size_t b, size_t *n) {
    if (!__builtin_mul_overflow(a, b, n))
        return true;
    errno = ENOMEM;
    return false;
}

static void *alloc_aligned(size_t align, size_t n) {
    if (align <= HDR)
        return malloc(n);
    if (n > REGION_BYTES || align > REGION_BYTES) {
        errno = ENOMEM;
        return NULL;
    }
    char *raw = malloc(n + align + HDR);
    if (raw == NULL || (uintptr_t)raw % align == 0)
        return raw;
    char *p = (char *)round_up((uintptr_t)raw + HDR, align);
    *hdr_of(p) = (struct hdr){.cls = CLS_ALIGNED, .state = LIVE, .aux = (size_t)(p - raw)};
    return p;
}

static bool power_of_two(size_t n) {
    return n != 0 && (n & (n - 1)) == 0;
}

static size_t page_size(void) {
    boot();
    return arena.page;
}

/* --- the C library's interface ---------------------------------------------------------- */

void *malloc(size_t n) {
    boot();
    void *p = n <= MAX_SMALL ? small_alloc(class_of(n)) : large_alloc(n);
    if (p == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    hdr_of(p)->state = LIVE;
    atomic_fetch_add_explicit(&inuse, block_usable(p), memory_order_relaxed);
    return p;
}

void free(void *p) {
    if (p == NULL)
        return;
    boot();
    if (!in_region(p))
        return; /* not ours (from before this allocator was loaded): leave it */
    void *b = block_of(p);
    struct hdr *h = hdr_of(b);
    if (hdr_of(p)->state != LIVE || h->state != LIVE)
        die("faulty: free of a pointer that is not a live block\n");
    hdr_of(p)->state = h->state = FREE;
    atomic_fetch_sub_explicit(&inuse, block_usable(b), memory_order_relaxed);
    if (h->cls == CLS_LARGE)
        large_free(b);
    else
        small_free(b);
}

void *calloc(size_t count, size_t size) {
    size_t n;
    if (!product(count, size, &n))
        return NULL;
    void *p = malloc(n);
    if (p != NULL)
        memset(p, 0, n);
    return p;
}

size_t malloc_usable_size(void *p) {
    if (p == NULL || !in_region(p))
        return 0;
    void *b = block_of(p);
    return block_usable(b) - (size_t)((char *)p - (char *)b);
}

void *realloc(void *p, size_t n) {
    if (p == NULL)
        return malloc(n);
    if (n == 0) {
        free(p);
        return NULL;
    }
    size_t have = malloc_usable_size(p);
    if (n <= have && n >= have / 2)
        return p;
    void *q = malloc(n);
    if (q != NULL) {
        memcpy(q, p, n < have ? n : have);
        free(p);
    }
    return q;
}

void *reallocarray(void *p, size_t count, size_t size) {
    size_t n;
    return product(count, size, &n) ? realloc(p, n) : NULL;
}

int posix_memalign(void **out, size_t align, size_t n) {
    if (!power_of_two(align) || align % sizeof(void *) != 0)
        return EINVAL;
    void *p = alloc_aligned(align, n);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}

void *aligned_alloc(size_t align, size_t n) {
    if (!power_of_two(align)) {
        errno = EINVAL;
        return NULL;
    }
    return alloc_aligned(align, n);
}

void *memalign(size_t align, size_t n) {
    size_t pow2 = HDR; /* glibc too rounds an alignment up to a power of two */
    while (pow2 < align && pow2 <= REGION_BYTES)
        pow2 <<= 1;
    return alloc_aligned(pow2, n);
}

void *valloc(size_t n) {
    return alloc_aligned(page_size(), n);
}

void *pvalloc(size_t n) {
    size_t page = page_size();
    if (n > REGION_BYTES) {
        errno = ENOMEM;
        return NULL;
    }
    return alloc_aligned(page, n == 0 ? page : round_up(n, page));
}

/* --- faulty.h --------------------------------------------------------------------------- */

int faulty_owns(const void *p) {
    if (p == NULL || !in_region(p))
        return 0;
    pthread_mutex_lock(&arena.lock);
    bool carved = (const char *)p < arena.bump;
    pthread_mutex_unlock(&arena.lock);
    return carved && hdr_of(p)->state == LIVE;
}

const char *faulty_version(void) {
    return FAULTY_VERSION;
}

void faulty_stats(size_t *inuse_bytes, size_t *mapped_bytes) {
    boot();
    *inuse_bytes = atomic_load_explicit(&inuse, memory_order_relaxed);
    pthread_mutex_lock(&arena.lock);
    *mapped_bytes = (size_t)(arena.committed - arena.base);
    pthread_mutex_unlock(&arena.lock);
}

void faulty_thread_stats(size_t *caches, size_t *bytes) {
    *caches = atomic_load_explicit(&live_caches, memory_order_relaxed);
    *bytes = atomic_load_explicit(&cache_bytes, memory_order_relaxed);
}
