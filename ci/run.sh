#!/usr/bin/env bash
# One CI job's harness run, its results kept where the workflow uploads them:
#   ci/run.sh NAME [tlsleak run options...]
# Runs ./tlsleak run --out results/runs/ci-NAME with the options given (a --platform, a
# --baseline for the job's platform, or none), then appends the run's Markdown summary (its
# summary.md, else results/runs/latest/summary.md, when the harness writes one) to
# $GITHUB_STEP_SUMMARY where there is one. Exits with the run's exit code.
set -uo pipefail
[ $# -ge 1 ] || {
    echo "usage: ci/run.sh NAME [tlsleak run options...]" >&2
    exit 2
}
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 3
name=$1
shift
out=results/runs/ci-$name
./tlsleak run --out "$out" "$@"
rc=$?
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    for summary in "$out/summary.md" results/runs/latest/summary.md; do
        if [ -f "$summary" ]; then
            {
                echo "## tlsleak: $name"
                cat "$summary"
            } >>"$GITHUB_STEP_SUMMARY"
            break
        fi
    done
fi
exit "$rc"
