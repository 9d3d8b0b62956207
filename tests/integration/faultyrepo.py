"""A throwaway git repository of the `faulty` allocator, with a known history.

Built from the project's own allocators/faulty/ sources, in eight commits:

  start      v1.0.0  clean
  readme             an unrelated file
  v1.1       v1.1.0  version bump, comment change
  leak               teardown leak: the `recreate` mistake on by default (a malloc after the
                     allocator's own thread teardown makes a cache nobody releases; the
                     mechanism of microsoft/mimalloc #944 and glibc bug 22111)
  notes              unrelated file changed again (still 1.1.0: shares its version with v1.1)
  broken             faulty.c does not compile
  buildfix           compiles again (still leaking)
  fix        v1.2.0  leak fixed, version bump

The version lives in faulty.h (`#define FAULTY_VERSION`), where the `faulty` recipe reads it.

make_history scripts any other history from named changes (CHANGES), for the untidy histories
bisect must answer right on: a commit whose programs are all `error` (faulty_owns broken, so
every program's allocator check fails), one that does not build, their fixes, unrelated ones.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FAULTY = ROOT / "allocators" / "faulty"
LEAK_LINE = 'arena.faults = parse_faults(getenv("TLSLEAK_FAULTY"));'
LEAKING = 'arena.faults = parse_faults(getenv("TLSLEAK_FAULTY")) | FAULT_RECREATE;'
ORDER = ("start", "readme", "v1.1", "leak", "notes", "broken", "buildfix", "fix")
OWNS = "int faulty_owns(const void *p) {\n    if (p == NULL"
OWNS_BROKEN = "int faulty_owns(const void *p) {\n    if (1 || p == NULL"
NO_BUILD = ("static void init(void) {", "static void init(void) { this does not compile")


def git(repo, *args):
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org",
               GIT_AUTHOR_DATE="2024-01-01T00:00:00Z", GIT_COMMITTER_DATE="2024-01-01T00:00:00Z",
               GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")
    return subprocess.run(["git", "-C", str(repo), *args], env=env, check=True,
                          capture_output=True, text=True).stdout.strip()


def _set_version(repo, version):
    header = repo / "faulty.h"
    text = header.read_text()
    if "#define FAULTY_VERSION" in text:
        text = re.sub(r'#define FAULTY_VERSION "[^"]*"', f'#define FAULTY_VERSION "{version}"', text)
    else:
        text = text.replace("#include <stddef.h>\n",
                            f'#include <stddef.h>\n\n#define FAULTY_VERSION "{version}"\n', 1)
    header.write_text(text)


def _edit(path, old, new):
    text = path.read_text()
    assert old in text, f"{path.name}: '{old}' not found"
    path.write_text(text.replace(old, new, 1))


def make_faulty_repo(repo):
    """Create the repository at `repo`; returns {label: full commit} in history order."""
    repo = Path(repo)
    repo.mkdir(parents=True)
    git(repo, "init", "--quiet", "--initial-branch=main")
    for name in ("faulty.c", "faulty.h"):
        shutil.copy(FAULTY / name, repo / name)
    commits = {}

    def commit(label, tag=None):
        git(repo, "add", "-A")
        git(repo, "commit", "--quiet", "-m", label)
        commits[label] = git(repo, "rev-parse", "HEAD")
        if tag:
            git(repo, "tag", tag)

    _set_version(repo, "1.0.0")
    commit("start", "v1.0.0")
    (repo / "README").write_text("faulty, a throwaway history for tlsleak's tests\n")
    commit("readme")
    _set_version(repo, "1.1.0")
    _edit(repo / "faulty.c", " * faulty: tlsleak's own allocator", " * faulty (1.1): tlsleak's own allocator")
    commit("v1.1", "v1.1.0")
    _edit(repo / "faulty.c", LEAK_LINE, LEAKING)
    commit("leak")
    (repo / "README").write_text("faulty, a throwaway history for tlsleak's tests (notes)\n")
    commit("notes")
    _edit(repo / "faulty.c", "static void init(void) {", "static void init(void) { this does not compile")
    commit("broken")
    _edit(repo / "faulty.c", "static void init(void) { this does not compile", "static void init(void) {")
    commit("buildfix")
    _edit(repo / "faulty.c", LEAKING, LEAK_LINE)
    _set_version(repo, "1.2.0")
    commit("fix", "v1.2.0")
    assert list(commits) == list(ORDER)
    return commits


# name -> (text before, text after) in faulty.c, or None for a line added to the README.
CHANGES = {
    "leak": (LEAK_LINE, LEAKING),  # the teardown leak on by default
    "unleak": (LEAKING, LEAK_LINE),  # ... and off again
    "break_owns": (OWNS, OWNS_BROKEN),  # faulty_owns says no: every program is `error`
    "fix_owns": (OWNS_BROKEN, OWNS),
    "no_build": NO_BUILD,  # faulty.c does not compile
    "fix_build": NO_BUILD[::-1],
    "readme": None,
}


def make_history(repo, commits):
    """A faulty repository whose history is `commits`: (subject, [change names of CHANGES])
    in order, the first one tagged v1 (version 1.0.0). Returns {subject: full commit}."""
    repo = Path(repo)
    repo.mkdir(parents=True)
    git(repo, "init", "--quiet", "--initial-branch=main")
    for name in ("faulty.c", "faulty.h"):
        shutil.copy(FAULTY / name, repo / name)
    _set_version(repo, "1.0.0")
    made = {}
    for i, (subject, changes) in enumerate(commits):
        for change in changes:
            if CHANGES[change] is None:
                with open(repo / "README", "a") as fh:
                    fh.write(f"{subject}\n")
            else:
                _edit(repo / "faulty.c", *CHANGES[change])
        git(repo, "add", "-A")
        git(repo, "commit", "--quiet", "--allow-empty", "-m", subject)
        made[subject] = git(repo, "rev-parse", "HEAD")
        if i == 0:
            git(repo, "tag", "v1")
    return made
