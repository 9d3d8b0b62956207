/*
 * Pieces several scenarios are built from, so each scenario file holds only what makes it
 * different.
 */
#include <stdlib.h>

#include "internal.h"

/* --- a block held under the key, freed by the key's destructor ---------------------------- */

static void free_block(void *block) {
    free(block);
}

int tl_keyblock_setup(const tl_params *p) {
    (void)p;
    return tl_key_create(free_block);
}

void tl_keyblock_body(tl_thread *t) {
    void *old = tl_key_get();
    if (old != NULL)
        free(old); /* first, so a thread never holds two blocks */
    if (tl_key_set(tl_block_new((size_t)t->params->size)) != 0)
        tl_fatal("cannot set the thread-exit key");
}

/* --- a key whose destructor uses the allocator --------------------------------------------- */

static void use_allocator(void *value) {
    const tl_thread *t = value;
    tl_block_use((size_t)t->params->size);
}

int tl_dtor_alloc_setup(const tl_params *p) {
    (void)p;
    return tl_key_create(use_allocator);
}

/* --- blocks handed to the main thread --------------------------------------------------------- */

static void **handed; /* one per slot; NULL when empty */

int tl_handoff_setup(const tl_params *p) {
    handed = calloc((size_t)p->concurrency, sizeof *handed);
    return handed != NULL ? 0 : -1;
}

void tl_handoff_put(const tl_thread *t, void *block) {
    if (handed[t->slot] != NULL)
        tl_fatal("a slot handed over two blocks in one batch");
    handed[t->slot] = block;
}

void tl_handoff_free(size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (handed[i] == NULL)
            tl_fatal("a thread ended without handing over its block");
        free(handed[i]);
        handed[i] = NULL;
    }
}
