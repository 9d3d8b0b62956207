"""Set-up's private apt configuration: deb-src entries derived from the host's deb entries, with
their options kept, for every layout of apt sources that Debian and Ubuntu ship, and nothing
under the host's /etc/apt opened for writing.

Why the options matter: apt refuses two entries for one source whose Signed-By differ ("Conflicting
values set for option Signed-By"), so a deb-src line without the key of its deb twin breaks every
later `apt-get update` on the machine (sources.list(5), deb822 "Signed-By").
"""
import builtins
import hashlib
import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("private_apt", ROOT / "ci" / "private_apt.py")
private_apt = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(private_apt)

KEY = "/usr/share/keyrings/debian-archive-keyring.gpg"
UBUNTU_KEY = "/usr/share/keyrings/ubuntu-archive-keyring.gpg"
DEBIAN_12 = 'ID=debian\nVERSION_CODENAME=bookworm\n'
UBUNTU_22 = 'ID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=jammy\nUBUNTU_CODENAME=jammy\n'
UBUNTU_24 = 'ID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=noble\nUBUNTU_CODENAME=noble\n'

# Each layout: host files under /etc/apt, /etc/os-release, and the deb-src entries expected as
# (URIs, suites, components, Signed-By).
LAYOUTS = {
    "debian12-deb822-signed-by": (
        {"sources.list.d/debian.sources":
            f"Types: deb\n# a comment\nURIs: http://deb.debian.org/debian\n"
            f"Suites: bookworm bookworm-updates\nComponents: main\nSigned-By: {KEY}\n\n"
            f"Types: deb\nURIs: http://deb.debian.org/debian-security\n"
            f"Suites: bookworm-security\nComponents: main\nSigned-By: {KEY}\n"},
        DEBIAN_12,
        [("http://deb.debian.org/debian", "bookworm bookworm-updates", "main", KEY),
         ("http://deb.debian.org/debian-security", "bookworm-security", "main", KEY)]),
    "deb822-without-signed-by": (
        {"sources.list.d/debian.sources":
            "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n"
            "Components: main contrib\n"},
        DEBIAN_12,
        [("http://mirror.example/debian", "bookworm", "main contrib", None)]),
    "one-line-with-options": (
        {"sources.list":
            f"deb [arch=amd64,arm64 signed-by={KEY}] http://deb.debian.org/debian bookworm main\n"
            "# deb http://deb.debian.org/debian bookworm-backports main\n"
            "deb http://deb.debian.org/debian bookworm-updates main  # trailing comment\n"},
        DEBIAN_12,
        [("http://deb.debian.org/debian", "bookworm", "main", KEY),
         ("http://deb.debian.org/debian", "bookworm-updates", "main", None)]),
    "ubuntu-22.04-one-line": (
        {"sources.list":
            "deb http://archive.ubuntu.com/ubuntu/ jammy main restricted\n"
            "deb http://archive.ubuntu.com/ubuntu/ jammy-updates main restricted\n"
            "deb http://security.ubuntu.com/ubuntu/ jammy-security main\n"},
        UBUNTU_22,
        [("http://archive.ubuntu.com/ubuntu/", "jammy", "main restricted", None),
         ("http://archive.ubuntu.com/ubuntu/", "jammy-updates", "main restricted", None),
         ("http://security.ubuntu.com/ubuntu/", "jammy-security", "main", None)]),
    "ubuntu-24.04-deb822": (
        {"sources.list": "# Ubuntu sources have moved to /etc/apt/sources.list.d/ubuntu.sources\n",
         "sources.list.d/ubuntu.sources":
            "Types: deb\nURIs: http://archive.ubuntu.com/ubuntu/\n"
            "Suites: noble noble-updates noble-backports\nComponents: main universe\n"
            f"Signed-By: {UBUNTU_KEY}\n\n"
            "Types: deb\nURIs: http://security.ubuntu.com/ubuntu/\nSuites: noble-security\n"
            f"Components: main universe\nSigned-By: {UBUNTU_KEY}\n"},
        UBUNTU_24,
        [("http://archive.ubuntu.com/ubuntu/", "noble noble-updates noble-backports",
          "main universe", UBUNTU_KEY),
         ("http://security.ubuntu.com/ubuntu/", "noble-security", "main universe", UBUNTU_KEY)]),
    "deb-src-already-enabled": (
        {"sources.list.d/debian.sources":
            f"Types: deb deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\n"
            f"Components: main\nSigned-By: {KEY}\n"},
        DEBIAN_12,
        [("http://deb.debian.org/debian", "bookworm", "main", KEY)]),
    "third-party-and-disabled-entries-left-out": (
        {"sources.list.d/debian.sources":
            f"Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm\n"
            f"Components: main\nSigned-By: {KEY}\n\n"
            "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\n"
            "Components: main\nEnabled: no\n",
         "sources.list.d/nodesource.sources":
            "Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\n"
            "Components: main\nSigned-By: /usr/share/keyrings/nodesource.gpg\n",
         "sources.list.d/google.list":
            "deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n"},
        DEBIAN_12,
        [("http://deb.debian.org/debian", "bookworm", "main", KEY)]),
}


def _host(tmp_path, files, os_release):
    etc = tmp_path / "etc" / "apt"
    (etc / "sources.list.d").mkdir(parents=True)
    for rel, text in files.items():
        (etc / rel).write_text(text)
    release = tmp_path / "etc" / "os-release"
    release.write_text(os_release)
    return etc, release


def _digest(tree):
    h = hashlib.sha256()
    for p in sorted(tree.rglob("*")):
        h.update(str(p.relative_to(tree)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def writes(monkeypatch):
    """Every path opened for writing while the test runs (builtins.open and os.open)."""
    seen = []
    real_open, real_os_open = builtins.open, os.open

    def spy_open(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and any(c in mode for c in "wax+"):
            seen.append(os.path.realpath(file))
        return real_open(file, mode, *args, **kwargs)

    def spy_os_open(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND):
            seen.append(os.path.realpath(path))
        return real_os_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(os, "open", spy_os_open)
    return seen


@pytest.mark.unit
@pytest.mark.parametrize("layout", LAYOUTS)
def test_derives_deb_src_keeping_options(layout, tmp_path, writes):
    files, os_release, expected = LAYOUTS[layout]
    etc, release = _host(tmp_path, files, os_release)
    before = _digest(etc)
    out = tmp_path / "checkout" / ".cache" / "apt" / "etc"

    rc = private_apt.main(["derive", "--out", str(out), "--etc", str(etc),
                           "--os-release", str(release)])

    assert rc == 0
    written = private_apt.parse_deb822(
        (out / "sources.list.d" / "tlsleak-src.sources").read_text())
    got = [(" ".join(e.uris), " ".join(e.suites), " ".join(e.components), e.option("Signed-By"))
           for e in written]
    assert got == expected
    assert all(e.types == ["deb-src"] for e in written)
    assert (out / "sources.list").read_text() == ""
    assert _digest(etc) == before
    assert writes and not [w for w in writes if w.startswith(os.path.realpath(etc))]


@pytest.mark.unit
def test_one_line_options_become_deb822_fields():
    [e] = private_apt.parse_one_line(
        f"deb [ arch=amd64,i386 signed-by={KEY} trusted=yes ] http://x/debian bookworm main")
    assert e.options == [("Architectures", "amd64 i386"), ("Signed-By", KEY), ("Trusted", "yes")]


@pytest.mark.unit
def test_embedded_key_block_is_kept_whole():
    block = " -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n mQINBF\n -----END PGP PUBLIC KEY BLOCK-----"
    text = f"Types: deb\nURIs: http://x/debian\nSuites: bookworm\nComponents: main\nSigned-By:\n{block}\n"
    [e] = private_apt.derive(private_apt.parse_deb822(text), "bookworm")
    [again] = private_apt.parse_deb822(private_apt.render([e]))
    assert again.option("Signed-By") == "\n" + block


@pytest.mark.unit
def test_no_debian_family_source_is_one_line_and_exit_1(tmp_path, capsys):
    etc, release = _host(tmp_path, {"sources.list.d/other.sources":
                                    "Types: deb\nURIs: https://repo.example\nSuites: stable\n"},
                         'ID=fedora\nVERSION_CODENAME=\n')
    out = tmp_path / "out"
    rc = private_apt.main(["derive", "--out", str(out), "--etc", str(etc),
                           "--os-release", str(release)])
    assert rc == 1
    assert capsys.readouterr().err.strip() == "no source packages: not a Debian-family system"
    assert not out.exists()


@pytest.mark.unit
def test_refuses_to_write_under_the_hosts_apt(tmp_path, writes):
    files, os_release, _ = LAYOUTS["debian12-deb822-signed-by"]
    etc, release = _host(tmp_path, files, os_release)
    rc = private_apt.main(["derive", "--out", str(etc / "private"), "--etc", str(etc),
                           "--os-release", str(release)])
    assert rc == 2
    assert not (etc / "private").exists() and not writes


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("apt-get") is None, reason="needs apt-get to parse the sources")
@pytest.mark.parametrize("layout", ["debian12-deb822-signed-by", "one-line-with-options",
                                    "ubuntu-24.04-deb822"])
def test_apt_accepts_the_host_and_private_entries_together(layout, tmp_path):
    """apt reads the host's entries and ours in one list without a Signed-By conflict (the
    failure a deb-src line without the key caused). Offline: only the sources are parsed."""
    files, os_release, _ = LAYOUTS[layout]
    etc, release = _host(tmp_path, files, os_release)
    out = tmp_path / "private"
    assert private_apt.main(["derive", "--out", str(out), "--etc", str(etc),
                             "--os-release", str(release)]) == 0
    parts = tmp_path / "parts"
    shutil.copytree(etc / "sources.list.d", parts)
    shutil.copy(out / "sources.list.d" / "tlsleak-src.sources", parts)
    (tmp_path / "lists" / "partial").mkdir(parents=True)
    main_list = etc / "sources.list"
    r = subprocess.run(
        ["apt-get", "-o", f"Dir::Etc::SourceList={main_list if main_list.exists() else '/dev/null'}",
         "-o", f"Dir::Etc::SourceParts={parts}", "-o", f"Dir::State::Lists={tmp_path / 'lists'}",
         "indextargets"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "Conflicting" not in r.stderr, r.stderr
