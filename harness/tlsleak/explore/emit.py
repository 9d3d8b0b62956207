"""A standalone repro for one point of the space: a C file (C++ only for tls=cxx) of about 60
lines that includes no project header, only libc and pthread (and threads.h for c11), creates
and joins threads with exactly the point's teardown shape, and prints "threads_done rss_bytes"
(RSS from /proc/self/statm) every N threads; plus the commands that build it against an
allocator configuration and run it. What an allocator maintainer can compile and run alone.

Linux only (statm, /proc/self/task, .preinit_array), like the faulty allocator. Only the lines
the point needs are emitted, so every file stays short; each piece below is one dimension's
value. Stdlib only.
"""

from __future__ import annotations

import os
import shlex

from . import space

# action -> the destructor's statement(s); `c` is its struct ctx, SIZE and HELD are enums.
ACTIONS = {
    "free": "free(c->held[0]);",
    "malloc_free": "free(fill(SIZE));",
    "calloc": "free(touch(calloc(1, SIZE), SIZE));",
    "realloc": "free(touch(realloc(c->held[0], 2 * SIZE), 2 * SIZE));",
    "aligned": "void *p = NULL;\n    if (posix_memalign(&p, 4096, SIZE) != 0)\n        abort();\n"
               "    free(touch(p, SIZE));",
    "handoff": "c->out = fill(SIZE);",
    "free_many": "for (int i = 0; i < HELD; i++)\n        free(c->held[i]);",
    "large": "free(fill((1 << 20) + SIZE));",
}

# tls -> (set the key of ctx c to value v, create key k)
KEYS = {
    "pthread": ("pthread_setspecific(keys[c->k], v)", "pthread_key_t",
                "pthread_key_create(&keys[k], dtor)"),
    "tlsvar": ("pthread_setspecific(keys[c->k], v)", "pthread_key_t",
               "pthread_key_create(&keys[k], dtor)"),
    "c11": ("tss_set(keys[c->k], v)", "tss_t", "tss_create(&keys[k], dtor)"),
}


def held(point: dict) -> int:
    """Blocks each destructor holds, as explore_point counts them."""
    if point["action"] == "free_many":
        return max(1, min(200, (1 << 20) // point["size"]))
    return 1


def filename(point: dict, stem: str = "leak") -> str:
    return stem + (".cpp" if point["tls"] == "cxx" else ".c")


def source(point: dict, *, title: str = "", build: str = "", run: str = "") -> str:
    """The standalone file for `point` (normalised first)."""
    p = space.normalise(point)
    tls, end, holds = p["tls"], p["end"], p["action"] in space.HOLDING_ACTIONS
    cxx, detached = tls == "cxx", p["end"] == "detached"
    out = ["/* %s %s" % (title or "tlsleak explore:", space.key(p))]
    if build:
        out.append(" * Build: %s" % build)
    out += [" * Run:   %s   (args: threads every; prints: threads_done rss_bytes) */"
            % (run or "./leak 20000 1000")]
    out += ["#include <%s>" % h for h in ["pthread.h", "stdio.h", "stdlib.h", "string.h",
                                          "unistd.h"]
            + (["threads.h"] if tls == "c11" else [])
            + (["sched.h"] if detached else [])]
    out += ["enum { SIZE = %d, KEYS = %d, ROUND = %d, CONC = %d, HELD = %d };"
            % (p["size"], p["keys"], p["round"], p["concurrency"], held(p)),
            "static struct ctx { int k, round; void *held[HELD]; void *out; } ctxs[CONC][KEYS];"]
    if not cxx:
        out.append("static %s keys[KEYS];" % KEYS[tls][1])
    if tls == "tlsvar":
        out.append("static __thread struct ctx *mine[KEYS]; /* what the destructor reads */")
    out += ["static void *touch(void *p, size_t n) {",
            "    if (p == NULL) abort();",
            "    __asm__ volatile(\"\" : : \"r\"(p) : \"memory\"); /* keep the block */",
            "    return memset(p, 0xA5, n);\n}",
            "static void *fill(size_t n) { return touch(malloc(n), n); }"]
    action = ACTIONS[p["action"]]
    if cxx:
        out += ["struct acting { /* a thread_local object whose destructor acts */",
                "    struct ctx *c = nullptr;",
                "    ~acting() {\n        if (c == nullptr) return;",
                "        " + action.replace("\n    ", "\n        ") + "\n    }\n};",
                "static thread_local acting actors[KEYS];"]
    else:
        value = ("mine[(long)v - 1]" if tls == "tlsvar" else "(struct ctx *)v")
        out += ["static void dtor(void *v) { /* re-armed until round ROUND, then acts */",
                "    struct ctx *c = %s;" % value,
                "    if (++c->round < ROUND) { %s; return; }" % KEYS[tls][0],
                "    " + action + "\n}"]
    out += ["static void *body(void *v) {", "    struct ctx *c = (struct ctx *)v;",
            "    for (int k = 0; k < KEYS; k++) {", "        c[k].k = k, c[k].round = 0;"]
    if holds and p["prealloc"]:
        out.append("        for (int i = 0; i < HELD; i++) c[k].held[i] = fill(SIZE);")
    if cxx:
        out.append("        actors[k].c = &c[k];")
    elif tls == "tlsvar":
        out.append("        mine[k] = &c[k];\n"
                   "        pthread_setspecific(keys[k], (void *)(long)(k + 1));")
    else:
        out.append("        %s;" % KEYS[tls][0].replace("c->k", "k").replace(", v)", ", &c[k])"))
    out.append("    }")
    if p["prealloc"] and not holds:
        out.append("    free(fill(SIZE)); /* the thread uses the allocator before its exit */")
    out.append("    pthread_exit(NULL);\n}" if end == "exit" else "    return NULL;\n}")
    if not cxx:
        out.append("static void make_keys(void) {\n"
                   "    for (int k = 0; k < KEYS; k++) %s;\n}" % KEYS[tls][2])
        if p["early_key"]:
            out.append("/* keys made before any allocator initialises, even a preloaded one */\n"
                       "__attribute__((used, section(\".preinit_array\"))) "
                       "static void (*early)(void) = make_keys;")
    out += ["static long proc(const char *path, const char *format) { /* a number in /proc */",
            "    long v = 0;\n    FILE *f = fopen(path, \"r\");",
            "    if (f != NULL && fscanf(f, format, &v) != 1) v = 0;",
            "    if (f != NULL) fclose(f);\n    return v;\n}",
            "static long rss(void) {",
            "    return proc(\"/proc/self/statm\", \"%*s %ld\") * sysconf(_SC_PAGESIZE);\n}"]
    if detached:
        out.append("static long threads(void) { /* field 20 of stat: num_threads */\n"
                   "    return proc(\"/proc/self/stat\", \"%*d %*s %*c" + " %*s" * 16
                   + " %ld\");\n}")
    out += [
            "int main(int argc, char **argv) {",
            "    long n = argc > 1 ? atol(argv[1]) : 20000, every = argc > 2 ? atol(argv[2]) : 1000;",
            "    pthread_t t[CONC];"]
    if not cxx and not p["early_key"]:
        # As in explore_point: the allocator initialises (and makes its own key, if it uses
        # one) before the program's keys, so its destructor runs first.
        out.append("    free(fill(SIZE)); make_keys(); /* the allocator initialises first */")
    out.append("    setvbuf(stdout, NULL, _IOLBF, 0);")
    if detached:
        out.append("    pthread_attr_t attr;\n    pthread_attr_init(&attr);\n"
                   "    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);")
    out.append("    for (long done = 0, next = 0;; done += CONC) {\n"
               "        if (done >= next || done >= n)\n"
               "            printf(\"%ld %ld\\n\", done, rss()), next += every;\n"
               "        if (done >= n) break;")
    if holds and not p["prealloc"]:
        out.append("        for (int s = 0; s < CONC; s++) /* the main thread allocates */\n"
                   "            for (int k = 0; k < KEYS; k++)\n"
                   "                for (int i = 0; i < HELD; i++) "
                   "ctxs[s][k].held[i] = fill(SIZE);")
    out.append("        for (int s = 0; s < CONC; s++)\n"
               "            if (pthread_create(&t[s], %s, body, ctxs[s]) != 0) return 1;"
               % ("&attr" if detached else "NULL"))
    if detached:
        out.append("        while (threads() > 1) sched_yield(); /* until the OS let them go */")
    else:
        out.append("        for (int s = 0; s < CONC; s++) pthread_join(t[s], NULL);")
    if p["action"] == "handoff":
        out.append("        for (int s = 0; s < CONC; s++)\n"
                   "            for (int k = 0; k < KEYS; k++) free(ctxs[s][k].out);")
    out.append("    }\n    return 0;\n}")
    text = "\n".join(out) + "\n"
    if text.count("fill(") == 1:  # only its definition: not needed by this point
        text = text.replace("static void *fill(size_t n) { return touch(malloc(n), n); }\n", "")
    return text


def link_args(config: dict) -> tuple:
    """(extra compile/link arguments, library to preload or "") for a manifest configuration
    (docs/DESIGN.md section 4): nothing for system; the library itself for dynamic (with an
    rpath) and static (an archive, or a source file such as faulty's, compiled in); LD_PRELOAD
    for override."""
    mode, lib = config.get("mode"), config.get("library") or ""
    if mode == "override":
        return [], config.get("preload") or lib
    if mode == "dynamic":
        return ["-Wl,--no-as-needed", lib, "-Wl,-rpath," + os.path.dirname(lib)], ""
    if mode == "static" and lib.endswith(".c"):
        # A source-file allocator (faulty) is compiled in, with what its build gives it.
        macro = "%s_VERSION=\"%s\"" % (config["name"].upper(), config.get("version", ""))
        return ["-fno-builtin", "-D" + macro, lib], ""
    if mode == "static":
        # An archive brings no dependencies of its own: libm and libdl, as allocators/*.cmake
        # link a static allocator with (jemalloc's uses both).
        return [lib, "-lm", "-ldl"], ""
    return [], ""


def commands(point: dict, config: dict | None = None, *, path: str = "leak.c",
             env: dict | None = None, threads: int = 20000, every: int = 1000) -> tuple:
    """(build command, run command) as shell text for the file at `path` built against
    `config` (None: the system allocator). `env` is put before the run (e.g. TLSLEAK_FAULTY)."""
    cxx = space.normalise(point)["tls"] == "cxx"
    exe = os.path.splitext(path)[0]
    extra, preload = link_args(config or {"mode": "system"})
    build = ["c++" if cxx else "cc", "-O2", "-Wall", "-Wextra", "-pthread", path, "-o", exe]
    build += extra
    run_env = dict(env or {})
    if preload:
        run_env["LD_PRELOAD"] = preload
    run = ["%s=%s" % (k, shlex.quote(v)) for k, v in sorted(run_env.items())]
    run += [exe if os.path.isabs(exe) or exe.startswith(".") else "./" + exe,
            str(threads), str(every)]
    return " ".join(shlex.quote(a) for a in build), " ".join(run)


def write(point: dict, directory, config: dict | None = None, *, stem: str = "leak",
          env: dict | None = None, title: str = "") -> tuple:
    """Write the repro for `point` into `directory`; returns (path, build, run), the commands
    to be run from that directory."""
    name = filename(point, stem)
    build, run = commands(point, config, path=name, env=env)
    path = os.path.join(str(directory), name)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(source(point, title=title, build=build, run=run))
    return path, build, run
