/*
 * tlsleak_sampler: samples the memory of a cell's whole process tree from outside, without
 * gaps, and streams what it sees to the harness on stdout (docs/DESIGN.md "The sampler").
 *
 *   tlsleak_sampler PID INTERVAL_US [--probe FILE] [--probe-lib LIB] [--preload LIB]
 *                   [--max-rss B] [--max-vsize B] [--max-maps N] [--threads N] [--released]
 *
 * Every INTERVAL_US it walks the tree under PID (the children of every thread of every
 * process, and every process it saw before, re-parented or not) and reads, per process, its
 * /proc/PID/stat (RSS, virtual size, threads) between two readings of its thread count in the
 * probe's FILE (probe.h), so the memory figure is paired with the threads finished around it.
 * A process that is gone (or a zombie) gives no sample: never a 0. The harness does the
 * statistics; nothing here waits for it (output is buffered, written without blocking). Once
 * it has sampled the command, it sets the file's `attached` word: a gated probe holds the
 * command's first process until then, so no thread runs unsampled.
 *
 * It stops the command itself, where the harness's own reaction could come too late: past a
 * cap (--max-rss and --max-vsize on the whole tree, --max-maps per process), and once the
 * processes of the command have finished --threads N threads while released (--released, or
 * "release" on stdin; "hold" takes it back: the harness holds a cell it cannot judge yet).
 *
 * Lines (fields separated by one space; a command is %XX-escaped):
 *   H 1 INTERVAL_NS realtime|normal                 once, first (its scheduling)
 *   N PID PPID START T_NS CMD                       a process seen first, or after an exec
 *   S T_NS                                          a sample begins (CLOCK_MONOTONIC ns)
 *   P PID RSS VSIZE THREADS ENDED SLOT FIN0 FIN1 STARTED   one process in that sample;
 *        ENDED: its thread ids seen to vanish so far; SLOT -1 (and -1 counts) without a slot
 *   M PID MAPS                                      its memory mappings (every 10th sample)
 *   L PID PROBE PRELOAD                             the probe / the preload mapped in it (0/1, -)
 *   G PID T_NS                                      gone (exited, zombie, or its pid reused)
 *   X cap rss|vsize|maps VALUE CAP  /  X threads N  the sampler killed the command
 *   E T_NS                                          the tree's first process is gone: the end
 */
#define _GNU_SOURCE
#include "probe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_TIDS_FULL_WALK 64 /* more threads: their children files every 16th sample only */
#define MAPS_EVERY 10
#define LIB_CHECK_AFTER 3 /* samples a process has lived before its libraries are checked */
#define OUT_LIMIT (64u << 20)

typedef struct proc {
    long pid;
    uint64_t start;
    int alive;
    char comm[64];
    long *tids;
    size_t ntids, captids;
    uint64_t ended;
    long slot;     /* index in the probe file, -1 none yet */
    int libs_done; /* 0 not checked, 1 checked without slot, 2 checked with its slot */
    unsigned seen; /* samples taken */
    int named;     /* its command line was read (else only its name) */
} proc;

static struct {
    long root;
    uint64_t interval_ns;
    const char *probe_file, *probe_lib, *preload;
    uint64_t max_rss, max_vsize, max_maps, threads;
    int released;
    volatile uint64_t *page;
    proc *procs;
    size_t nprocs, capprocs;
    char *out;
    size_t outlen, outcap;
    long page_size;
} S;

/* --- output, never blocking ------------------------------------------------------------------- */

static void emit(const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = sizeof line - 1;
    if (S.outlen + (size_t)n + 1 > S.outcap) {
        size_t cap = S.outcap ? S.outcap * 2 : 1u << 16;
        while (cap < S.outlen + (size_t)n + 1)
            cap *= 2;
        if (cap > OUT_LIMIT)
            exit(3); /* nobody reads: the harness is gone */
        char *p = realloc(S.out, cap);
        if (p == NULL)
            exit(3);
        S.out = p;
        S.outcap = cap;
    }
    memcpy(S.out + S.outlen, line, (size_t)n);
    S.outlen += (size_t)n;
    S.out[S.outlen++] = '\n';
}

static void flush_out(int block) {
    size_t done = 0;
    while (done < S.outlen) {
        ssize_t w = write(1, S.out + done, S.outlen - done);
        if (w > 0) {
            done += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN && block) {
            struct pollfd pfd = {1, POLLOUT, 0};
            poll(&pfd, 1, 1000);
            continue;
        }
        if (w < 0 && errno != EAGAIN)
            exit(3); /* the reader went away */
        break;
    }
    memmove(S.out, S.out + done, S.outlen - done);
    S.outlen -= done;
}

/* --- /proc ------------------------------------------------------------------------------------ */

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static ssize_t read_file(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n >= 0)
        buf[n] = '\0';
    return n;
}

typedef struct stat_fields {
    char state;
    long ppid;
    uint64_t threads, start, vsize, rss_pages;
    char comm[64];
} stat_fields;

/* Fields 2 (comm), 3, 4, 20, 22, 23, 24 of /proc/PID/stat; 0 when it cannot be read. */
static int read_stat(long pid, stat_fields *f) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    if (read_file(path, buf, sizeof buf) <= 0)
        return 0;
    char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
    if (open_paren == NULL || close_paren == NULL || close_paren < open_paren)
        return 0;
    size_t len = (size_t)(close_paren - open_paren - 1);
    if (len >= sizeof f->comm)
        len = sizeof f->comm - 1;
    memcpy(f->comm, open_paren + 1, len);
    f->comm[len] = '\0';
    char *p = close_paren + 2;
    unsigned long long v[24] = {0};
    f->state = *p;
    p += 2;
    for (int field = 4; field <= 24 && *p; field++) {
        v[field - 1] = strtoull(p, &p, 10);
        while (*p == ' ')
            p++;
    }
    f->ppid = (long)v[3];
    f->threads = v[19];
    f->start = v[21];
    f->vsize = v[22];
    f->rss_pages = v[23];
    return 1;
}

static void escaped(const char *in, size_t len, char *out, size_t size) {
    size_t o = 0;
    for (size_t i = 0; i < len && o + 4 < size; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '\0')
            c = ' '; /* between arguments */
        if (c <= ' ' || c == '%' || c >= 0x7f)
            o += (size_t)snprintf(out + o, size - o, "%%%02X", c);
        else
            out[o++] = (char)c;
    }
    out[o] = '\0';
}

/* Its command line; its name alone while the command line cannot be read (in the middle of an
 * exec), and then again at the next sample. */
static void emit_name(proc *p, long ppid, uint64_t t) {
    char path[64], buf[512], cmd[1600];
    snprintf(path, sizeof path, "/proc/%ld/cmdline", p->pid);
    ssize_t n = read_file(path, buf, sizeof buf);
    while (n > 0 && buf[n - 1] == '\0')
        n--;
    p->named = n > 0;
    if (n > 0)
        escaped(buf, (size_t)n, cmd, sizeof cmd);
    else
        escaped(p->comm, strlen(p->comm), cmd, sizeof cmd);
    emit("N %ld %ld %llu %llu %s", p->pid, ppid, (unsigned long long)p->start,
         (unsigned long long)t, cmd);
}

/* Whether `lib` is mapped in process `pid` (a line of /proc/PID/maps ends with it). */
static int mapped(long pid, const char *lib) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/maps", pid);
    FILE *fh = fopen(path, "re");
    if (fh == NULL)
        return -1;
    char line[4096];
    size_t want = strlen(lib);
    int found = 0;
    while (!found && fgets(line, sizeof line, fh) != NULL) {
        size_t len = strcspn(line, "\n");
        found = len >= want && memcmp(line + len - want, lib, want) == 0;
    }
    fclose(fh);
    return found;
}

static long count_maps(long pid) {
    char path[64], buf[65536];
    snprintf(path, sizeof path, "/proc/%ld/maps", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    long lines = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++)
            lines += buf[i] == '\n';
    close(fd);
    return lines;
}

/* --- the probe file --------------------------------------------------------------------------- */

static volatile uint64_t *slot_words(long i) {
    return S.page + TLSLEAK_PROBE_HEADER_WORDS + (size_t)i * TLSLEAK_PROBE_SLOT_WORDS;
}

static uint64_t load(volatile uint64_t *w) {
    return __atomic_load_n(w, __ATOMIC_ACQUIRE);
}

static void map_probe(void) {
    if (S.probe_file == NULL || S.page != NULL)
        return;
    int fd = open(S.probe_file, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_size >= (off_t)TLSLEAK_PROBE_FILE_SIZE) {
        void *m = mmap(NULL, TLSLEAK_PROBE_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m != MAP_FAILED) {
            volatile uint64_t *w = m;
            if (w[TLSLEAK_PROBE_W_MAGIC] == TLSLEAK_PROBE_MAGIC &&
                w[TLSLEAK_PROBE_W_VERSION] == TLSLEAK_PROBE_VERSION &&
                w[TLSLEAK_PROBE_W_SLOTS] == TLSLEAK_PROBE_SLOTS &&
                w[TLSLEAK_PROBE_W_SLOT_WORDS] == TLSLEAK_PROBE_SLOT_WORDS)
                S.page = w;
            else
                munmap(m, TLSLEAK_PROBE_FILE_SIZE);
        }
    }
    close(fd);
}

static uint64_t claimed_slots(void) {
    uint64_t claimed = load(&S.page[TLSLEAK_PROBE_W_CLAIMED]);
    return claimed < TLSLEAK_PROBE_SLOTS ? claimed : TLSLEAK_PROBE_SLOTS;
}

static long find_slot(const proc *p) {
    if (S.page == NULL)
        return -1;
    for (uint64_t i = claimed_slots(); i-- > 0;) {
        volatile uint64_t *s = slot_words((long)i);
        if (load(&s[TLSLEAK_PROBE_S_PID]) == (uint64_t)p->pid &&
            load(&s[TLSLEAK_PROBE_S_START]) == p->start)
            return (long)i;
    }
    return -1;
}

static uint64_t total_finished(void) {
    uint64_t total = 0;
    if (S.page == NULL)
        return 0;
    for (uint64_t i = 0; i < claimed_slots(); i++)
        total += load(&slot_words((long)i)[TLSLEAK_PROBE_S_FINISHED]);
    return total;
}

/* --- the tree --------------------------------------------------------------------------------- */

static proc *find_proc(long pid) {
    for (size_t i = 0; i < S.nprocs; i++)
        if (S.procs[i].pid == pid && S.procs[i].alive)
            return &S.procs[i];
    return NULL;
}

static void track(long pid, uint64_t t) {
    stat_fields f;
    if (find_proc(pid) != NULL || !read_stat(pid, &f) || f.state == 'Z' || f.state == 'X')
        return;
    if (S.nprocs == S.capprocs) {
        size_t cap = S.capprocs ? S.capprocs * 2 : 16;
        proc *p = realloc(S.procs, cap * sizeof *p);
        if (p == NULL)
            return;
        S.procs = p;
        S.capprocs = cap;
    }
    proc *p = &S.procs[S.nprocs++];
    memset(p, 0, sizeof *p);
    p->pid = pid;
    p->start = f.start;
    p->alive = 1;
    p->slot = -1;
    memcpy(p->comm, f.comm, sizeof p->comm);
    emit_name(p, f.ppid, t);
}

static void gone(proc *p, uint64_t t) {
    p->alive = 0;
    free(p->tids);
    p->tids = NULL;
    p->ntids = p->captids = 0;
    emit("G %ld %llu", p->pid, (unsigned long long)t);
}

static int has_tid(const long *tids, size_t n, long tid) {
    for (size_t i = 0; i < n; i++)
        if (tids[i] == tid)
            return 1;
    return 0;
}

typedef struct pids {
    long *v;
    size_t n, cap;
} pids;

static void pids_add(pids *l, long pid) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        long *grown = realloc(l->v, cap * sizeof *grown);
        if (grown == NULL)
            return;
        l->v = grown;
        l->cap = cap;
    }
    l->v[l->n++] = pid;
}

/* The process's thread ids now; counts those that vanished since the last sample, and adds
 * the children of each thread (all of them, or the main one's only when there are many) to
 * `children`, tracked by the caller once it no longer holds `p` (tracking moves the table). */
static void walk_tasks(proc *p, unsigned sample, pids *children) {
    char path[96];
    snprintf(path, sizeof path, "/proc/%ld/task", p->pid);
    DIR *d = opendir(path);
    if (d == NULL)
        return;
    pids now = {0};
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long tid = strtol(e->d_name, NULL, 10);
        if (tid > 0)
            pids_add(&now, tid);
    }
    closedir(d);
    int all = now.n <= MAX_TIDS_FULL_WALK || sample % 16 == 0;
    for (size_t i = 0; i < now.n; i++) {
        if (!all && now.v[i] != p->pid)
            continue;
        char buf[4096];
        snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", p->pid, now.v[i]);
        if (read_file(path, buf, sizeof buf) <= 0)
            continue;
        for (char *q = buf; *q;) {
            long child = strtol(q, &q, 10);
            if (child > 0)
                pids_add(children, child);
            while (*q == ' ')
                q++;
        }
    }
    for (size_t i = 0; i < p->ntids; i++)
        if (p->tids[i] != p->pid && !has_tid(now.v, now.n, p->tids[i]))
            p->ended++;
    free(p->tids);
    p->tids = now.v;
    p->ntids = now.n;
    p->captids = now.cap;
}

static void check_libs(proc *p) {
    if (S.probe_lib == NULL && S.preload == NULL)
        return;
    int probe = S.probe_lib ? mapped(p->pid, S.probe_lib) : -1;
    int preload = S.preload ? mapped(p->pid, S.preload) : -1;
    if (probe < 0 && S.probe_lib)
        return; /* gone meanwhile */
    emit("L %ld %s %s", p->pid,
         probe < 0 ? "-"
         : probe   ? "1"
                   : "0",
         preload < 0 ? "-"
         : preload   ? "1"
                     : "0");
}

/* One process in one sample; returns its RSS (0: gone, no sample), its children in
 * `children`. */
static uint64_t sample_proc(proc *p, unsigned sample, uint64_t t, uint64_t *vsize, pids *children) {
    if (p->slot < 0)
        p->slot = find_slot(p);
    volatile uint64_t *s = p->slot >= 0 ? slot_words(p->slot) : NULL;
    uint64_t fin0 = s ? load(&s[TLSLEAK_PROBE_S_FINISHED]) : 0;
    stat_fields f;
    int ok = read_stat(p->pid, &f);
    uint64_t fin1 = s ? load(&s[TLSLEAK_PROBE_S_FINISHED]) : 0;
    uint64_t started = s ? load(&s[TLSLEAK_PROBE_S_STARTED]) : 0;
    if (!ok || f.state == 'Z' || f.state == 'X' || f.start != p->start) {
        gone(p, t);
        return 0;
    }
    if (f.rss_pages == 0)
        return 0; /* in the middle of an exec (a new, empty memory map): no sample */
    if (strcmp(f.comm, p->comm) != 0 || (!p->named && p->seen < 10)) { /* an exec */
        memcpy(p->comm, f.comm, sizeof p->comm);
        emit_name(p, f.ppid, t);
    }
    uint64_t rss = f.rss_pages * (uint64_t)S.page_size;
    *vsize = f.vsize;
    walk_tasks(p, sample, children);
    if (s)
        emit("P %ld %llu %llu %llu %llu %ld %llu %llu %llu", p->pid, (unsigned long long)rss,
             (unsigned long long)f.vsize, (unsigned long long)f.threads,
             (unsigned long long)p->ended, p->slot, (unsigned long long)fin0,
             (unsigned long long)fin1, (unsigned long long)started);
    else
        emit("P %ld %llu %llu %llu %llu -1 -1 -1 -1", p->pid, (unsigned long long)rss,
             (unsigned long long)f.vsize, (unsigned long long)f.threads,
             (unsigned long long)p->ended);
    p->seen++;
    if ((p->libs_done == 0 && p->seen >= LIB_CHECK_AFTER) || (p->libs_done < 2 && s)) {
        check_libs(p);
        p->libs_done = s ? 2 : 1;
    }
    if (sample % MAPS_EVERY == 0) { /* reading the map list costs more */
        long maps = count_maps(p->pid);
        if (maps >= 0)
            emit("M %ld %ld", p->pid, maps);
        if (S.max_maps && maps > 0 && (uint64_t)maps > S.max_maps) {
            emit("X cap maps %ld %llu", maps, (unsigned long long)S.max_maps);
            return UINT64_MAX; /* the caller stops the command */
        }
    }
    return rss;
}

/* Stop the command, the record saying why already written: whoever reads of its end then
 * also reads why. */
static void kill_all(void) {
    flush_out(1);
    kill(-(pid_t)S.root, SIGKILL);
    for (size_t i = 0; i < S.nprocs; i++)
        if (S.procs[i].alive)
            kill((pid_t)S.procs[i].pid, SIGKILL);
}

/* One sample of the tree: 1 to go on, 0 when it is over (the first process gone, or the
 * command stopped here). */
static int sample_tree(unsigned sample) {
    uint64_t t = now_ns();
    map_probe();
    emit("S %llu", (unsigned long long)t);
    uint64_t rss_sum = 0, vsize_sum = 0;
    for (size_t i = 0; i < S.nprocs; i++) { /* grows as children are found */
        if (!S.procs[i].alive)
            continue;
        pids children = {0};
        uint64_t vsize = 0, rss = sample_proc(&S.procs[i], sample, t, &vsize, &children);
        for (size_t c = 0; c < children.n; c++)
            track(children.v[c], t); /* may move S.procs */
        free(children.v);
        if (rss == UINT64_MAX) {
            kill_all();
            return 0;
        }
        rss_sum += rss;
        vsize_sum += vsize;
    }
    if (S.max_rss && rss_sum > S.max_rss) {
        emit("X cap rss %llu %llu", (unsigned long long)rss_sum, (unsigned long long)S.max_rss);
        kill_all();
        return 0;
    }
    if (S.max_vsize && vsize_sum > S.max_vsize) {
        emit("X cap vsize %llu %llu", (unsigned long long)vsize_sum,
             (unsigned long long)S.max_vsize);
        kill_all();
        return 0;
    }
    uint64_t finished = S.threads ? total_finished() : 0;
    if (S.threads && S.released && finished >= S.threads) {
        emit("X threads %llu", (unsigned long long)finished);
        kill_all();
        return 0;
    }
    if (S.page != NULL && load(&S.page[TLSLEAK_PROBE_W_ATTACHED]) == 0)
        __atomic_store_n(&S.page[TLSLEAK_PROBE_W_ATTACHED], 1, __ATOMIC_RELEASE); /* go on */
    if (S.nprocs == 0 || !S.procs[0].alive) {
        emit("E %llu", (unsigned long long)now_ns());
        return 0;
    }
    return 1;
}

/* "release" / "hold" lines from the harness. */
static void read_commands(void) {
    static char buf[256];
    static size_t len;
    ssize_t n;
    while ((n = read(0, buf + len, sizeof buf - 1 - len)) > 0) {
        len += (size_t)n;
        buf[len] = '\0';
        char *nl;
        while ((nl = strchr(buf, '\n')) != NULL) {
            *nl = '\0';
            if (strcmp(buf, "release") == 0)
                S.released = 1;
            else if (strcmp(buf, "hold") == 0)
                S.released = 0;
            len -= (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, len + 1);
        }
        if (len == sizeof buf - 1)
            len = 0; /* an over-long line: dropped */
    }
}

static uint64_t number(const char *text, const char *what) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || end == text) {
        fprintf(stderr, "tlsleak_sampler: %s must be a number, not '%s'\n", what, text);
        exit(2);
    }
    return v;
}

static void parse(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: tlsleak_sampler PID INTERVAL_US [--probe FILE] [--probe-lib LIB]"
                        " [--preload LIB] [--max-rss B] [--max-vsize B] [--max-maps N]"
                        " [--threads N] [--released]\n");
        exit(2);
    }
    S.root = (long)number(argv[1], "PID");
    S.interval_ns = number(argv[2], "INTERVAL_US") * 1000u;
    for (int i = 3; i < argc; i++) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(opt, "--released") == 0) {
            S.released = 1;
            continue;
        }
        if (val == NULL) {
            fprintf(stderr, "tlsleak_sampler: %s needs a value\n", opt);
            exit(2);
        }
        i++;
        if (strcmp(opt, "--probe") == 0)
            S.probe_file = val;
        else if (strcmp(opt, "--probe-lib") == 0)
            S.probe_lib = val;
        else if (strcmp(opt, "--preload") == 0)
            S.preload = val;
        else if (strcmp(opt, "--max-rss") == 0)
            S.max_rss = number(val, opt);
        else if (strcmp(opt, "--max-vsize") == 0)
            S.max_vsize = number(val, opt);
        else if (strcmp(opt, "--max-maps") == 0)
            S.max_maps = number(val, opt);
        else if (strcmp(opt, "--threads") == 0)
            S.threads = number(val, opt);
        else {
            fprintf(stderr, "tlsleak_sampler: unknown option %s\n", opt);
            exit(2);
        }
    }
    if (S.interval_ns == 0) {
        fprintf(stderr, "tlsleak_sampler: INTERVAL_US must be above 0\n");
        exit(2);
    }
}

/* Where it is allowed (root, CAP_SYS_NICE, RLIMIT_RTPRIO), sample at the lowest real-time
 * priority: on a loaded machine a sleeping process otherwise wakes tens of milliseconds late.
 * It wakes for well under a millisecond per interval; a sample that takes more than half an
 * interval (a huge tree) drops it back to the normal policy for good. */
static int realtime;

static void set_realtime(int on) {
    struct sched_param sp;
    memset(&sp, 0, sizeof sp); /* musl's has reserved fields */
    sp.sched_priority = on ? 1 : 0;
    /* The system call itself: musl's sched_setscheduler() is a stub that fails (ENOSYS). */
    realtime = syscall(SYS_sched_setscheduler, 0,
                       (on ? SCHED_FIFO : SCHED_OTHER) | SCHED_RESET_ON_FORK, &sp) == 0 &&
               on;
}

int main(int argc, char **argv) {
    parse(argc, argv);
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); /* never outlive the harness */
    set_realtime(1);
    S.page_size = sysconf(_SC_PAGESIZE);
    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
    fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
#ifdef F_SETPIPE_SZ
    fcntl(1, F_SETPIPE_SZ, 1 << 20); /* room for a harness that reads late */
#endif
    emit("H 1 %llu %s", (unsigned long long)S.interval_ns, realtime ? "realtime" : "normal");
    uint64_t t0 = now_ns();
    track(S.root, t0);
    uint64_t next = t0;
    for (unsigned sample = 0;; sample++) {
        read_commands();
        uint64_t began = now_ns();
        int go_on = sample_tree(sample);
        if (realtime && now_ns() - began > S.interval_ns / 2)
            set_realtime(0);
        flush_out(!go_on);
        if (!go_on)
            return 0;
        next += S.interval_ns;
        uint64_t now = now_ns();
        if (next < now)
            next = now; /* fell behind (a loaded machine): sample at once, never in a burst */
        struct timespec ts = {(time_t)(next / 1000000000u), (long)(next % 1000000000u)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
    }
}
