"""What the standalone-repro emitter (harness/tlsleak/explore/emit.py) writes for a point, and
the commands it prints per link mode; that the files build and run is tested for real in
tests/integration/test_explore_program.py."""
import json
import sys
from pathlib import Path

import pytest

from tlsleak.explore import emit, space

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "explore"
sys.path.insert(0, str(GOLDEN))
import golden  # noqa: E402

pytestmark = pytest.mark.unit


def src(**dims):
    return emit.source(space.complete(dims))


def test_each_dimension_value_shows_in_the_file():
    assert "pthread_key_create" in src() and "ROUND = 1" in src()
    assert "tss_create" in src(tls="c11") and "#include <threads.h>" in src(tls="c11")
    cxx = src(tls="cxx", round=4, early_key=1)
    assert "thread_local acting" in cxx and "ROUND = 1" in cxx and "preinit_array" not in cxx
    assert "mine[(long)v - 1]" in src(tls="tlsvar")  # the destructor reads the __thread state
    assert "ROUND = 4" in src(round=4)
    assert ".preinit_array" in src(early_key=1) and "make_keys();" not in src(early_key=1)
    assert "KEYS = 3" in src(keys=3) and "CONC = 4" in src(concurrency=4)
    assert "pthread_exit(NULL);" in src(end="exit")
    assert "PTHREAD_CREATE_DETACHED" in src(end="detached")
    assert "pthread_join" not in src(end="detached")
    assert "SIZE = 16," in src(size=16)


@pytest.mark.parametrize("action, text", [
    ("free", "free(c->held[0]);"), ("malloc_free", "free(fill(SIZE));"),
    ("calloc", "calloc(1, SIZE)"), ("realloc", "realloc(c->held[0], 2 * SIZE)"),
    ("aligned", "posix_memalign(&p, 4096, SIZE)"), ("handoff", "c->out = fill(SIZE);"),
    ("free_many", "free(c->held[i]);"), ("large", "fill((1 << 20) + SIZE)")])
def test_each_action_is_the_destructor_s_statement(action, text):
    body = src(action=action).split("static void dtor", 1)[1].split("static void *body")[0]
    assert text in body


def test_free_many_frees_what_explore_point_frees():
    assert emit.held(space.complete({"action": "free_many", "size": 1024})) == 200
    assert emit.held(space.complete({"action": "free_many", "size": 65536})) == 16


def test_who_allocates_the_held_blocks_follows_prealloc():
    mine = src(action="free", prealloc=1)
    theirs = src(action="free", prealloc=0)
    assert "c[k].held[i] = fill(SIZE);" in mine and "ctxs[s][k].held[i]" not in mine
    assert "ctxs[s][k].held[i] = fill(SIZE);" in theirs and "c[k].held[i] = " not in theirs
    assert "free(fill(SIZE)); /* the thread uses" in src(action="calloc", prealloc=1)
    assert "fill(" not in src(action="calloc", prealloc=0, early_key=1)  # unused: left out


def test_the_allocator_initialises_before_keys_made_in_main():
    # explore_point's library allocates before main makes its keys, so the allocator's own key
    # (if any) is older and its destructor runs first; a standalone repro must do the same.
    text = src(action="malloc_free", prealloc=0)
    assert "    free(fill(SIZE)); make_keys(); /* the allocator initialises first */" in text
    assert "the allocator initialises" not in src(early_key=1)


def test_no_project_header_and_about_sixty_lines():
    text = src(tls="tlsvar", round=4, action="handoff", prealloc=0, early_key=1, keys=3,
               end="detached", concurrency=4, size=65536)
    assert '#include "' not in text
    assert len(text.splitlines()) <= 70
    assert len(src().splitlines()) <= 60


def test_commands_per_link_mode():
    p = space.simplest()
    assert emit.commands(p) == ("cc -O2 -Wall -Wextra -pthread leak.c -o leak",
                                "./leak 20000 1000")
    dyn = {"mode": "dynamic", "library": "/usr/lib/libmimalloc.so.2"}
    assert emit.commands(p, dyn)[0].endswith(
        "-o leak -Wl,--no-as-needed /usr/lib/libmimalloc.so.2 -Wl,-rpath,/usr/lib")
    over = {"mode": "override", "library": "/l/libfaulty.so", "preload": "/l/libfaulty.so"}
    assert emit.commands(p, over, env={"TLSLEAK_FAULTY": "recreate"})[1] == \
        "LD_PRELOAD=/l/libfaulty.so TLSLEAK_FAULTY=recreate ./leak 20000 1000"
    static = {"mode": "static", "name": "faulty", "version": "1.0.0", "library": "/a/faulty.c"}
    assert "-DFAULTY_VERSION=\"1.0.0\"" in emit.commands(p, static)[0].replace("'", "")
    assert emit.commands(space.complete({"tls": "cxx"}), path="x.cpp")[0].startswith("c++ ")
    assert emit.filename(space.complete({"tls": "cxx"})) == "leak.cpp"


def test_the_template_writes_every_point_byte_for_byte_as_the_python_code_did():
    """templates/explore_repro.c replaced 107 lines of Python that built the file; the hashes
    in tests/data/explore/golden.json are what that code wrote, for every point of the space
    (grouped by tls, action and end), with and without a title and commands."""
    want = json.loads((GOLDEN / "golden.json").read_text())["emit"]
    got = golden.emit_groups()
    assert [g for g in want if got.get(g) != want[g]] == []
    assert len(got) == len(want) == 96
