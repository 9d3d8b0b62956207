/*
 * Platform layer for Linux (glibc or musl), on the POSIX tier (posix.c): /proc for memory
 * figures and thread lifetimes, the kernel's thread id, the link map for symbol files, and the
 * C library's version. /proc files are read with read(2) into fixed buffers, not stdio, so a
 * checkpoint does not allocate.
 */
#define _GNU_SOURCE
#include "posix.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <gnu/libc-version.h>
#endif

const char *prim_os_name(void) {
    return "linux";
}

/* Read a whole small /proc file into buf (NUL-terminated); returns its length or -1. */

static ssize_t read_small(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    while (len + 1 < size) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

/* Count lines of /proc/self/maps one buffer at a time: one line per mapping. */

static int count_maps(uint64_t *out) {
    char buf[4096];
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    uint64_t lines = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (const char *p = buf; (p = memchr(p, '\n', (size_t)(buf + n - p))) != NULL; p++)
            lines++;
    }
    close(fd);
    *out = lines;
    return 0;
}

void prim_mem_read(prim_mem *m) {
    char buf[8192];
    memset(m, 0, sizeof *m);

    unsigned long long size_pages, resident_pages;
    if (read_small("/proc/self/statm", buf, sizeof buf) > 0 &&
        sscanf(buf, "%llu %llu", &size_pages, &resident_pages) == 2) {
        uint64_t page = prim_posix_page_size();
        m->vsize = size_pages * page;
        m->rss = resident_pages * page;
        m->have |= PRIM_HAVE_VSIZE | PRIM_HAVE_RSS;
    }

    unsigned long long threads;
    const char *line;
    if (read_small("/proc/self/status", buf, sizeof buf) > 0 &&
        (line = strstr(buf, "\nThreads:")) != NULL && sscanf(line + 9, "%llu", &threads) == 1) {
        m->threads = threads;
        m->have |= PRIM_HAVE_THREADS;
    }

    if (count_maps(&m->maps) == 0)
        m->have |= PRIM_HAVE_MAPS;
}

uint64_t prim_thread_id(void) {
    return (uint64_t)syscall(SYS_gettid);
}

/* A thread of this process is listed in /proc/self/task until the kernel has reaped it, which
 * for a thread that is not the leader happens as it exits. Linux 6.9 and later give a pidfd for
 * a single thread (PIDFD_THREAD) that polls readable once it has exited, so the wait sleeps
 * instead of spinning; the spin on /proc remains for the moment between that and the reaping,
 * and for older kernels. */

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

void prim_thread_wait_gone(uint64_t id) {
#ifdef SYS_pidfd_open
    int fd = (int)syscall(SYS_pidfd_open, (pid_t)id, PIDFD_THREAD);
    if (fd >= 0) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        while (poll(&p, 1, -1) < 0 && errno == EINTR) {
        }
        close(fd);
    }
#endif
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%llu", (unsigned long long)id);
    while (access(path, F_OK) == 0)
        sched_yield();
}

#ifdef __GLIBC__
/* The file holding addr, "" for the main program (whose dladdr name would be argv[0]): the
 * link map's name, empty for the main program. 0 when the address is in no loaded object. */
static int object_name(const void *addr, const char **name) {
    Dl_info info;
    struct link_map *map = NULL;
    if (dladdr1(addr, &info, (void **)&map, RTLD_DL_LINKMAP) == 0)
        return 0;
    *name = map != NULL && map->l_name != NULL ? map->l_name : "";
    return 1;
}
#else
/* musl has no dladdr1. The main program is dl_iterate_phdr's first object: an address inside
 * one of its loaded segments is the program's (which is all there is in a static program,
 * where dladdr finds nothing); any other is dladdr's file. */
struct in_main {
    ElfW(Addr) addr;
    int found;
};

static int first_object(struct dl_phdr_info *info, size_t size, void *data) {
    struct in_main *m = data;
    (void)size;
    for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        ElfW(Addr) start = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && m->addr >= start && m->addr < start + ph->p_memsz)
            m->found = 1;
    }
    return 1; /* the first object only */
}

static int object_name(const void *addr, const char **name) {
    struct in_main m = {(ElfW(Addr))addr, 0};
    Dl_info info;
    dl_iterate_phdr(first_object, &m);
    if (m.found) {
        *name = "";
        return 1;
    }
    if (dladdr(addr, &info) == 0 || info.dli_fname == NULL)
        return 0;
    *name = info.dli_fname;
    return 1;
}
#endif

void prim_symbol_file(const void *addr, char *buf, size_t size) {
    char path[PATH_MAX];
    char real[PATH_MAX];
    const char *name = "";

    buf[0] = '\0';
    if (size == 0 || object_name(addr, &name) == 0)
        return;
    if (name[0] == '\0') {
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
        if (n <= 0)
            return;
        path[n] = '\0';
    } else {
        snprintf(path, sizeof path, "%s", name);
    }
    /* realpath into a caller buffer does not allocate. */
    snprintf(buf, size, "%s", realpath(path, real) != NULL ? real : path);
}

int prim_module_path(const char *name, char *buf, size_t size) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    return prim_posix_module_path(exe, name, buf, size);
}

void prim_libc(char *buf, size_t size) {
#ifdef __GLIBC__
    snprintf(buf, size, "glibc-%s", gnu_get_libc_version());
#elif defined(TLSLEAK_MUSL_VERSION)
    /* musl has no version call: the build says which it is compiled against. */
    snprintf(buf, size, "musl-%s", TLSLEAK_MUSL_VERSION);
#else
    snprintf(buf, size, "%s", "unknown");
#endif
}
