/*
 * explore_point: one program that runs any point of the space `tlsleak explore` searches
 * (harness/tlsleak/explore/space.py, docs/DESIGN.md "The explore program"), chosen on its command
 * line, so nothing is compiled per point:
 *
 *   explore_point --tls pthread|c11|cxx|tlsvar --round R --action ACTION --prealloc 0|1
 *                 --early-key 0|1 --keys K --end return|exit|detached
 *                 [--threads N] [--concurrency K] [--size BYTES] [--interval N]
 *
 * Each thread arms K destructors (pthread keys, C11 tss keys, C++ thread_local objects, or
 * pthread keys whose destructor finds its state in a __thread variable, not in the key's
 * value). Each destructor re-arms its key until round R of the thread's exit, then does the
 * ACTION once. The last four options are the common driver's (DESIGN.md "Repro command line"); the
 * checkpoint lines are the scenarios' ("Checkpoint line format"), with `scenario=explore_point`,
 * the mechanism in `tls=`, and one `point` line after `alloc` with the values in force.
 *
 * C++ only for thread_local; written in the C style of the scenarios.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../prim/prim.h"
#include "explore.h"
#include "repro.h"

namespace {

enum mech { M_PTHREAD, M_C11, M_CXX, M_TLSVAR };
const char *const mech_names[] = {"pthread", "c11", "cxx", "tlsvar"};

enum action {
    A_FREE,
    A_MALLOC_FREE,
    A_CALLOC,
    A_REALLOC,
    A_ALIGNED,
    A_HANDOFF,
    A_FREE_MANY,
    A_LARGE
};
const char *const action_names[] = {"free",    "malloc_free", "calloc",    "realloc",
                                    "aligned", "handoff",     "free_many", "large"};

enum end { E_RETURN, E_EXIT, E_DETACHED };
const char *const end_names[] = {"return", "exit", "detached"};

#define MANY_BLOCKS 200               /* free_many: blocks freed in a row, at most ... */
#define MANY_BUDGET ((size_t)1 << 20) /* ... and at most this many bytes */
#define LARGE_EXTRA ((size_t)1 << 20) /* large: 1 MiB + --size */
#define ALIGNMENT 4096

struct point {
    int mech, action, end;
    unsigned round, keys;
    int prealloc, early_key;
};
point pt = {M_PTHREAD, A_FREE, E_RETURN, 1, 1, 1, 0};

/* One destructor of one thread slot. */
struct ctx {
    unsigned key;   /* 0 .. keys-1 */
    unsigned round; /* rounds it ran so far in this thread's exit */
    int acted;
    void **held; /* blocks the thread holds (free, realloc, free_many): `nheld` */
    void *handed;
};

size_t block_size, nheld;
ctx *ctxs; /* concurrency x keys */
prim_tls_key pkeys[XP_MAX_KEYS], early_pkeys[XP_MAX_KEYS];
int early_rc = -1, early_tss_rc = -1;
__thread ctx *tv_ctx[XP_MAX_KEYS]; /* tlsvar: where the destructor finds its state */

int holds(int a) {
    return a == A_FREE || a == A_REALLOC || a == A_FREE_MANY;
}

void *touched(void *p, size_t n) {
    if (p == NULL) {
        tl_fatal("allocation failed in a destructor");
    } else {
        memset(p, 0xA5, n);
        tl_escape(p);
    }
    return p;
}

void act(ctx *c) {
    void *p = NULL;
    switch (pt.action) {
        case A_FREE:
            free(c->held[0]);
            c->held[0] = NULL;
            break;
        case A_MALLOC_FREE:
            tl_block_use(block_size);
            break;
        case A_CALLOC:
            free(touched(calloc(1, block_size), block_size));
            break;
        case A_REALLOC:
            free(touched(realloc(c->held[0], 2 * block_size), 2 * block_size));
            c->held[0] = NULL;
            break;
        case A_ALIGNED:
            if (posix_memalign(&p, ALIGNMENT, block_size) != 0)
                p = NULL;
            free(touched(p, block_size));
            break;
        case A_HANDOFF:
            c->handed = tl_block_new(block_size);
            break;
        case A_FREE_MANY:
            for (size_t i = 0; i < nheld; i++) {
                free(c->held[i]);
                c->held[i] = NULL;
            }
            break;
        default:
            tl_block_use(LARGE_EXTRA + block_size);
            break;
    }
    c->acted = 1;
}

void arm(ctx *c);

/* Every mechanism's destructor ends here: re-arm until the round wanted, then act. */
void on_exit_round(ctx *c) {
    if (++c->round < pt.round) {
        arm(c);
        return;
    }
    act(c);
}

void key_dtor(void *value) {
    if (pt.mech != M_TLSVAR) {
        on_exit_round(static_cast<ctx *>(value));
        return;
    }
    /* tlsvar: the value only says which key; the state comes from the __thread variable. */
    on_exit_round(tv_ctx[(uintptr_t)value - 1]);
}

struct acting { /* cxx: a thread_local object whose destructor acts */
    ctx *c;
    acting() : c(NULL) {}
    ~acting() {
        if (c != NULL)
            on_exit_round(c);
    }
    acting(const acting &) = delete;
    acting &operator=(const acting &) = delete;
};
thread_local acting actors[XP_MAX_KEYS];

prim_tls_key *key_table(void) {
    return pt.early_key ? early_pkeys : pkeys;
}

void arm(ctx *c) {
    int rc = 0;
    switch (pt.mech) {
        case M_PTHREAD:
            rc = prim_tls_set(key_table()[c->key], c);
            break;
        case M_C11:
            rc = xp_tss_set(pt.early_key ? c->key : XP_MAX_KEYS / 2 + c->key, c);
            break;
        case M_TLSVAR:
            tv_ctx[c->key] = c;
            rc = prim_tls_set(key_table()[c->key],
                              reinterpret_cast<const void *>(static_cast<uintptr_t>(c->key) + 1));
            break;
        default:
            actors[c->key].c = c; /* the first use registers its destructor */
            break;
    }
    if (rc != 0)
        tl_fatal("cannot set a thread-exit key");
}

/* Keys made before any allocator initialises: always, for every mechanism that has keys, so
 * --early-key picks between these and keys made in setup. Keys left unused cost nothing. */
PRIM_EARLY_INIT(make_early_keys) {
    early_rc = 0;
    early_tss_rc = 0;
    for (unsigned k = 0; k < XP_MAX_KEYS / 2; k++) {
        if (prim_tls_create(&early_pkeys[k], key_dtor) != 0)
            early_rc = -1;
        if (xp_tss_create(k, key_dtor) != 0)
            early_tss_rc = -1;
    }
}

int setup(const tl_params *p) {
    block_size = (size_t)p->size;
    nheld = 0;
    if (pt.action == A_FREE || pt.action == A_REALLOC)
        nheld = 1;
    if (pt.action == A_FREE_MANY) {
        nheld = MANY_BUDGET / block_size;
        nheld = nheld < 1 ? 1 : nheld > MANY_BLOCKS ? MANY_BLOCKS : nheld;
    }
    size_t n = (size_t)p->concurrency * pt.keys;
    ctxs = static_cast<ctx *>(calloc(n, sizeof *ctxs));
    void **blocks = static_cast<void **>(calloc(n * (nheld > 0 ? nheld : 1), sizeof(void *)));
    if (ctxs == NULL || blocks == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        ctxs[i].key = (unsigned)(i % pt.keys);
        ctxs[i].held = blocks + i * nheld;
    }
    printf("TLSLEAK/1 point tls=%s round=%u action=%s prealloc=%d early_key=%d keys=%u end=%s "
           "held=%zu\n",
           mech_names[pt.mech], pt.round, action_names[pt.action], pt.prealloc, pt.early_key,
           pt.keys, end_names[pt.end], nheld);
    fflush(stdout);
    if (pt.mech == M_CXX)
        return 0;
    if (pt.early_key)
        return pt.mech == M_C11 ? early_tss_rc : early_rc;
    for (unsigned k = 0; k < pt.keys; k++) {
        int rc = pt.mech == M_C11 ? xp_tss_create(XP_MAX_KEYS / 2 + k, key_dtor)
                                  : prim_tls_create(&pkeys[k], key_dtor);
        if (rc != 0)
            return -1;
    }
    return 0;
}

ctx *slot_ctx(size_t slot, unsigned k) {
    return &ctxs[slot * pt.keys + k];
}

void body(tl_thread *t) {
    for (unsigned k = 0; k < pt.keys; k++) {
        ctx *c = slot_ctx(t->slot, k);
        c->round = 0;
        c->acted = 0;
        if (pt.prealloc && holds(pt.action)) {
            for (size_t i = 0; i < nheld; i++)
                c->held[i] = tl_block_new(block_size);
        }
    }
    if (pt.prealloc && !holds(pt.action))
        tl_block_use(block_size);
    for (unsigned k = 0; k < pt.keys; k++)
        arm(slot_ctx(t->slot, k));
    if (pt.end == E_EXIT)
        tl_thread_exit();
}

/* prealloc 0: the main thread mallocs the blocks its threads will free. */
void before_batch(size_t n) {
    if (pt.prealloc || !holds(pt.action))
        return;
    for (size_t s = 0; s < n; s++) {
        for (unsigned k = 0; k < pt.keys; k++) {
            for (size_t i = 0; i < nheld; i++)
                slot_ctx(s, k)->held[i] = tl_block_new(block_size);
        }
    }
}

/* Every destructor must have acted (reached its round); handed blocks are freed here. */
void after_batch(size_t n) {
    for (size_t s = 0; s < n; s++) {
        for (unsigned k = 0; k < pt.keys; k++) {
            ctx *c = slot_ctx(s, k);
            if (!c->acted)
                tl_fatal("a thread ended before its destructor reached --round");
            free(c->handed);
            c->handed = NULL;
        }
    }
}

int lookup(const char *value, const char *const *names, int count) {
    for (int i = 0; i < count; i++) {
        if (strcmp(value, names[i]) == 0)
            return i;
    }
    return -1;
}

int number(const char *value, unsigned lo, unsigned hi) {
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(value, &end, 10);
    if (*value < '0' || *value > '9' || *end != '\0' || errno != 0 || v < lo || v > hi)
        return -1;
    return (int)v;
}

const char usage[] =
    "usage: explore_point [--tls pthread|c11|cxx|tlsvar] [--round R] [--action ACTION]\n"
    "                     [--prealloc 0|1] [--early-key 0|1] [--keys K]\n"
    "                     [--end return|exit|detached] [driver options]\n"
    "  ACTION: free malloc_free calloc realloc aligned handoff free_many large\n"
    "  (docs/DESIGN.md, The explore program; the driver options follow)\n";

/* The point's options out of argv; the rest is left for the driver. 0 ok, 1 help, 2 bad. */
int parse(int argc, char **argv, int *rest_argc, char **rest) {
    static const char *const opts[] = {"--tls",       "--round", "--action", "--prealloc",
                                       "--early-key", "--keys",  "--end"};
    *rest_argc = 0;
    rest[(*rest_argc)++] = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            return 1;
        int o = -1;
        const char *value = NULL;
        for (int k = 0; k < (int)(sizeof opts / sizeof opts[0]); k++) {
            size_t len = strlen(opts[k]);
            if (strncmp(arg, opts[k], len) == 0 && (arg[len] == '\0' || arg[len] == '=')) {
                o = k;
                value = arg[len] == '=' ? arg + len + 1 : NULL;
            }
        }
        if (o < 0) {
            rest[(*rest_argc)++] = argv[i];
            continue;
        }
        if (value == NULL && i + 1 >= argc) {
            fprintf(stderr, "explore_point: %s needs a value\n", opts[o]);
            return 2;
        }
        if (value == NULL)
            value = argv[++i];
        int v = -1;
        switch (o) {
            case 0:
                v = pt.mech = lookup(value, mech_names, 4);
                break;
            case 1:
                v = number(value, 1, 64);
                pt.round = (unsigned)v;
                break;
            case 2:
                v = pt.action = lookup(value, action_names, 8);
                break;
            case 3:
                v = pt.prealloc = number(value, 0, 1);
                break;
            case 4:
                v = pt.early_key = number(value, 0, 1);
                break;
            case 5:
                v = number(value, 1, XP_MAX_KEYS / 2);
                pt.keys = (unsigned)v;
                break;
            default:
                v = pt.end = lookup(value, end_names, 3);
                break;
        }
        if (v < 0) {
            fprintf(stderr, "explore_point: %s: bad value '%s' (try --help)\n", opts[o], value);
            return 2;
        }
    }
    rest[*rest_argc] = NULL;
    return 0;
}

/* What the point asks and this platform cannot do: one line, exit 2. */
const char *unsupported(void) {
    unsigned rounds = pt.mech == M_C11 ? xp_tss_rounds() : pt.mech == M_CXX ? 1 : prim_tls_rounds();
    if (pt.mech == M_C11 && rounds == 0)
        return "--tls c11: this build has no C11 threads";
    if (pt.round > rounds)
        return "--round: more destructor rounds than this mechanism runs on this platform";
    if (pt.mech == M_CXX && pt.early_key)
        return "--early-key 1: a thread_local object is registered at first use, not early";
    return NULL;
}

} // namespace

/* The start line's tls= (repro.h): the mechanism chosen at run time. */
extern "C" const char *tl_key_mechanism(void) {
    return mech_names[pt.mech];
}

int main(int argc, char **argv) {
    char **rest = static_cast<char **>(calloc((size_t)argc + 1, sizeof *rest));
    int rest_argc = 0;
    if (rest == NULL)
        return 1;
    int rc = parse(argc, argv, &rest_argc, rest);
    if (rc == 1) {
        fputs(usage, stdout);
        char help[] = "--help";
        char *argv_help[] = {argv[0], help, NULL};
        tl_scenario none{};
        none.name = "explore_point";
        return tl_run(2, argv_help, &none);
    }
    if (rc != 0)
        return 2;
    const char *why = unsupported();
    if (why != NULL) {
        fprintf(stderr, "explore_point: %s\n", why);
        return 2;
    }
    tl_scenario scenario{};
    scenario.name = "explore_point";
    scenario.setup = setup;
    scenario.body = body;
    scenario.before_batch = before_batch;
    scenario.after_batch = after_batch;
    if (pt.end == E_DETACHED)
        scenario.spawner = &tl_detached_spawner;
    return tl_run(rest_argc, rest, &scenario);
}
