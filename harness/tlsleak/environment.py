"""The environment of a cell: an allow-list of the caller's variables, plus what the
configuration sets (its preload) and what the user gives explicitly (`--env NAME=VALUE`), the
last two recorded in the cell. Anything else, above all what changes an allocator's behaviour
or which library is loaded (MALLOC_CONF, MIMALLOC_*, LD_LIBRARY_PATH, LD_AUDIT, ...), never
leaks in from the caller's shell."""
import os

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
