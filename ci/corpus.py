#!/usr/bin/env python3
"""The corpus benchmark (README "Corpus"; a benchmark, not part of the test suite): every
program of tests/corpus/ x every start (directly, a wrapper without exec, sh -c, CTest, the
pytest plugin) x every configuration (system and the overrides of real allocators), run
through tlsleak --runs times and held against the truth measured outside tlsleak; prints the
table (program, start, configuration, tlsleak's verdict and rate, the outside rate, agree?).

    ci/corpus.py table [--runs N] [-p PROGRAM]... [-s START]... [-a CONFIG]... [--markdown]
                       [--update-readme] [--build-dir DIR]
    ci/corpus.py truth [--runs N] [-p PROGRAM]... [-a CONFIG]... [--build-dir DIR]

`truth` re-measures the outside truth and writes tests/corpus/truth.json (the programs and
configurations not measured keep what the file recorded). `table --update-readme` rewrites the
README's corpus table (between its corpus:start and corpus:end marks). Every cell of every run,
with what disagreed, goes to results/runs/corpus-<time>/corpus.json. Exit 0 when every
combination agreed in every run, 1 otherwise, 2 on a wrong argument.
"""
import argparse
import dataclasses
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def set_up():
    """ci/setup.sh's test profile (the corpus's libraries), then this script again under the
    interpreter it chose, whichever `python3` started it."""
    if os.environ.get("CORPUS_SET_UP") != "1":
        subprocess.run([str(ROOT / "ci" / "setup.sh"), "test"], check=True,
                       stdin=subprocess.DEVNULL)
        python = (ROOT / ".cache" / "python").read_text().strip()
        os.environ["CORPUS_SET_UP"] = "1"
        os.execv(python, [python, str(Path(__file__).resolve()), *sys.argv[1:]])


if __name__ == "__main__":
    set_up()
sys.path[:0] = [str(ROOT / "tests" / "corpus"), str(ROOT / "harness")]
import corpus  # noqa: E402
import starts  # noqa: E402
from tlsleak import provenance  # noqa: E402

README = ROOT / "README.md"
MARKS = starts.README_MARKS


def parse(argv):
    p = argparse.ArgumentParser(prog="ci/corpus.py", description=__doc__.split("\n\n")[0])
    p.add_argument("what", choices=("table", "truth"))
    p.add_argument("--runs", type=int, default=1, help="runs of each combination")
    p.add_argument("-p", "--program", action="append", default=[], help="only these programs")
    p.add_argument("-s", "--start", action="append", default=[], choices=list(starts.STARTS),
                   help="only these starts")
    p.add_argument("-a", "--config", action="append", default=[],
                   help="only these configurations (labels, as `tlsleak list` shows them)")
    p.add_argument("--markdown", action="store_true", help="print the table in Markdown")
    p.add_argument("--update-readme", action="store_true",
                   help="rewrite the README's corpus table with this run's")
    p.add_argument("--build-dir", default=str(ROOT / "build" / "corpus"))
    args = p.parse_args(argv)
    if args.runs < 1:
        p.error("--runs must be at least 1")
    known = {prog.name for prog in corpus.programs()}
    unknown = [name for name in args.program if name not in known]
    if unknown:
        p.error(f"no program {', '.join(unknown)} in tests/corpus/programs.json "
                f"(known: {', '.join(sorted(known))})")
    return args


def usage(message):
    """Bad input: one line, exit 2, nothing written."""
    print(f"ci/corpus.py: {message}", file=sys.stderr)
    sys.exit(2)


def chosen_configs(args):
    configs = corpus.configurations()
    unknown = [a for a in args.config if a not in {c["label"] for c in configs}]
    if unknown:
        usage(f"unknown configuration {', '.join(unknown)} (known: "
              + ", ".join(c["label"] for c in configs) + ")")
    return [c for c in configs if c["available"] and (not args.config or c["label"] in args.config)]


def say(line):
    print(line, file=sys.stderr, flush=True)


def truth(args, built, configs, chosen):
    old = corpus.load_truth() if corpus.TRUTH_FILE.exists() else {}
    with tempfile.TemporaryDirectory(prefix="corpus-truth-") as scratch:
        doc = corpus.measure(built, configs, args.runs, chosen, scratch,
                             " ".join(["ci/corpus.py", *sys.argv[1:]]), say)
    doc = corpus.merged(doc, old)  # what was not measured now stays recorded
    corpus.TRUTH_FILE.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n")
    say(f"wrote {corpus.TRUTH_FILE.relative_to(ROOT)}")
    return 0


def table(args, built, configs, chosen):
    truth_doc = corpus.load_truth()
    out = ROOT / "results" / "runs" / time.strftime("corpus-%Y%m%d-%H%M%S")
    plan = starts.plan_for(truth_doc, [p.name for p in chosen], [c["label"] for c in configs])
    runs = []
    record = {"command": " ".join(["ci/corpus.py", *sys.argv[1:]]),
              "harness": provenance.harness(), "host": provenance.host(), "plan": plan,
              "cells": []}
    for n in range(args.runs):
        for start in args.start or list(starts.STARTS):
            began = time.monotonic()
            found = starts.run(start, built, plan, out / f"run{n + 1}")
            runs.append((plan, found))
            judged = starts.judged(found, truth_doc, plan)
            record["cells"] += [{**dataclasses.asdict(o), "run": n + 1, "disagreement": why}
                                for o, why in judged]
            (out / "corpus.json").write_text(json.dumps(record, indent=1) + "\n")
            say(f"run {n + 1}/{args.runs}, {start}: {len(found)} cells, "
                f"{sum(1 for _, why in judged if why)} disagree "
                f"({time.monotonic() - began:.0f} s)")
    rows = starts.rows(runs, truth_doc)
    print(starts.render(rows, markdown=args.markdown))
    agreed = sum(1 for r in rows if all(not wrong for _, wrong in r.runs))
    summary = f"{agreed} of {len(rows)} combinations agree in every run ({args.runs} run(s) each)"
    print(summary)
    for r in rows:
        for o, wrong in r.runs:
            if wrong:
                print(f"  {o.program} / {o.start} / {o.config}: {wrong}")
    if args.update_readme:
        update_readme(starts.render(rows, markdown=True), summary)
    print(f"results: {out} (corpus.json: every cell of every run)")
    return 0 if agreed == len(rows) else 1


def readme_text():
    """The README, checked before anything runs to have the section --update-readme writes."""
    text = README.read_text()
    if MARKS[0] not in text or MARKS[1] not in text:
        usage(f"README.md has no {MARKS[0]} ... {MARKS[1]} section to update")
    return text


def update_readme(markdown, summary):
    text = readme_text()
    head, rest = text.split(MARKS[0], 1)
    _, tail = rest.split(MARKS[1], 1)
    os_name = platform.freedesktop_os_release().get("PRETTY_NAME", platform.system())
    made = (f"Measured {datetime.date.today().isoformat()} on {os.cpu_count()} cores "
            f"({os_name}); `ci/corpus.py {' '.join(sys.argv[1:])}`.")
    README.write_text(f"{head}{MARKS[0]}\n{made}\n\n{markdown}\n\n{summary}.\n{MARKS[1]}{tail}")


def main(argv):
    args = parse(argv)
    if args.update_readme:
        readme_text()
    configs = chosen_configs(args)
    built = corpus.build(args.build_dir)
    chosen = [p for p in corpus.programs() if not args.program or p.name in args.program]
    for p in chosen:
        if built.argv(p) is None:
            say(f"{p.name}: left out: {built.why_missing(p)}")
    chosen = [p for p in chosen if built.argv(p) is not None]
    return (truth if args.what == "truth" else table)(args, built, configs, chosen)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
