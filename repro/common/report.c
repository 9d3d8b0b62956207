/*
 * The TLSLEAK/1 printer (DESIGN.md "Checkpoint line format"). Each line is built in a stack buffer
 * and written with one fwrite and a flush, so a reader sees whole lines even if the process dies
 * right after, and printing allocates nothing beyond stdout's own buffer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

typedef struct line {
    char buf[8192];
    size_t len;
} line;

static void put(line *l, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(l->buf + l->len, sizeof l->buf - l->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        l->len += (size_t)n < sizeof l->buf - l->len ? (size_t)n : sizeof l->buf - l->len - 1;
}

/* key=value with the value percent-encoded where it holds a space, a control byte or '%', so
 * values never contain spaces. An empty value is omitted, as for an unknown figure. */
static void put_str(line *l, const char *key, const char *value) {
    if (value == NULL || value[0] == '\0')
        return;
    put(l, " %s=", key);
    for (const unsigned char *s = (const unsigned char *)value; *s != '\0'; s++) {
        if (*s <= ' ' || *s == '%' || *s == 0x7f)
            put(l, "%%%02X", *s);
        else
            put(l, "%c", *s);
    }
}

static void put_u64(line *l, const char *key, uint64_t value) {
    put(l, " %s=%llu", key, (unsigned long long)value);
}

static void emit(line *l) {
    put(l, "\n");
    fwrite(l->buf, 1, l->len, stdout);
    fflush(stdout);
}

static void begin(line *l, const char *kind) {
    l->len = 0;
    put(l, "TLSLEAK/1 %s", kind);
}

void tl_report_start(const char *scenario, const char *tls, const char *thread_api,
                     const tl_params *p) {
    line l;
    begin(&l, "start");
    put_str(&l, "scenario", scenario);
    put_str(&l, "tls", tls);
    put_u64(&l, "threads", p->threads);
    put_u64(&l, "concurrency", p->concurrency);
    put_u64(&l, "size", p->size);
    put_u64(&l, "interval", p->interval);
    put_str(&l, "thread_api", thread_api);
    put_u64(&l, "pid", prim_pid());
    put_str(&l, "os", prim_os_name());
    emit(&l);
}

void tl_report_alloc(const tl_alloc_info *a) {
    line l;
    begin(&l, "alloc");
    put_str(&l, "name", a->name);
    put_str(&l, "version", a->version);
    put_u64(&l, "owns", (uint64_t)a->owns);
    put_str(&l, "owns_by", a->owns_by);
    put_str(&l, "mode", a->mode);
    put_str(&l, "malloc_from", a->malloc_from);
    put_str(&l, "libc", a->libc);
    emit(&l);
}

/* The optional figures of a cp line, in print order: which `have` bit says the figure is
 * known, its key, and where it sits in its struct. */
typedef struct field {
    unsigned bit;
    const char *key;
    size_t offset;
} field;

static const field mem_fields[] = {
    {PRIM_HAVE_RSS, "rss", offsetof(prim_mem, rss)},
    {PRIM_HAVE_VSIZE, "vsize", offsetof(prim_mem, vsize)},
    {PRIM_HAVE_MAPS, "maps", offsetof(prim_mem, maps)},
    {PRIM_HAVE_THREADS, "os_threads", offsetof(prim_mem, threads)},
    {PRIM_HAVE_COMMIT, "commit", offsetof(prim_mem, commit)},
};

static const field heap_fields[] = {
    {TL_HEAP_INUSE, "heap_inuse", offsetof(tl_heap, inuse)},
    {TL_HEAP_MAPPED, "heap_mapped", offsetof(tl_heap, mapped)},
    {TL_HEAP_META, "alloc_meta", offsetof(tl_heap, meta)},
    {TL_HEAP_TCACHE, "alloc_tcache", offsetof(tl_heap, tcache)},
    {TL_HEAP_THREADS, "alloc_threads", offsetof(tl_heap, threads)},
};

static void put_fields(line *l, const field *f, size_t n, unsigned have, const void *base) {
    for (size_t i = 0; i < n; i++) {
        if (have & f[i].bit) {
            uint64_t value;
            memcpy(&value, (const char *)base + f[i].offset, sizeof value);
            put_u64(l, f[i].key, value);
        }
    }
}

void tl_report_cp(uint64_t done, uint64_t t_ns, const prim_mem *m, const tl_heap *h) {
    line l;
    begin(&l, "cp");
    put_u64(&l, "done", done);
    put_u64(&l, "t_ns", t_ns);
    put_fields(&l, mem_fields, sizeof mem_fields / sizeof mem_fields[0], m->have, m);
    put_fields(&l, heap_fields, sizeof heap_fields / sizeof heap_fields[0], h->have, h);
    put_str(&l, "commit_from", m->commit_from);
    emit(&l);
}

void tl_report_end(uint64_t done, const char *status) {
    line l;
    begin(&l, "end");
    put_u64(&l, "done", done);
    put_str(&l, "status", status);
    emit(&l);
}
