#!/usr/bin/env bash
# Installs what tlsleak needs, idempotently, and records the Python interpreter to use.
#   ci/setup.sh [run|test]    run: build + run the matrix; test: also pytest and the linters
# Debian/Ubuntu: system packages through apt (as root, or with passwordless sudo), Python
# packages from Debian when they are there. Elsewhere, or when apt is not an option: a .venv
# with pip. Allocator sources for from-source builds: Debian's source packages (deb-src).
# Prints nothing when everything is already in place; progress goes to stderr.
set -euo pipefail
profile=${1:-run}
case $profile in run | test) ;; *)
    echo "setup.sh: unknown profile '$profile' (accepted: run, test)" >&2
    exit 2
    ;;
esac
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=$root/.cache
mkdir -p "$cache"
stamp=$cache/setup-$profile.ok
say() { echo "tlsleak setup: $*" >&2; }

# Fast path: same setup script as last time and the recorded interpreter still works.
fingerprint=$(cksum <"$root/ci/setup.sh" | cut -d' ' -f1)
py_modules=psutil,scipy
[ "$profile" = test ] && py_modules=$py_modules,pytest,jsonschema,pyflakes
py_ok() { "$1" -c "import ${py_modules}" >/dev/null 2>&1; }
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$fingerprint" ] && [ -f "$cache/python" ] &&
    py_ok "$(cat "$cache/python")"; then
    exit 0
fi

# --- system packages -------------------------------------------------------------------------
apt_run=(gcc g++ make cmake git dpkg-dev ca-certificates libmimalloc-dev libjemalloc-dev
    libgoogle-perftools-dev libtbb-dev python3 python3-venv python3-psutil python3-scipy)
apt_test=(python3-pytest python3-jsonschema python3-pyflakes cppcheck clang-format shellcheck)
sudo=()
[ "$(id -u)" -eq 0 ] || { command -v sudo >/dev/null && sudo -n true 2>/dev/null && sudo=(sudo -n); }
can_apt() { command -v apt-get >/dev/null && { [ "$(id -u)" -eq 0 ] || [ ${#sudo[@]} -gt 0 ]; }; }

wanted=("${apt_run[@]}")
[ "$profile" = test ] && wanted+=("${apt_test[@]}")
if can_apt; then
    missing=()
    for p in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]}"
        "${sudo[@]}" apt-get update -qq >&2
        # Install one by one on failure so a package this distribution lacks does not block the rest.
        if ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >&2; then
            for p in "${missing[@]}"; do
                DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$p" >&2 ||
                    say "could not install $p (continuing; what needs it is reported as unavailable)"
            done
        fi
    fi
else
    say "no apt-get with root rights: install a C/C++ compiler, cmake and the allocators yourself"
fi

# --- allocator sources (mimalloc:static is built from source) --------------------------------
debian_mirror() { # every mirror configured, deb822 (.sources) first, then one-line sources.list
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && sed -n 's/^URIs: *//p' "$f"
    done
    [ -f /etc/apt/sources.list ] &&
        awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { print $i; break } }' \
            /etc/apt/sources.list
    true
}
fetch_source() { # $1 = Debian source package name
    compgen -G "$cache/src/$1-[0-9]*/CMakeLists.txt" >/dev/null && return 0
    can_apt || return 0
    if ! apt-get source --print-uris "$1" >/dev/null 2>&1; then
        # shellcheck source=/dev/null
        . /etc/os-release
        local list=/etc/apt/sources.list.d/tlsleak-deb-src.sources
        local uri
        uri=$(debian_mirror | head -1) || true
        [ -n "$uri" ] && [ -n "${VERSION_CODENAME:-}" ] || return 0
        say "adding a deb-src entry for $VERSION_CODENAME ($list)"
        printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\n' "$uri" "$VERSION_CODENAME" |
            "${sudo[@]}" tee "$list" >/dev/null
        "${sudo[@]}" apt-get update -qq >&2
    fi
    say "fetching the $1 source package into .cache/src"
    mkdir -p "$cache/src"
    (cd "$cache/src" && apt-get source -qq "$1" >/dev/null 2>&1) ||
        say "apt-get source $1 failed; $1 from source stays unavailable"
}
fetch_source mimalloc

# --- Python ----------------------------------------------------------------------------------
python=
for cand in "${TLSLEAK_PYTHON:-}" "$root/.venv/bin/python" /usr/bin/python3 "$(command -v python3 || true)"; do
    if [ -n "$cand" ] && [ -x "$cand" ] && py_ok "$cand"; then
        python=$cand
        break
    fi
done
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
