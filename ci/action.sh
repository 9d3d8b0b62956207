#!/usr/bin/env bash
# The GitHub Action's step (action.yml): run a program under `tlsleak run --exec`, keep
# results.json and junit.xml, add the run's table to the job summary, exit with tlsleak's status
# (0 no leak, 1 leak, 2 usage, 3 infrastructure; 4, a cell that could not be judged, passes the
# step with a warning unless INPUT_FAIL_ON_INCONCLUSIVE is true). Runs anywhere, e.g. by hand:
#   INPUT_COMMAND='./build/my_server --churn 5000' GITHUB_STEP_SUMMARY=/tmp/summary.md ci/action.sh
# Inputs (environment, as action.yml maps them):
#   INPUT_COMMAND     the program and its arguments, shell-quoted (required)
#   INPUT_ALLOCATORS  configurations, separated by spaces or commas (default: tlsleak's)
#   INPUT_THREADS     tlsleak run --threads
#   INPUT_BASELINE    tlsleak run --baseline FILE: fail only on leaks it does not know
#   INPUT_OPTIONS     more `tlsleak run` options, shell-quoted
#   INPUT_OUT         output folder (default: $RUNNER_TEMP or /tmp, tlsleak-<pid>)
#   INPUT_FAIL_ON_INCONCLUSIVE  true: exit 4 fails the step too
# Outputs (appended to $GITHUB_OUTPUT when set): results, junit, exit-code, inconclusive.
set -uo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
py=$(cat "$root/.cache/python" 2>/dev/null || command -v python3)

# Split a shell-quoted string into NUL-separated words (no expansion, no command execution).
split_words() {
    "$py" -c 'import shlex, sys; sys.stdout.write("".join(w + "\0" for w in shlex.split(sys.argv[1])))' "$1"
}

# A Markdown code span holding any text: its fence is longer than any run of backticks in it.
# shellcheck disable=SC2016 # the backquotes are Python's and Markdown's, not a substitution
code_span() {
    "$py" -c 'import re, sys; t = " ".join(sys.argv[1].split()); n = max([len(r) for r in re.findall("`+", t)] + [0]) + 1; sys.stdout.write("`" * n + " " + t + " " + "`" * n)' "$1"
}

if [ -z "${INPUT_COMMAND:-}" ]; then
    echo "ci/action.sh: error: the 'command' input is empty (the program to run)" >&2
    exit 2
fi
if ! mapfile -d '' -t program < <(split_words "$INPUT_COMMAND") || [ "${#program[@]}" -eq 0 ]; then
    echo "ci/action.sh: error: cannot split the 'command' input: $INPUT_COMMAND" >&2
    exit 2
fi
mapfile -d '' -t options < <(split_words "${INPUT_OPTIONS:-}")

args=(run)
allocators=${INPUT_ALLOCATORS:-}
for config in ${allocators//,/ }; do
    args+=(-a "$config")
done
[ -n "${INPUT_THREADS:-}" ] && args+=(--threads "$INPUT_THREADS")
[ -n "${INPUT_BASELINE:-}" ] && args+=(--baseline "$INPUT_BASELINE")
out=${INPUT_OUT:-${RUNNER_TEMP:-/tmp}/tlsleak-$$}
args+=("${options[@]}" --out "$out" --exec -- "${program[@]}")

log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$root/tlsleak" "${args[@]}" | tee "$log"
code=${PIPESTATUS[0]}

inconclusive=false
[ "$code" -eq 4 ] && inconclusive=true
if [ -n "${GITHUB_OUTPUT:-}" ]; then
    {
        echo "results=$out/results.json"
        echo "junit=$out/junit.xml"
        echo "exit-code=$code"
        echo "inconclusive=$inconclusive"
    } >>"$GITHUB_OUTPUT"
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    case $code in
        0) verdict="no leak" ;;
        1) verdict="**leak found**" ;;
        2) verdict="**usage error**" ;;
        3) verdict="**infrastructure failure**" ;;
        4) verdict="**inconclusive**: no leak found, but a cell could not be judged (not a pass)" ;;
        *) verdict="**failed**" ;;
    esac
    fence='```'
    while grep -qF -- "$fence" "$log"; do fence="$fence\`"; done
    {
        echo "### tlsleak: $(code_span "${program[0]##*/}"): $verdict (exit $code)"
        echo
        code_span "tlsleak ${args[*]}"
        printf '\n\n%s\n' "$fence"
        cat "$log"
        echo "$fence"
        [ -f "$out/junit.xml" ] && printf '\nJUnit: %s\n' "$(code_span "$out/junit.xml")"
    } >>"$GITHUB_STEP_SUMMARY"
fi
if [ "$inconclusive" = true ] && [ "${INPUT_FAIL_ON_INCONCLUSIVE:-false}" != true ]; then
    echo "::warning::tlsleak: no leak found, but a cell could not be judged (exit 4); set fail-on-inconclusive to fail the step"
    exit 0
fi
exit "$code"
