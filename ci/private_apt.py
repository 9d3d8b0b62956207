#!/usr/bin/env python3
"""Derive a private apt configuration that can fetch Debian source packages, from the host's
package sources, without writing anything under the host's /etc/apt.

    private_apt.py derive --out DIR [--etc /etc/apt] [--os-release /etc/os-release]

writes DIR/sources.list (empty) and DIR/sources.list.d/tlsleak-src.sources: one `deb-src`
stanza for each enabled `deb` entry of the host whose suites belong to this release, with the
entry's options kept (Signed-By above all: apt refuses two entries for one source with
different keys), plus the host's own `deb-src` entries. apt-get then runs with
Dir::Etc::SourceList/SourceParts pointing there and its own lists directory (ci/setup.sh).
Exit 0 when at least one entry was derived, 1 with the reason on stderr when none was (no
Debian-family source), 2 on usage errors. Standard library only: it runs before set-up has
installed anything else.
"""
import argparse
import os
import re
import sys
import tempfile

# One-line option names and their deb822 field names (sources.list(5)).
_ONE_LINE_FIELDS = {"arch": "Architectures", "lang": "Languages", "target": "Targets",
                    "signed-by": "Signed-By", "trusted": "Trusted", "pdiffs": "PDiffs",
                    "by-hash": "By-Hash", "inrelease-path": "InRelease-Path"}
_CORE = ("types", "uris", "suites", "components")


class Entry:
    """One source: types, URIs, suites, components, and every other field as given, in order
    (values may span lines, as an embedded Signed-By key block does)."""

    def __init__(self, types, uris, suites, components, options):
        self.types, self.uris, self.suites = list(types), list(uris), list(suites)
        self.components, self.options = list(components), list(options)

    def option(self, name):
        for key, value in self.options:
            if key.lower() == name.lower():
                return value
        return None


def parse_deb822(text):
    """The stanzas of a .sources file; `Enabled: no` stanzas are dropped."""
    entries = []
    for stanza in re.split(r"\n[ \t]*\n", text):
        fields, key = [], None
        for line in stanza.splitlines():
            if line.startswith("#"):
                continue
            if line[:1] in (" ", "\t") and key is not None:
                fields[-1][1] += "\n" + line  # continuation of the previous field
                continue
            name, sep, value = line.partition(":")
            if not sep or not name.strip():
                continue
            key = name.strip()
            fields.append([key, value.strip()])
        core = {k.lower(): v for k, v in fields if k.lower() in _CORE}
        if "types" not in core or "uris" not in core:
            continue
        enabled = next((v for k, v in fields if k.lower() == "enabled"), "yes")
        if enabled.strip().lower() == "no":
            continue
        options = [(k, v) for k, v in fields if k.lower() not in _CORE + ("enabled",)]
        entries.append(Entry(core["types"].split(), core["uris"].split(),
                             core.get("suites", "").split(), core.get("components", "").split(),
                             options))
    return entries


def _one_line_option(token):
    name, sep, value = token.partition("=")
    suffix = ""
    if name.endswith(("+", "-")):
        name, suffix = name[:-1], {"+": "-Add", "-": "-Remove"}[name[-1]]
    field = _ONE_LINE_FIELDS.get(name.lower()) or "-".join(
        p.capitalize() for p in name.split("-"))
    return field + suffix, value.replace(",", " ") if sep else "yes"


def parse_one_line(text):
    """The entries of a sources.list file: `deb [opt=v ...] URI SUITE [COMPONENT...]`."""
    entries = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        kind, _, rest = line.partition(" ")
        if kind not in ("deb", "deb-src"):
            continue
        options = []
        rest = rest.strip()
        if rest.startswith("["):
            inside, close, rest = rest[1:].partition("]")
            if not close:
                continue
            options = [_one_line_option(t) for t in inside.split()]
        words = rest.split()
        if len(words) < 2:
            continue
        entries.append(Entry([kind], [words[0]], [words[1]], words[2:], options))
    return entries


def read_host(etc):
    """Every entry of the host's apt sources, read-only: sources.list, then sources.list.d/
    (*.list one-line, *.sources deb822) in name order, as apt reads them."""
    files = []
    main = os.path.join(etc, "sources.list")
    if os.path.isfile(main):
        files.append(main)
    parts = os.path.join(etc, "sources.list.d")
    if os.path.isdir(parts):
        files += [os.path.join(parts, n) for n in sorted(os.listdir(parts))
                  if n.endswith((".list", ".sources"))]
    entries = []
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        entries += parse_deb822(text) if path.endswith(".sources") else parse_one_line(text)
    return entries


def release_codename(os_release):
    """VERSION_CODENAME (or UBUNTU_CODENAME) and whether the OS is Debian-family."""
    info = {}
    if os.path.isfile(os_release):
        with open(os_release, encoding="utf-8", errors="replace") as f:
            for line in f:
                k, sep, v = line.strip().partition("=")
                if sep:
                    info[k] = v.strip().strip('"')
    family = " ".join((info.get("ID", ""), info.get("ID_LIKE", ""))).split()
    debianish = any(x in ("debian", "ubuntu") for x in family)
    return info.get("VERSION_CODENAME") or info.get("UBUNTU_CODENAME") or "", debianish


def _ours(suite, codename):
    """A suite of this release (bookworm, bookworm-updates, bookworm-security, jammy/updates),
    not a third-party repository's (nodistro, cloud-sdk-bookworm, stable)."""
    return not codename or suite == codename or suite.startswith((codename + "-",
                                                                  codename + "/"))


def derive(entries, codename):
    """deb-src entries for this release, deduplicated by (URI, suite, components, key)."""
    out, seen = [], set()
    for e in entries:
        if not {"deb", "deb-src"} & set(e.types):
            continue
        suites = [s for s in e.suites if _ours(s, codename)]
        if not suites:
            continue
        key = (tuple(e.uris), tuple(suites), tuple(e.components), e.option("Signed-By"))
        if key in seen:
            continue
        seen.add(key)
        out.append(Entry(["deb-src"], e.uris, suites, e.components, e.options))
    return out


def render(entries):
    stanzas = []
    for e in entries:
        lines = [f"Types: {' '.join(e.types)}", f"URIs: {' '.join(e.uris)}",
                 f"Suites: {' '.join(e.suites)}"]
        if e.components:
            lines.append(f"Components: {' '.join(e.components)}")
        lines += [f"{k}: {v}" for k, v in e.options]
        stanzas.append("\n".join(lines) + "\n")
    return "\n".join(stanzas)


def _write_atomic(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def write_private(out_dir, entries):
    _write_atomic(os.path.join(out_dir, "sources.list"), "")
    _write_atomic(os.path.join(out_dir, "sources.list.d", "tlsleak-src.sources"),
                  "# Written by tlsleak's ci/setup.sh from the host's apt sources.\n"
                  + render(entries))


def main(argv=None):
    p = argparse.ArgumentParser(prog="private_apt.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("derive")
    d.add_argument("--out", required=True)
    d.add_argument("--etc", default="/etc/apt")
    d.add_argument("--os-release", default="/etc/os-release")
    args = p.parse_args(argv)
    out = os.path.realpath(args.out)
    if out == os.path.realpath(args.etc) or out.startswith(os.path.realpath(args.etc) + os.sep):
        print(f"private_apt: refusing to write under {args.etc}", file=sys.stderr)
        return 2
    codename, debianish = release_codename(args.os_release)
    entries = derive(read_host(args.etc), codename) if debianish else []
    if not entries:
        why = ("not a Debian-family system" if not debianish else
               f"no Debian-family apt source for {codename or 'this release'} in {args.etc}")
        print(f"no source packages: {why}", file=sys.stderr)
        return 1
    write_private(out, entries)
    return 0


if __name__ == "__main__":
    sys.exit(main())
