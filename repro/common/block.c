/*
 * Blocks that really occupy memory, and the ways a scenario gives up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#if !defined(__GNUC__) && !defined(__clang__)
/* Without inline asm, a call the optimiser cannot see through does the same job. */
void *volatile tl_escape_sink;
void tl_escape(void *p) {
    tl_escape_sink = p;
}
#endif

void *tl_block_new(size_t size) {
    void *p = malloc(size);
    if (p == NULL) {
        char msg[64];
        snprintf(msg, sizeof msg, "malloc(%zu) failed", size);
        tl_fatal(msg);
    }
    /* Touch every page, so the block counts in rss and commit, not just in vsize. */
    memset(p, 0xA5, size);
    tl_escape(p);
    return p;
}

void tl_block_use(size_t size) {
    free(tl_block_new(size));
}

void tl_fatal(const char *msg) {
    fprintf(stderr, "tlsleak: %s\n", msg);
    fflush(stderr);
    /* _Exit: other threads may still run; atexit handlers and static destructors must not. */
    _Exit(1);
}

void tl_block_forever(void) {
    for (;;)
        prim_sleep_ms(1000);
}
