"""The environment of a cell: an allow-list of the caller's variables, plus what the
configuration sets (its preload) and what the user gives explicitly (`--env NAME=VALUE`), the
last two recorded in the cell. Anything else, above all what changes an allocator's behaviour
or which library is loaded (MALLOC_CONF, MIMALLOC_*, LD_LIBRARY_PATH, LD_AUDIT, ...), never
leaks in from the caller's shell. A library to preload is named by a path the preload variable
can carry (`preload_path`), wherever the checkout is."""
import hashlib
import os
import stat
import tempfile
from pathlib import Path

# Variables a program needs to run at all, and nothing that changes how memory is managed.
ALLOW = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM", "SHELL",
    # Windows hosts: a process cannot start without some of these
    "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "TEMP", "TMP", "COMSPEC", "PATHEXT", "USERPROFILE",
    "APPDATA", "LOCALAPPDATA", "PROGRAMDATA", "NUMBER_OF_PROCESSORS", "PROCESSOR_ARCHITECTURE",
    # a Windows target run under Wine
    "WINEPREFIX", "WINEDEBUG", "WINEARCH", "DISPLAY",
})
ALLOW_PREFIXES = ("LC_",)


def allowed(name):
    return name.upper() in ALLOW or name.startswith(ALLOW_PREFIXES)


def inherited(environ=None):
    """The caller's variables that every cell gets."""
    environ = os.environ if environ is None else environ
    return {k: v for k, v in environ.items() if allowed(k)}


def parse_assignments(items):
    """{NAME: VALUE} from `--env NAME=VALUE` options; ValueError naming a malformed one."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name or not (name[0].isalpha() or name[0] == "_") \
                or not all(c.isalnum() or c == "_" for c in name):
            raise ValueError(f"malformed --env '{item}' (expected NAME=VALUE)")
        out[name] = value
    return out


# What a preload variable cannot hold in a path: LD_PRELOAD splits its list at spaces and
# colons (DYLD_INSERT_LIBRARIES at colons), and the dynamic linker reads no quoting.
_PRELOAD_SEPARATORS = (" ", ":", "\t", "\n")


def preload_path(path):
    """A path naming the library `path` that the preload variable can carry: `path` itself
    when it can, else a symlink to it from a folder of this user's whose own path can
    (TMPDIR/tlsleak-UID/preload/); ValueError, in one line, when there is none. The linker
    reports the link's path as the library's file, which names the same file (os.samefile)."""
    if not path or not any(sep in path for sep in _PRELOAD_SEPARATORS):
        return path
    folder = Path(tempfile.gettempdir()) / f"tlsleak-{os.getuid()}" / "preload"
    name = Path(path).name
    safe = "".join(c if c.isalnum() or c in "._+-" else "_" for c in name)
    link = folder / f"{hashlib.sha256(path.encode()).hexdigest()[:16]}-{safe}"
    if any(sep in str(link) for sep in _PRELOAD_SEPARATORS):
        raise ValueError(f"the preload library {path} holds a space or a colon, and so does "
                         f"the temporary folder {tempfile.gettempdir()} (set TMPDIR)")
    _own_folder(folder)
    if os.path.islink(link) and os.readlink(link) == path:
        return str(link)
    tmp = folder / f".{link.name}.{os.getpid()}"
    tmp.unlink(missing_ok=True)
    os.symlink(path, tmp)
    os.replace(tmp, link)
    return str(link)


def _own_folder(folder):
    """Make `folder` (and its parent), private to this user; ValueError when someone else
    owns it (another user could point our preload anywhere)."""
    for part in (folder.parent, folder):
        part.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(part)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
            raise ValueError(f"{part} is not a folder of this user's: cannot make a preload "
                             f"link there (set TMPDIR)")
