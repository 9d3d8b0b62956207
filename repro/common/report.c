/*
 * The TLSLEAK/1 printer (DESIGN.md section 3). Each line is built in a stack buffer and
 * written with one fwrite and a flush, so a reader sees whole lines even if the process dies
 * right after, and printing allocates nothing beyond stdout's own buffer.
 */
#include <stdarg.h>
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

void tl_report_start(const char *scenario, const char *tls, const tl_params *p) {
    line l;
    begin(&l, "start");
    put_str(&l, "scenario", scenario);
    put_str(&l, "tls", tls);
    put_u64(&l, "threads", p->threads);
    put_u64(&l, "concurrency", p->concurrency);
    put_u64(&l, "size", p->size);
    put_u64(&l, "interval", p->interval);
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
    put_str(&l, "malloc_from", a->malloc_from);
    put_str(&l, "libc", a->libc);
    emit(&l);
}

void tl_report_cp(uint64_t done, uint64_t t_ns, const prim_mem *m, const tl_heap *h) {
    line l;
    begin(&l, "cp");
    put_u64(&l, "done", done);
    put_u64(&l, "t_ns", t_ns);
    if (m->have & PRIM_HAVE_RSS)
        put_u64(&l, "rss", m->rss);
    if (m->have & PRIM_HAVE_VSIZE)
        put_u64(&l, "vsize", m->vsize);
    if (m->have & PRIM_HAVE_MAPS)
        put_u64(&l, "maps", m->maps);
    if (m->have & PRIM_HAVE_THREADS)
        put_u64(&l, "os_threads", m->threads);
    if (m->have & PRIM_HAVE_COMMIT)
        put_u64(&l, "commit", m->commit);
    if (h->have & TL_HEAP_INUSE)
        put_u64(&l, "heap_inuse", h->inuse);
    if (h->have & TL_HEAP_MAPPED)
        put_u64(&l, "heap_mapped", h->mapped);
    if (h->have & TL_HEAP_META)
        put_u64(&l, "alloc_meta", h->meta);
    if (h->have & TL_HEAP_TCACHE)
        put_u64(&l, "alloc_tcache", h->tcache);
    if (h->have & TL_HEAP_THREADS)
        put_u64(&l, "alloc_threads", h->threads);
    emit(&l);
}

void tl_report_end(uint64_t done, const char *status) {
    line l;
    begin(&l, "end");
    put_u64(&l, "done", done);
    put_str(&l, "status", status);
    emit(&l);
}
