#!/usr/bin/env bash
# Configure and build the repro programs with CMake, nothing else (no harness, no allocators
# to install): the CI jobs of the platforms the harness does not run on yet.
#   ci/build.sh BUILD_DIR [CMAKE_ARGS...]
# Builds with two jobs, RelWithDebInfo as the project does for multi-configuration generators
# (Visual Studio), and prints the manifest's scenarios and configurations.
set -euo pipefail
[ $# -ge 1 ] || {
    echo "usage: ci/build.sh BUILD_DIR [CMAKE_ARGS...]" >&2
    exit 2
}
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=$1
shift
cmake -S . -B "$dir" "$@"
cmake --build "$dir" --config RelWithDebInfo --parallel 2
echo "built into $dir; manifest: $dir/manifest.json"
