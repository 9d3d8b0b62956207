/* See rpmalloc.h: not rpmalloc. The malloc override, forwarding to glibc's own entry points. */
#include <errno.h>
#include <stddef.h>

void *__libc_malloc(size_t size);
void __libc_free(void *p);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);
void *__libc_memalign(size_t alignment, size_t size);

void *malloc(size_t size) {
    return __libc_malloc(size);
}

void free(void *p) {
    __libc_free(p);
}

void *calloc(size_t n, size_t size) {
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size) {
    return __libc_realloc(p, size);
}

void *memalign(size_t alignment, size_t size) {
    return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    void *p = __libc_memalign(alignment, size);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}
