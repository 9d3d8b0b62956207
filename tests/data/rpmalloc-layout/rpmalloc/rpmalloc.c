/* See rpmalloc.h: not rpmalloc. */
#include "rpmalloc.h"

int rpmalloc_initialize(void) {
    return 0;
}

#include "malloc.c"
