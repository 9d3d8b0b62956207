#!/usr/bin/env bash
# Installs what tlsleak needs, idempotently, and records the Python interpreter to use.
#   ci/setup.sh [run|test|wine]   run: build + run the matrix; wine: also the Windows
#                                 cross-build and Wine (`tlsleak run --platform wine`); test:
#                                 also pytest and the linters, and wine's (the test command
#                                 runs the Wine tests: tests/integration/test_wine*.py)
#   ci/setup.sh python            prints the interpreter the harness starts with: at once, one
#                                 that has its modules (the `run` set-up first only if none has)
#   ci/setup.sh source PKG...     Debian's source packages PKG into .cache/src only
# The ./tlsleak launcher asks for `python` only; the harness runs `run` (or its platform's
# profile) before its first build and `source PKG` when a configuration built from PKG is
# planned, so --help, list and usage errors never wait for set-up (harness/tlsleak/provision.py).
# Debian/Ubuntu: binary packages through apt (as root, or with passwordless sudo), Python
# packages from Debian when they are there. Elsewhere, or when apt is not an option: a .venv
# with pip. Allocator sources for from-source builds: Debian's source packages, fetched through
# a private apt configuration under .cache/apt (the host's /etc/apt is only read, never
# written). Everything it writes is under the checkout (.cache/, .venv/).
# Prints nothing when everything is already in place; one line before each long step (stderr).
set -euo pipefail
profile=${1:-run}
case $profile in run | test | wine | python | source) ;; *)
    echo "setup.sh: unknown profile '$profile' (accepted: run, test, wine, python, source)" >&2
    exit 2
    ;;
esac
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=$root/.cache
mkdir -p "$cache"
stamp=$cache/setup-$profile.ok
say() { echo "tlsleak setup: $*" >&2 || true; }

# --- the interpreter: the first candidate with the modules a profile needs -----------------------
py_modules=psutil,scipy,matplotlib
[ "$profile" = test ] && py_modules=$py_modules,pytest,jsonschema,pyflakes
# Found, not imported: a few milliseconds; whether they import is checked after installing.
py_has() { "$1" -c 'import importlib.util as u, sys
sys.exit(any(u.find_spec(m) is None for m in sys.argv[1].split(",")))' "$py_modules" >/dev/null 2>&1; }
py_ok() { "$1" -c "import ${py_modules}" >/dev/null 2>&1; }
pick_python() { # $1 = py_has or py_ok; prints the first candidate that passes it
    local cand
    for cand in "${TLSLEAK_PYTHON:-}" "$root/.venv/bin/python" /usr/bin/python3 \
        "$(command -v python3 || true)"; do
        if [ -n "$cand" ] && [ -x "$cand" ] && "$1" "$cand"; then
            echo "$cand"
            return 0
        fi
    done
    return 1
}
if [ "$profile" = python ]; then
    recorded=$(cat "$cache/python" 2>/dev/null || true)
    if [ -n "$recorded" ] && [ -x "$recorded" ] && py_has "$recorded"; then
        echo "$recorded"
    elif python=$(pick_python py_has); then
        echo "$python" | tee "$cache/python"
    elif [ "${TLSLEAK_SKIP_SETUP:-0}" = 1 ]; then # said by the harness's imports, if it fails
        command -v python3 || echo python3
    else
        "$0" run >&2 || exit 3
        cat "$cache/python"
    fi
    exit 0
fi

# What the allocators need comes from their own files: the PACKAGE of each
# tlsleak_add_packaged() call in allocators/*.cmake, and the Debian source package of each
# family's recipe (debian_source="S" in harness/tlsleak/families/*.py).
packages() { grep -ho 'PACKAGE [A-Za-z0-9.+-]*' "$root"/allocators/*.cmake | cut -d' ' -f2 | sort -u; }
sources() { sed -n 's/.*debian_source="\([^"]*\)".*/\1/p' "$root"/harness/tlsleak/families/*.py | sort -u; }
mapfile -t alloc_packages < <(packages)
mapfile -t alloc_sources < <(sources)

# Fast path: same set-up inputs as last time and the recorded interpreter still has its modules.
fingerprint=$(cat "$root/ci/setup.sh" "$root/ci/private_apt.py" <(packages) <(sources) |
    cksum | cut -d' ' -f1)
up_to_date() {
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$fingerprint" ] && [ -f "$cache/python" ] &&
        py_has "$(cat "$cache/python")"
}
[ "$profile" != source ] && up_to_date && exit 0

# One set-up at a time per checkout; two checkouts share nothing but apt's own locks.
exec 9>"$cache/setup.lock"
if ! flock -n 9; then
    say "waiting for another set-up of this checkout to finish"
    flock 9
fi
[ "$profile" != source ] && up_to_date && exit 0

# --- binary packages (the only step that needs root) --------------------------------------------
apt_run=(gcc g++ make cmake git dpkg-dev ccache autoconf automake libtool ca-certificates python3 python3-venv python3-psutil
    python3-scipy python3-matplotlib "${alloc_packages[@]}"
    # musl-gcc: the repro's C programs built against musl, another libc with its own thread
    # teardown (repro/prim/linux.c builds with either).
    musl-tools)
# clang: the tests compile include/tlsleak.h with a second compiler, as users' projects may.
apt_test=(python3-pytest python3-jsonschema python3-pyflakes cppcheck clang-format shellcheck chromium
    clang
    # tests/integration/test_install.py: `pip install --no-index --no-build-isolation .` builds
    # the wheel with the system's setuptools and wheel (a bare Debian has no python3-wheel)
    python3-setuptools python3-wheel
    # tests/corpus/: programs whose per-thread state belongs to a real library
    libssl-dev libglib2.0-dev pkg-config)
# --platform wine: the mingw-w64 cross toolchain (cmake/mingw-w64.cmake) and Wine to run it.
apt_wine=(mingw-w64 wine64)
sudo=()
[ "$(id -u)" -eq 0 ] || { command -v sudo >/dev/null && sudo -n true 2>/dev/null && sudo=(sudo -n); }
can_apt() { command -v apt-get >/dev/null && { [ "$(id -u)" -eq 0 ] || [ ${#sudo[@]} -gt 0 ]; }; }
# Wait for another apt (a second checkout's set-up) instead of failing on its lock.
apt_host=("${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 -qq)

host_update() { # the lists lock has no timeout option: wait while another apt holds it
    local i
    for i in $(seq 60); do
        "${apt_host[@]}" update >"$1" 2>&1 && return 0
        grep -q 'Could not get lock' "$1" || return 1
        [ "$i" -eq 1 ] && say "waiting for another apt-get to release its lists"
        sleep 2
    done
    return 1
}

wanted=("${apt_run[@]}")
[ "$profile" = test ] && wanted+=("${apt_test[@]}" "${apt_wine[@]}")
[ "$profile" = wine ] && wanted+=("${apt_wine[@]}")
if [ "$profile" = source ]; then
    : # the source packages only (below)
elif can_apt; then
    missing=()
    for p in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log=$cache/apt-install.log
        say "installing ${missing[*]} with apt-get (log: .cache/apt-install.log)"
        host_update "$log" || say "apt-get update failed; installing from the lists at hand"
        # One by one on failure, so a package this distribution lacks does not block the rest.
        if ! DEBIAN_FRONTEND=noninteractive "${apt_host[@]}" install -y "${missing[@]}" >>"$log" 2>&1; then
            for p in "${missing[@]}"; do
                DEBIAN_FRONTEND=noninteractive "${apt_host[@]}" install -y "$p" >>"$log" 2>&1 ||
                    say "could not install $p (continuing; what needs it is reported as unavailable)"
            done
        fi
    fi
else
    say "no apt-get with root rights: install a C/C++ compiler, cmake and the allocators yourself"
fi

# --- allocator sources, through a private apt configuration ---------------------------------
# .cache/apt holds its own sources (deb-src lines derived from the host's deb entries, options
# such as Signed-By kept), lists and caches; root is not needed.
papt_dir=$cache/apt
papt=(apt-get -qq -o "Dir::Etc::SourceList=$papt_dir/etc/sources.list"
    -o "Dir::Etc::SourceParts=$papt_dir/etc/sources.list.d" -o "Dir::State::Lists=$papt_dir/lists"
    -o "Dir::Cache=$papt_dir/cache" -o "Dir::Cache::Archives=$papt_dir/archives")
# As root apt downloads as the _apt user, who may not reach a checkout under a private home.
[ "$(id -u)" -eq 0 ] && papt+=(-o APT::Sandbox::User=root)
unavailable() { # $1 = source package, $2 = why: read by allocators/*.cmake as the reason
    mkdir -p "$cache/src"
    echo "$2" >"$cache/src/$1.unavailable"
    say "$1 from source stays unavailable: $2"
}
scratch=()
trap 'rm -rf "${scratch[@]}"' EXIT
private_why=""
private_lists() { # derive the sources and update the private lists, once per set-up
    [ -n "$private_why" ] && return 1
    [ -n "${private_ready:-}" ] && return 0
    if ! command -v apt-get >/dev/null; then
        private_why="no apt-get on this system"
        return 1
    fi
    local err
    if ! err=$(python3 "$root/ci/private_apt.py" derive --out "$papt_dir/etc" 2>&1); then
        private_why=${err:-no Debian-family apt source}
        return 1
    fi
    mkdir -p "$papt_dir/lists/partial" "$papt_dir/cache" "$papt_dir/archives/partial"
    say "updating tlsleak's private apt lists for source packages (.cache/apt)"
    if ! "${papt[@]}" update >"$papt_dir/update.log" 2>&1; then
        private_why="apt-get update of the private lists failed (see .cache/apt/update.log)"
        return 1
    fi
    private_ready=1
}
fetch_source() { # $1 = Debian source package name
    compgen -G "$cache/src/$1-[0-9]*/" >/dev/null && return 0
    command -v dpkg-source >/dev/null || {
        unavailable "$1" "dpkg-source missing (apt-get install dpkg-dev)"
        return 0
    }
    private_lists || {
        unavailable "$1" "$private_why"
        return 0
    }
    say "fetching the $1 source package into .cache/src"
    local tmp
    tmp=$(mktemp -d "$cache/src-$1.XXXXXX")
    scratch+=("$tmp")
    # Unpacked in a scratch folder and moved in whole: an interrupted fetch leaves no half tree.
    if (cd "$tmp" && "${papt[@]}" source "$1" >"$tmp/log" 2>&1); then
        mkdir -p "$cache/src"
        local d
        for d in "$tmp"/*/; do
            [ -d "$d" ] && mv "$d" "$cache/src/"
        done
        rm -f "$cache/src/$1.unavailable"
        rm -rf "$tmp"
    else
        unavailable "$1" "apt-get source $1 failed: $(tail -1 "$tmp/log")"
        rm -rf "$tmp"
    fi
}
if [ "$profile" = source ]; then
    for s in "${@:2}"; do
        fetch_source "$s"
    done
    exit 0
fi
for s in "${alloc_sources[@]}"; do
    fetch_source "$s"
done

# --- npm tools for the tests (workflow validation) -------------------------------------------
npm_tools=("@action-validator/cli@0.6.0" "@action-validator/core@0.6.0")
if [ "$profile" = test ] && [ ! -x "$cache/npm/node_modules/.bin/action-validator" ]; then
    if ! command -v npm >/dev/null && can_apt; then
        say "installing nodejs and npm with apt-get (workflow validation in the tests)"
        DEBIAN_FRONTEND=noninteractive "${apt_host[@]}" install -y nodejs npm >>"$cache/apt-install.log" 2>&1 ||
            say "could not install npm; the workflow validation test will be skipped"
    fi
    if command -v npm >/dev/null; then
        say "installing ${npm_tools[*]} into .cache/npm"
        npm install --prefix "$cache/npm" --no-audit --no-fund --silent "${npm_tools[@]}" >&2 ||
            say "npm install failed; the workflow validation test will be skipped"
    fi
fi

# --- Python ----------------------------------------------------------------------------------
python=$(pick_python py_ok) || python=
if [ -z "$python" ]; then
    say "creating .venv and installing Python packages with pip"
    base=$(command -v python3) || {
        say "no python3 found"
        exit 3
    }
    [ -x "$root/.venv/bin/python" ] || "$base" -m venv --system-site-packages "$root/.venv" >&2
    reqs=(-r "$root/harness/requirements.txt")
    [ "$profile" = test ] && reqs+=(-r "$root/harness/requirements-test.txt")
    "$root/.venv/bin/python" -m pip install -q "${reqs[@]}" >&2
    python=$root/.venv/bin/python
    py_ok "$python" || {
        say "Python packages still missing after pip install"
        exit 3
    }
fi
echo "$python" >"$cache/python"
echo "$fingerprint" >"$stamp"
