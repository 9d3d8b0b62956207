"""include/tlsleak.h writes checkpoint lines the harness's parser accepts (docs/DESIGN.md
"Checkpoint line format"), with the process's own memory figures, from C and C++."""
import os
import shutil
import subprocess
import time

import pytest

from clihelp import ROOT
from programs import build_programs
from tlsleak.checkpoints import CheckpointLog

pytestmark = pytest.mark.integration

INCLUDE = ROOT / "include"


@pytest.fixture(scope="module")
def built():
    return build_programs()


def test_lines_of_a_leaking_program_parse_with_growing_rss(built):
    t0 = time.monotonic_ns()
    out = subprocess.run([built.program("checkpoint_header"), "50", "65536", "10"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    ran = time.monotonic_ns() - t0
    log = CheckpointLog.from_lines(out.splitlines(), t_recv=0.0)
    assert log.malformed == 0 and log.other_lines == 1  # the program's own line is ignored
    # a space in a value is written escaped, and read back as the space it is
    assert "scenario=checkpoint%20header" in out and log.start["scenario"] == "checkpoint header"
    assert log.start["threads"] == 50 and isinstance(log.start["pid"], int)
    assert [cp["done"] for cp in log.checkpoints] == [0, 10, 20, 30, 40, 50]
    assert log.end == {"done": 50, "status": "ok"}
    assert log.fields() == ["rss", "vsize"]
    t_ns = [cp["t_ns"] for cp in log.checkpoints]
    assert t_ns == sorted(t_ns) and t_ns[-1] <= ran  # since the start, not since boot
    _, rss = log.series("rss")
    assert rss[-1] - rss[0] >= 40 * 65536  # 50 threads x 64 KiB leaked, resident


def test_the_twin_that_does_not_leak_parses_too(built):
    out = subprocess.run([built.program("checkpoint_header"), "20", "0", "5"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    log = CheckpointLog.from_lines(out.splitlines())
    assert log.malformed == 0 and log.done == 20
    assert all(cp["rss"] > 0 and cp["vsize"] >= cp["rss"] for cp in log.checkpoints)


TU = """
#include "tlsleak.h"
void {name}(unsigned long long done) {{ tlsleak_checkpoint(done); }}
"""
MAIN = """
#include "tlsleak.h"
#include <time.h>
void first(unsigned long long done);
void second(unsigned long long done);
int main(void) {
    struct timespec pause = {0, 50000000};
    tlsleak_start("two units", 2);
    first(1);
    nanosleep(&pause, 0);
    second(2);
    tlsleak_end(2, 1);
    return 0;
}
"""


@pytest.mark.parametrize("compiler, flags, suffix", [
    ("cc", ["-std=c99", "-pedantic"], ".c"),  # strict ISO C: the header asks for POSIX itself
    ("cc", ["-std=c11"], ".c"),
    ("cc", ["-std=gnu11"], ".c"),
    ("clang", ["-std=c11", "-pedantic"], ".c"),
    ("c++", ["-std=c++11", "-pedantic"], ".cpp"),
    ("c++", ["-std=c++17"], ".cpp"),
])
def test_one_clock_origin_for_every_unit_that_includes_it(tmp_path, compiler, flags, suffix):
    # Each unit has its own copy of the inline functions; the origin is one weak object, so
    # t_ns of a later unit still counts from tlsleak_start in main's.
    sources = []
    for name, text in [("main", MAIN), ("first", TU.format(name="first")),
                       ("second", TU.format(name="second"))]:
        src = tmp_path / (name + suffix)
        src.write_text(text)
        sources.append(str(src))
    exe = tmp_path / "prog"
    subprocess.run([compiler, *flags, "-Wall", "-Wextra", "-Werror", "-I", str(INCLUDE),
                    *sources, "-o", str(exe)], check=True)
    t0 = time.monotonic_ns()
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    ran = time.monotonic_ns() - t0
    log = CheckpointLog.from_lines(out.splitlines())
    assert log.malformed == 0 and [cp["done"] for cp in log.checkpoints] == [1, 2]
    t1, t2 = (cp["t_ns"] for cp in log.checkpoints)
    # One origin: the 50 ms pause lies between the two units' times (a unit that started its
    # own clock would say about 0 for both), and both count from the start, not from boot.
    assert 0 <= t1 and t2 - t1 >= 50_000_000 and t2 <= ran


WINDOWS = """
#include "tlsleak.h"
int main(void) {
    tlsleak_start("windows", 2);
    tlsleak_checkpoint(1);
    Sleep(50);
    tlsleak_checkpoint(2);
    tlsleak_end(2, 1);
    return 0;
}
"""


def test_windows_lines_parse_with_working_set_and_commit(tmp_path):
    # Cross-compiled with MinGW-w64 and run under Wine where both are installed.
    gcc, wine = shutil.which("x86_64-w64-mingw32-gcc"), shutil.which("wine")
    if not (gcc and wine):
        pytest.skip("needs x86_64-w64-mingw32-gcc and wine")
    src, exe = tmp_path / "main.c", tmp_path / "prog.exe"
    src.write_text(WINDOWS)
    subprocess.run([gcc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-I", str(INCLUDE),
                    str(src), "-o", str(exe)], check=True)
    t0 = time.monotonic_ns()
    out = subprocess.run([wine, str(exe)], capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, WINEDEBUG="-all")).stdout
    ran = time.monotonic_ns() - t0
    log = CheckpointLog.from_lines(out.splitlines())
    assert log.malformed == 0 and [cp["done"] for cp in log.checkpoints] == [1, 2], out
    assert all(cp["rss"] > 0 and cp["commit"] > 0 and "vsize" not in cp
               for cp in log.checkpoints)
    t1, t2 = (cp["t_ns"] for cp in log.checkpoints)
    assert t1 < t2 <= ran  # since the start, not since boot
    assert log.end == {"done": 2, "status": "ok"}


def test_the_checkpoint_header_is_the_only_tlsleak_h(tmp_path):
    # A program built inside a tree that also has the repro programs' own headers on its
    # include path (both orders) still gets the checkpoint header: the two are named apart.
    headers = [p.relative_to(ROOT) for d in ("include", "repro", "probe", "allocators")
               for p in (ROOT / d).rglob("tlsleak.h")]
    assert headers == [INCLUDE.relative_to(ROOT) / "tlsleak.h"]
    src, exe = tmp_path / "main.c", tmp_path / "prog"
    src.write_text('#include "tlsleak.h"\nint main(void) { tlsleak_start("one", 1); '
                   'tlsleak_checkpoint(1); tlsleak_end(1, 1); return 0; }\n')
    internal = ["-I", str(ROOT / "repro" / "common")]
    for order in (internal + ["-I", str(INCLUDE)], ["-I", str(INCLUDE)] + internal):
        subprocess.run(["cc", "-std=c11", "-Wall", "-Werror", *order, str(src), "-o", str(exe)],
                       check=True)
        out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
        assert [cp["done"] for cp in CheckpointLog.from_lines(out.splitlines()).checkpoints] == [1]
