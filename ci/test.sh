#!/usr/bin/env bash
# The test command (README Quick start): set-up, lint, then the pytest suite with JUnit XML.
# Extra arguments go to pytest, e.g. ci/test.sh -m unit
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ci/setup.sh test
ci/lint.sh
mkdir -p results/test
PYTHONPATH=harness exec "$(cat .cache/python)" -m pytest -p no:cacheprovider \
    --junitxml=results/test/junit.xml "$@"
