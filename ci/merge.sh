#!/usr/bin/env bash
# The shards of one CI matrix (tlsleak run --shard K/N), merged back into one results file and
# report, its Markdown summary appended to the job summary where there is one:
#   ci/merge.sh SHARDS_DIR OUT_DIR     (SHARDS_DIR holds one folder per shard's run)
set -uo pipefail
[ $# -eq 2 ] || {
    echo "usage: ci/merge.sh SHARDS_DIR OUT_DIR" >&2
    exit 2
}
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 3
shopt -s nullglob
shards=("$1"/*/results.json)
[ ${#shards[@]} -gt 0 ] || {
    echo "ci/merge.sh: no results.json under $1" >&2
    exit 2
}
./tlsleak merge "${shards[@]}" --out "$2"
rc=$?
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$2/summary.md" ]; then
    {
        echo "## tlsleak: merged shards"
        cat "$2/summary.md"
    } >>"$GITHUB_STEP_SUMMARY"
fi
exit "$rc"
