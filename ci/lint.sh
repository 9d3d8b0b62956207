#!/usr/bin/env bash
# The cleanliness habits, run by the test command: clang-format, cppcheck, pyflakes, shellcheck.
# (C is built with -Wall -Wextra -Werror by CMake itself.)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
py=$(cat .cache/python)
mapfile -t csrc < <(git ls-files -co --exclude-standard 'repro/*.c' 'repro/*.cpp' 'repro/*.h' \
    'allocators/*.c' 'allocators/*.h' 'probe/*.c' 'probe/*.h' 'include/*.h' \
    'tests/programs/*.c' 'tests/programs/*.cpp' 'examples/*.c' 'examples/*.cpp' \
    'tests/corpus/*.c' 'tests/corpus/*.cpp' 'results/*.c')
mapfile -t shs < <(git ls-files -co --exclude-standard 'ci/*.sh' '.ci/run' 'tlsleak' 'tests/*.sh' 'results/*.sh')
echo "lint: clang-format (${#csrc[@]} files)"
clang-format --dry-run -Werror "${csrc[@]}"
echo "lint: cppcheck repro/"
cppcheck -q --error-exitcode=1 --enable=warning,style,performance,portability --std=c11 \
    --inline-suppr --suppress=missingIncludeSystem -I repro/prim -I repro/common repro/
echo "lint: cppcheck probe/ include/ tests/programs/ tests/corpus/ examples/ results/findings/"
cppcheck -q --error-exitcode=1 --enable=warning,style,performance,portability --std=c11 \
    --inline-suppr --suppress=missingIncludeSystem -I probe -I include \
    probe/ include/ tests/programs/ tests/corpus/ examples/ results/findings/
echo "lint: pyflakes harness/ tests/ ci/ setup.py"
"$py" -m pyflakes harness tests ci setup.py
echo "lint: shellcheck (${#shs[@]} scripts)"
shellcheck "${shs[@]}"
