"""A standalone repro for one point of the space: a C file (C++ only for tls=cxx) of about 60
lines that includes no project header, only libc and pthread (and threads.h for c11), creates
and joins threads with exactly the point's teardown shape, and prints "threads_done rss_bytes"
(RSS from /proc/self/statm) every N threads; plus the commands that build it against an
allocator configuration and run it. What an allocator maintainer can compile and run alone.

Linux only (statm, /proc/self/task, .preinit_array), like the faulty allocator. Only the lines
the point needs are emitted, so every file stays short: the file is the template
templates/explore_repro.c, whose @@if lines keep what the point's facts ask for; each piece below
is one dimension's value. Stdlib only.
"""

from __future__ import annotations

import os
import shlex

from tlsleak import templates

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
    """The standalone file for `point` (normalised first): the template
    templates/explore_repro.c with the lines the point needs."""
    p = space.normalise(point)
    tls, action = p["tls"], p["action"]
    cxx, holds = tls == "cxx", action in space.HOLDING_ACTIONS
    set_key, key_type, create_key = KEYS.get(tls, ("", "", ""))
    facts = {
        "build": bool(build), "c11": tls == "c11", "cxx": cxx, "tlsvar": tls == "tlsvar",
        "detached": p["end"] == "detached", "exit": p["end"] == "exit", "holds": holds,
        "prealloc": bool(p["prealloc"]), "early_key": bool(p["early_key"]),
        "handoff": action == "handoff",
        # fill() is written only where something calls it
        "fill": (action in ("malloc_free", "handoff", "large") or holds or bool(p["prealloc"])
                 or not (cxx or p["early_key"])),
    }
    values = {
        "title": title or "tlsleak explore:", "key": space.key(p), "build": build,
        "run": run or "./leak 20000 1000", "size": p["size"], "keys": p["keys"],
        "round": p["round"], "concurrency": p["concurrency"], "held": held(p),
        "key_type": key_type, "set_key": set_key, "create_key": create_key,
        "value": "mine[(long)v - 1]" if tls == "tlsvar" else "(struct ctx *)v",
        "action": ACTIONS[action], "action_cxx": ACTIONS[action].replace("\n    ", "\n        "),
        "set_own_key": set_key.replace("c->k", "k").replace(", v)", ", &c[k])"),
        "attr": "&attr" if facts["detached"] else "NULL",
    }
    return templates.render("explore_repro.c", facts, values)


def link_args(config: dict) -> tuple:
    """(extra compile/link arguments, library to preload or "") for a manifest configuration
    (docs/DESIGN.md "Build manifest"): nothing for system; the library itself for dynamic (with an
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
