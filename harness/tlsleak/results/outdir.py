"""The output folder of a command (`run --out`, `merge --out`, the folder `report` writes
beside its results file): what it writes there, and what it refuses to replace.

A command writes results.json and junit.xml (run, merge), and the views summary.md,
report.html and plots/ (unless --no-report). Before it runs anything it refuses, in one line
(UsageError, exit 2), a folder where one of those names is taken by something it may not
replace, unless --overwrite:
- results.json or junit.xml: another run's results, or one of the command's own inputs;
- summary.md, report.html, plots/: anything tlsleak did not write. Its own views are known by
  their first line (`## tlsleak: ` in summary.md, `<title>tlsleak: ` at the head of
  report.html) and plots/ by holding only plot files (grid.png, cell-ID.svg, ...); those are
  views of the results beside them, which `report` exists to draw again.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from tlsleak import InfraError, UsageError, junit
from tlsleak.results import store

JUNIT = "junit.xml"
OUTPUTS = (store.RESULTS, JUNIT)  # written as a pair, one run id in both
SUMMARY_MD, REPORT_HTML, PLOTS_DIR = "summary.md", "report.html", "plots"
# How tlsleak's own views begin (the html within its first KiB).
_OWN_HEAD = {"md": b"## tlsleak: ", "html": b"<title>tlsleak: "}
_PLOT_FILE = re.compile(r"(grid|history|cell-.+)\.(png|svg)")
HISTORY_MD, HISTORY_HTML = "history.md", "history.html"  # a release history's (tlsleak history)


def check_out_dir(out) -> Path:
    """Refuse an output folder that cannot be written, before anything runs."""
    path = Path(out).resolve()
    if path.exists() and not path.is_dir():
        raise UsageError(f"output folder {out} is a file")
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"output folder {out} cannot be written")
    return path


def view_paths(out, md=None, html=None, plots=None) -> dict:
    """{"md", "html", "plots": path}: where the views go, by default into `out`."""
    out = Path(out)
    return {"md": Path(md) if md else out / SUMMARY_MD,
            "html": Path(html) if html else out / REPORT_HTML,
            "plots": Path(plots) if plots else out / PLOTS_DIR}


def history_paths(out) -> dict:
    """{"md", "html": path}: where a release history's table views go."""
    return {"md": Path(out) / HISTORY_MD, "html": Path(out) / HISTORY_HTML}


def _ours(kind, path: Path) -> bool:
    if kind == "plots":
        return path.is_dir() and all(_PLOT_FILE.fullmatch(p.name) and p.is_file()
                                     for p in path.iterdir())
    if not path.is_file():
        return False
    with open(path, "rb") as f:
        head = f.read(1024)
    return head.startswith(_OWN_HEAD["md"]) if kind == "md" else _OWN_HEAD["html"] in head


def claim_views(views: dict, overwrite=False) -> None:
    """Refuse (UsageError) view paths taken by something tlsleak did not write, unless
    `overwrite`."""
    if overwrite:
        return
    taken = [str(p) + ("/" if k == "plots" else "") for k, p in views.items()
             if (p.exists() or p.is_symlink()) and not _ours(k, p)]
    if taken:
        raise UsageError(f"{', '.join(taken)} {'is' if len(taken) == 1 else 'are'} not "
                         f"tlsleak's: not replaced (use --overwrite to replace, or write "
                         f"elsewhere)")


def claim_out_dir(out, overwrite=False, inputs=(), views=True) -> Path:
    """check_out_dir, then refuse a folder holding another run's results or one of `inputs`
    (the files the command reads), or, with `views`, view names taken by files tlsleak did not
    write; all unless `overwrite`."""
    path = check_out_dir(out)
    held = [name for name in OUTPUTS if (path / name).exists() or (path / name).is_symlink()]
    if held and not overwrite:
        mine = {Path(p).resolve() for p in inputs}
        whose = ("one of the inputs," if any((path / n).resolve() in mine for n in held)
                 else "another run's")
        raise UsageError(f"output folder {out} holds {whose} {' and '.join(held)} (use "
                         f"--overwrite to replace them, or another --out)")
    if views:
        claim_views(view_paths(path), overwrite)
    return path


def write_outputs(out, doc) -> None:
    """Write results.json and junit.xml (the same run id in both) after removing whatever pair
    was there; every file that can be written is. InfraError (one line) when one could not."""
    failures = []
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InfraError(f"cannot create the output folder {out}: {e.strerror or e}; "
                         f"nothing written (the verdicts are above)")
    for name in OUTPUTS:  # never leave one file of another run beside this run's
        try:
            if not (out / name).is_dir():
                (out / name).unlink(missing_ok=True)
        except OSError:
            pass
    for name, write in zip(OUTPUTS, (store.dump, junit.write)):
        try:
            write(out / name, doc)
        except (OSError, ValueError) as e:
            failures.append(f"{name}: {getattr(e, 'strerror', None) or e}")
    if failures:
        raise InfraError(f"could not write {'; '.join(failures)} in {out} (the verdicts are "
                         f"above)")
