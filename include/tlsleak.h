/*
 * tlsleak.h: checkpoint lines from your own program, for `tlsleak run --exec -- PROG`.
 * One header, C (C99 or later) and C++; nothing to link. docs/DESIGN.md "Checkpoint line format" is
 * the format.
 *
 *     #include "tlsleak.h"
 *     tlsleak_start("my_server", 0);          // optional: names the run
 *     for (n = 0; ...; n++) {
 *         ... create and join threads ...
 *         tlsleak_checkpoint(n);              // threads whose teardown is over so far
 *     }
 *     tlsleak_end(n, 1);                      // optional: finished, 1 = ok
 *
 * tlsleak_checkpoint(done) writes `TLSLEAK/1 cp done=N t_ns=T rss=R vsize=V`: `done` is the x
 * axis of the per-thread slope; rss and vsize are the process's own figures where they are
 * cheap to read (Linux: /proc/self/statm; macOS: task_info; Windows: working set and commit
 * charge), omitted elsewhere (the harness then uses its own samples of the process).
 *
 * Each line is one write to standard output (file descriptor 1), never through stdio and never
 * allocating, so it is whole even when several threads print, and it may be called where
 * malloc must not be. Flush your own stdout first if you print partial lines to it.
 *
 * In strict ISO C mode (-std=c99, -std=c11) on POSIX systems the header asks for POSIX.1-2008
 * (clock_gettime) itself; include it before other headers there, or define _POSIX_C_SOURCE.
 */
#ifndef TLSLEAK_CHECKPOINT_H
#define TLSLEAK_CHECKPOINT_H

#if !defined(_WIN32) && defined(__STRICT_ANSI__) && !defined(_POSIX_C_SOURCE) &&                   \
    !defined(_XOPEN_SOURCE) && !defined(_GNU_SOURCE) && !defined(_DEFAULT_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#if defined(_WIN32)
#include <windows.h>

#ifndef PSAPI_VERSION
#define PSAPI_VERSION 2 /* K32GetProcessMemoryInfo: in kernel32, nothing more to link */
#endif
#include <io.h>
#include <psapi.h>
#elif defined(__APPLE__)
#include <mach/mach.h>
#include <time.h>
#include <unistd.h>
#else
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The longest line written: prefix, kind, a handful of 20-digit numbers and one name. */
#define TLSLEAK_LINE_MAX 512

/* The clock's origin, shared by every translation unit that includes this header (a weak or
 * "select any" definition: the linker keeps one). 0 = not yet set. */
#if defined(_MSC_VER)
__declspec(selectany) volatile long long tlsleak_origin_ns = 0;
#else
__attribute__((weak)) volatile long long tlsleak_origin_ns = 0;
#endif

typedef struct tlsleak_line {
    char text[TLSLEAK_LINE_MAX];
    unsigned len;
} tlsleak_line;

static inline void tlsleak_put(tlsleak_line *l, const char *s) {
    while (*s != '\0' && l->len < TLSLEAK_LINE_MAX - 1)
        l->text[l->len++] = *s++;
}

/* A value with no space, control byte or '%': those become %XX (DESIGN.md "Checkpoint line
 * format"). */
static inline void tlsleak_put_value(tlsleak_line *l, const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    for (; *s != '\0' && l->len < TLSLEAK_LINE_MAX - 4; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= ' ' || c == '%' || c == 0x7f) {
            l->text[l->len++] = '%';
            l->text[l->len++] = hex[c >> 4];
            l->text[l->len++] = hex[c & 15];
        } else {
            l->text[l->len++] = (char)c;
        }
    }
}

static inline void tlsleak_put_u64(tlsleak_line *l, const char *key, unsigned long long v) {
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    tlsleak_put(l, " ");
    tlsleak_put(l, key);
    tlsleak_put(l, "=");
    while (n > 0 && l->len < TLSLEAK_LINE_MAX - 1)
        l->text[l->len++] = digits[--n];
}

static inline void tlsleak_write(tlsleak_line *l) {
    l->text[l->len++] = '\n';
#if defined(_WIN32)
    _write(1, l->text, l->len);
#else
    const char *p = l->text;
    unsigned left = l->len;
    while (left > 0) {
        ssize_t n = write(1, p, left);
        if (n <= 0)
            break; /* stdout closed or full: a checkpoint is not worth failing the program */
        p += n;
        left -= (unsigned)n;
    }
#endif
}

static inline long long tlsleak_clock_ns(void) {
#if defined(_WIN32)
    LARGE_INTEGER freq, now;
    QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&now);
    return (long long)((double)now.QuadPart * 1e9 / (double)freq.QuadPart);
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
#endif
}

/* Nanoseconds since the first call of any tlsleak_ function in the process. */
static inline unsigned long long tlsleak_elapsed_ns(void) {
    long long now = tlsleak_clock_ns();
#if defined(_MSC_VER)
    InterlockedCompareExchange64(&tlsleak_origin_ns, now, 0);
#else
    long long unset = 0;
    __atomic_compare_exchange_n(&tlsleak_origin_ns, &unset, now, 0, __ATOMIC_SEQ_CST,
                                __ATOMIC_SEQ_CST);
#endif
    long long origin = tlsleak_origin_ns;
    return now > origin ? (unsigned long long)(now - origin) : 0;
}

/* The process's memory figures that are cheap here: rss and vsize (bytes), commit (Windows).
 * A figure the platform cannot give is left out of the line. */
static inline void tlsleak_put_memory(tlsleak_line *l) {
#if defined(_WIN32)
    PROCESS_MEMORY_COUNTERS pmc;
    if (K32GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc)) {
        tlsleak_put_u64(l, "rss", (unsigned long long)pmc.WorkingSetSize);
        tlsleak_put_u64(l, "commit", (unsigned long long)pmc.PagefileUsage);
    }
#elif defined(__APPLE__)
    mach_task_basic_info_data_t info;
    mach_msg_type_number_t count = MACH_TASK_BASIC_INFO_COUNT;
    // cppcheck-suppress uninitvar ; task_info fills it in
    if (task_info(mach_task_self(), MACH_TASK_BASIC_INFO, (task_info_t)&info, &count) ==
        KERN_SUCCESS) {
        tlsleak_put_u64(l, "rss", (unsigned long long)info.resident_size);
        tlsleak_put_u64(l, "vsize", (unsigned long long)info.virtual_size);
    }
#elif defined(__linux__)
    /* statm: "size resident shared text lib data dt", in pages. */
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    unsigned long long pages[2] = {0, 0};
    const char *p = buf;
    for (int i = 0; i < 2; i++) {
        while (*p == ' ')
            p++;
        if (*p < '0' || *p > '9')
            return;
        while (*p >= '0' && *p <= '9')
            pages[i] = pages[i] * 10 + (unsigned long long)(*p++ - '0');
    }
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0)
        return;
    tlsleak_put_u64(l, "rss", pages[1] * (unsigned long long)page);
    tlsleak_put_u64(l, "vsize", pages[0] * (unsigned long long)page);
#else
    (void)l; /* no cheap figure: the harness measures the process from outside */
#endif
}

/* `TLSLEAK/1 start scenario=NAME [threads=N] pid=P`: optional, first. threads 0 = unknown. */
static inline void tlsleak_start(const char *name, unsigned long long threads) {
    tlsleak_line l;
    l.len = 0;
    tlsleak_elapsed_ns(); /* t_ns counts from here */
    tlsleak_put(&l, "TLSLEAK/1 start scenario=");
    tlsleak_put_value(&l, name != NULL && name[0] != '\0' ? name : "program");
    if (threads > 0)
        tlsleak_put_u64(&l, "threads", threads);
#if defined(_WIN32)
    tlsleak_put_u64(&l, "pid", (unsigned long long)GetCurrentProcessId());
#else
    tlsleak_put_u64(&l, "pid", (unsigned long long)getpid());
#endif
    tlsleak_write(&l);
}

/* `TLSLEAK/1 cp done=N t_ns=T rss=.. vsize=..`: `done` threads have ended so far. */
static inline void tlsleak_checkpoint(unsigned long long done) {
    tlsleak_line l;
    l.len = 0;
    unsigned long long t = tlsleak_elapsed_ns();
    tlsleak_put(&l, "TLSLEAK/1 cp");
    tlsleak_put_u64(&l, "done", done);
    tlsleak_put_u64(&l, "t_ns", t);
    tlsleak_put_memory(&l);
    tlsleak_write(&l);
}

/* `TLSLEAK/1 end done=N status=ok|error`: optional, last. */
static inline void tlsleak_end(unsigned long long done, int ok) {
    tlsleak_line l;
    l.len = 0;
    tlsleak_put(&l, "TLSLEAK/1 end");
    tlsleak_put_u64(&l, "done", done);
    tlsleak_put(&l, ok ? " status=ok" : " status=error");
    tlsleak_write(&l);
}

#ifdef __cplusplus
}
#endif

#endif
