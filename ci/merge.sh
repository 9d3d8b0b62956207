#!/usr/bin/env bash
# Runs made on several CI machines, merged into one results file and report: the shards of
# one plan (tlsleak run --shard K/N) and the runs of other targets (a --platform wine job) side
# by side; its Markdown summary is appended to the job summary where there is one:
#   ci/merge.sh RUNS_DIR OUT_DIR     (every results.json under RUNS_DIR, at any depth, as the
#                                     artifacts of the jobs were downloaded)
set -uo pipefail
[ $# -eq 2 ] || {
    echo "usage: ci/merge.sh RUNS_DIR OUT_DIR" >&2
    exit 2
}
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 3
mapfile -t runs < <(find "$1" -name results.json -type f 2>/dev/null | sort)
[ ${#runs[@]} -gt 0 ] || {
    echo "ci/merge.sh: no results.json under $1" >&2
    exit 2
}
./tlsleak merge "${runs[@]}" --out "$2"
rc=$?
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$2/summary.md" ]; then
    {
        echo "## tlsleak: merged runs"
        cat "$2/summary.md"
    } >>"$GITHUB_STEP_SUMMARY"
fi
exit "$rc"
