/*
 * Strict command-line parsing (DESIGN.md "Repro command line"): decimal digits only, inside sane
 * bounds, so a typo in the harness fails loudly instead of measuring something else.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

const char tl_usage[] =
    "usage: SCENARIO [--threads N] [--concurrency K] [--size BYTES] [--interval N]\n"
    "  --threads N       threads to create and join in total (default 10000)\n"
    "  --concurrency K   threads alive at once (default 1)\n"
    "  --size BYTES      block size (default 1024)\n"
    "  --interval N      joined threads between checkpoints (default threads/40, at least 1)\n"
    "  --thread-api API  how threads are made: std (C++ scenarios), pthread (POSIX),\n"
    "                    beginthreadex or createthread (Windows); default: the scenario's own\n";

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

/* --thread-api's value: lower-case letters only; whether this build offers it is driver.c's. */
static int parse_api(const char *arg, int argc, char **argv, int *i, tl_params *p, char *err,
                     size_t err_size) {
    static const char name[] = "--thread-api";
    size_t len = sizeof name - 1;
    const char *value = arg[len] == '=' ? arg + len + 1 : NULL;
    if (value == NULL) {
        if (*i + 1 >= argc) {
            snprintf(err, err_size, "%s needs a value", name);
            return TL_ARGS_BAD;
        }
        value = argv[++*i];
    }
    size_t n = strlen(value);
    if (n == 0 || n >= sizeof p->thread_api || strspn(value, "abcdefghijklmnopqrstuvwxyz") != n) {
        snprintf(err, err_size, "%s: '%s' is not a thread API name", name, value);
        return TL_ARGS_BAD;
    }
    memcpy(p->thread_api, value, n + 1);
    return TL_ARGS_OK;
}

int tl_args_parse(int argc, char **argv, tl_params *p, char *err, size_t err_size) {
    uint64_t interval = 0;
    p->thread_api[0] = '\0';
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
        if (strncmp(arg, "--thread-api", 12) == 0 && (arg[12] == '\0' || arg[12] == '=')) {
            if (parse_api(arg, argc, argv, &i, p, err, err_size) != TL_ARGS_OK)
                return TL_ARGS_BAD;
            continue;
        }
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
