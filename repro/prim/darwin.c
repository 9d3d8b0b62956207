/*
 * Platform layer for macOS, on the POSIX tier (posix.c). Built only on Apple (CMake picks it);
 * not compiled on the Linux CI. Memory figures and threads from the Mach task (task_info,
 * task_threads), which hand back kernel memory (vm_deallocate), never malloc's. No mapping
 * count: walking the regions is costly and the harness does not need it to judge.
 */
#include "posix.h"

#include <dispatch/dispatch.h>
#include <dlfcn.h>
#include <limits.h>
#include <mach-o/dyld.h>
#include <mach/mach.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *prim_os_name(void) {
    return "darwin";
}

/* Calls fn(thread, arg) for each thread of this task until it returns nonzero; returns the
 * number of threads, or -1. The list and its ports are the kernel's: handed back here. */
static long each_thread(int (*fn)(thread_act_t thread, void *arg), void *arg) {
    thread_act_array_t list;
    mach_msg_type_number_t count = 0;
    if (task_threads(mach_task_self(), &list, &count) != KERN_SUCCESS)
        return -1;
    int stop = 0;
    for (mach_msg_type_number_t i = 0; i < count; i++) {
        if (fn != NULL && !stop)
            stop = fn(list[i], arg);
        mach_port_deallocate(mach_task_self(), list[i]);
    }
    vm_deallocate(mach_task_self(), (vm_address_t)list, count * sizeof *list);
    return (long)count;
}

/* rss resident bytes; commit the physical footprint (what Activity Monitor shows as Memory:
 * dirty and compressed pages the task owns), the nearest thing macOS has to a commit charge. */
void prim_mem_read(prim_mem *m) {
    memset(m, 0, sizeof *m);
    task_vm_info_data_t vm;
    memset(&vm, 0, sizeof vm);
    mach_msg_type_number_t n = TASK_VM_INFO_COUNT;
    if (task_info(mach_task_self(), TASK_VM_INFO, (task_info_t)&vm, &n) == KERN_SUCCESS) {
        m->rss = vm.resident_size;
        m->vsize = vm.virtual_size;
        m->commit = vm.phys_footprint;
        m->have |= PRIM_HAVE_RSS | PRIM_HAVE_VSIZE | PRIM_HAVE_COMMIT;
    }
    long threads = each_thread(NULL, NULL);
    if (threads >= 0) {
        m->threads = (uint64_t)threads;
        m->have |= PRIM_HAVE_THREADS;
    }
}

/* The system-wide thread id, the same number thread_info reports as thread_id. */
uint64_t prim_thread_id(void) {
    uint64_t id = 0;
    pthread_threadid_np(pthread_self(), &id);
    return id;
}

struct wanted_thread {
    uint64_t id;
    int found;
};

static int is_thread(thread_act_t thread, void *arg) {
    struct wanted_thread *want = arg;
    thread_identifier_info_data_t info;
    memset(&info, 0, sizeof info);
    mach_msg_type_number_t n = THREAD_IDENTIFIER_INFO_COUNT;
    if (thread_info(thread, THREAD_IDENTIFIER_INFO, (thread_info_t)&info, &n) == KERN_SUCCESS &&
        info.thread_id == want->id)
        want->found = 1;
    return want->found;
}

/* No /proc and no thread descriptor to poll: the thread is gone once the task no longer lists
 * it (or the list cannot be read). */
void prim_thread_wait_gone(uint64_t id) {
    for (;;) {
        struct wanted_thread want = {id, 0};
        if (each_thread(is_thread, &want) < 0 || !want.found)
            return;
        sched_yield();
    }
}

/* dladdr names the main executable by its full path too; realpath into a caller buffer does not
 * allocate. */
void prim_symbol_file(const void *addr, char *buf, size_t size) {
    char real[PATH_MAX];
    Dl_info info;
    if (size == 0)
        return;
    buf[0] = '\0';
    if (dladdr(addr, &info) == 0 || info.dli_fname == NULL)
        return;
    snprintf(buf, size, "%s", realpath(info.dli_fname, real) != NULL ? real : info.dli_fname);
}

int prim_module_path(const char *name, char *buf, size_t size) {
    char exe[PATH_MAX];
    char real[PATH_MAX];
    uint32_t exe_size = sizeof exe;
    if (_NSGetExecutablePath(exe, &exe_size) != 0 || realpath(exe, real) == NULL)
        return -1;
    return prim_posix_module_path(real, name, buf, size);
}

/* macOS's C library is libSystem, which has no run-time version call. */
void prim_libc(char *buf, size_t size) {
    snprintf(buf, size, "%s", "libSystem");
}

/* Semaphores on libdispatch: macOS has no unnamed POSIX ones (posix.c leaves them out).
 * dispatch_semaphore_create allocates: set-up only, as prim.h says. */
int prim_sem_init(prim_sem *s) {
    dispatch_semaphore_t sem = dispatch_semaphore_create(0);
    if (sem == NULL)
        return -1;
    s->handle = (uintptr_t)sem;
    return 0;
}

void prim_sem_post(prim_sem *s) {
    dispatch_semaphore_signal((dispatch_semaphore_t)s->handle);
}

void prim_sem_wait(prim_sem *s) {
    dispatch_semaphore_wait((dispatch_semaphore_t)s->handle, DISPATCH_TIME_FOREVER);
}
