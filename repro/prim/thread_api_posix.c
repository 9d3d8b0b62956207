/*
 * --thread-api on POSIX (DESIGN.md section 2): one API, pthread_create. Its own file so the
 * POSIX platform files need not change; fold it into them when they next change.
 */
#include <string.h>

#include "prim.h"

int prim_thread_api_set(const char *name) {
    return strcmp(name, "pthread") == 0 ? 0 : -1;
}

const char *prim_thread_api_name(void) {
    return "pthread";
}
