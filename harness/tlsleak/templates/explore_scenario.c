/*
 * @scenario $name tls=$tls
 * @role scenario
 * @summary $summary
 * @refs none
 *
 * The point of `tlsleak explore`'s space (docs/DESIGN.md section 7):
 * $key.
@@if note
$note
@@end
 * Each thread $body arms the key$then_exit; at thread exit its destructor mallocs, writes and
 * frees a --size block$when.
 */
#include "repro.h"

static void dtor(void *value) {
    tl_thread *t = value;
@@if last
    if (tl_key_rearm(t))
        return;
@@end
    tl_block_use((size_t)t->params->size);
}

static int setup(const tl_params *p) {
    (void)p;
    return tl_key_create(dtor);
}

static void body(tl_thread *t) {
@@if prealloc
    tl_block_use((size_t)t->params->size);
@@end
    tl_key_arm(t);
@@if exit
    tl_thread_exit();
@@end
}

int main(int argc, char **argv) {
    static const tl_scenario scenario = {.name = TLSLEAK_SCENARIO, .setup = setup, .body = body};
    return tl_run(argc, argv, &scenario);
}
