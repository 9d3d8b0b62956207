/*
 * Strict command-line parsing (DESIGN.md section 2): decimal digits only, inside sane bounds,
 * so a typo in the harness fails loudly instead of measuring something else.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

const char tl_usage[] =
    "usage: SCENARIO [--threads N] [--concurrency K] [--size BYTES] [--interval N]\n"
    "  --threads N       threads to create and join in total (default 10000)\n"
    "  --concurrency K   threads alive at once (default 1)\n"
    "  --size BYTES      block size (default 1024)\n"
    "  --interval N      joined threads between checkpoints (default threads/40, at least 1)\n";

typedef struct option {
    const char *name;
    uint64_t min, max;
    uint64_t *value;
} option;

/* Digits only: no sign, no spaces, no hex, no suffix. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out) {
    uint64_t v = 0;
    if (*s == '\0')
        return -1;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned digit = (unsigned)(*s - '0');
        if (v > (max - digit) / 10)
            return 1; /* too large */
        v = v * 10 + digit;
    }
    *out = v;
    return 0;
}

int tl_args_parse(int argc, char **argv, tl_params *p, char *err, size_t err_size) {
    uint64_t interval = 0;
    p->threads = 10000;
    p->concurrency = 1;
    p->size = 1024;
    option opts[] = {
        {"--threads", 1, 100000000, &p->threads},
        {"--concurrency", 1, 4096, &p->concurrency},
        {"--size", 1, (uint64_t)1 << 30, &p->size},
        {"--interval", 1, 100000000, &interval},
    };

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            return TL_ARGS_HELP;
        const option *opt = NULL;
        const char *value = NULL;
        for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
            size_t len = strlen(opts[k].name);
            if (strncmp(arg, opts[k].name, len) == 0 && (arg[len] == '\0' || arg[len] == '=')) {
                opt = &opts[k];
                value = arg[len] == '=' ? arg + len + 1 : NULL;
                break;
            }
        }
        if (opt == NULL) {
            snprintf(err, err_size, "unknown argument '%s' (try --help)", arg);
            return TL_ARGS_BAD;
        }
        if (value == NULL) {
            if (i + 1 >= argc) {
                snprintf(err, err_size, "%s needs a value", opt->name);
                return TL_ARGS_BAD;
            }
            value = argv[++i];
        }
        uint64_t v = 0;
        int rc = parse_u64(value, opt->max, &v);
        if (rc != 0 || v < opt->min) {
            snprintf(err, err_size, "%s: '%s' is not a whole number from %llu to %llu", opt->name,
                     value, (unsigned long long)opt->min, (unsigned long long)opt->max);
            return TL_ARGS_BAD;
        }
        *opt->value = v;
    }

    /* Values in force: no more threads alive, or between checkpoints, than threads in all. */
    if (p->concurrency > p->threads)
        p->concurrency = p->threads;
    if (interval == 0)
        interval = p->threads / 40 > 0 ? p->threads / 40 : 1;
    p->interval = interval < p->threads ? interval : p->threads;
    return TL_ARGS_OK;
}
