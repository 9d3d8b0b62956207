"""What a release history's results say, read from the one results model: for each scenario
and link mode, the cell of every release in the history's order (a release that does not build
is a point of its own, never dropped); the flips, where the verdict of one judged release
differs from the previous judged one, each with the exact `tlsleak bisect` command that finds
the commit between them; and the table (terminal, Markdown, HTML page). The chart is
historyplot.py's."""
import html
import shlex
from dataclasses import dataclass

from tlsleak import identity, releases, templates
from tlsleak.defaults import default, in_group
from tlsleak.escape import terminal as safe
from tlsleak.vocab import JUDGED, is_control

NOT_BUILT = "does not build"
NOT_RUN = "not run"  # built, but no cell (an interrupt, or the scenario not built for it)
# The workload options a bisect must repeat to see what the history saw (interval is derived).
_REPEATED = [p for p in in_group("workload") if p.name != "interval"]


@dataclass
class Point:
    """One release on one line of the chart."""
    release: releases.Release
    verdict: str  # the cell's verdict, NOT_BUILT or NOT_RUN
    rate: float | None = None  # B/thread
    reason: str = ""


@dataclass
class Flip:
    scenario: str
    mode: str
    before: Point
    after: Point
    command: str  # the `tlsleak bisect` that finds the commit between them

    @property
    def find_fix(self):
        return self.before.verdict == "leak"


def lines(doc):
    """{(scenario, mode): [Point per release, in the history's order]}, scenarios in the
    history's order, then modes."""
    hist = doc["history"]
    rels = releases.of_block(hist)
    cells = {(c["scenario"], c["allocator"]["id"]): c for c in doc["cells"]}
    out = {}
    for scenario in hist["scenarios"]:
        for mode in hist["modes"]:
            out[(scenario, mode)] = [_point(r, scenario, mode, cells) for r in rels]
    return out


def _point(rel, scenario, mode, cells):
    if rel.built is False:
        return Point(rel, NOT_BUILT, reason=rel.error)
    ids = [i for i in rel.ids or [] if identity.name_mode(i)[1] == mode]
    cell = next((cells[(scenario, i)] for i in ids if (scenario, i) in cells), None)
    if cell is None:
        return Point(rel, NOT_RUN)
    return Point(rel, cell["verdict"], (cell.get("rate") or {}).get("value"), cell["reason"])


def bisect_command(doc, scenario, mode, good, bad, find_fix):
    """The `tlsleak bisect` command line for the commits between two releases."""
    hist, settings = doc["history"], doc.get("settings") or {}
    argv = ["tlsleak", "bisect", "--repo", hist["repo"], "-s", scenario,
            "-a", identity.format_id(hist["allocator"], None, mode), "--good", good, "--bad", bad]
    if find_fix:
        argv.append("--find-fix")
    for p in _REPEATED:
        if p.name in settings and settings[p.name] != default(p.name):
            argv += [p.option, f"{settings[p.name]:g}" if isinstance(settings[p.name], float)
                     else str(settings[p.name])]
    return shlex.join(argv)


def flips(doc):
    """Every flip of every line, in line order then release order: between two consecutive
    judged releases (ok or leak) whose verdicts differ; releases between them that were not
    judged (not built, inconclusive, error) are passed over, as bisect passes over them."""
    found = []
    for (scenario, mode), points in lines(doc).items():
        judged = [p for p in points if p.verdict in JUDGED]
        for a, b in zip(judged, judged[1:]):
            if a.verdict != b.verdict:
                found.append(Flip(scenario, mode, a, b, bisect_command(
                    doc, scenario, mode, a.release.ref, b.release.ref, a.verdict == "leak")))
    return found


def _cell_text(p):
    if p.verdict == "leak" and p.rate is not None:
        return f"leak {p.rate:.0f}"
    if p.verdict == "ok" and p.rate is not None:
        return f"ok {p.rate:.0f}"
    return p.verdict


def controls_text(doc, rel):
    """Whether the controls proved the detector on this release's configurations: "ok", "not
    proven: WHY" (its verdicts are not to be trusted), or "-" (no control ran on it)."""
    label_id = {c["config"]: c["allocator"]["id"] for c in doc["cells"]}
    ran = {c["allocator"]["id"] for c in doc["cells"] if is_control(c["role"])}
    why = [i["why"] for i in (doc.get("controls") or {}).get("invalid_configs") or []
           if label_id.get(i["config"], i["config"]) in (rel.ids or [])]
    if why:
        return "not proven: " + "; ".join(why)
    return "ok" if ran & set(rel.ids or []) else "-"


def _grid(doc):
    """(header, rows): one row per release, one column per line, then the controls; a release
    that does not build says so with its first error line."""
    ls = lines(doc)
    header = ["release", "commit", *[f"{s} ({m})" for s, m in ls], "controls"]
    rows = []
    for i, rel in enumerate(releases.of_block(doc["history"])):
        texts = [_cell_text(points[i]) for points in ls.values()]
        if rel.built is False:
            texts = [f"{NOT_BUILT}: {rel.error}"] + [""] * len(texts)
        else:
            texts.append(controls_text(doc, rel))
        rows.append([rel.ref, rel.commit[:12], *texts])
    return header, rows


def _order_line(hist):
    return (f"{hist['allocator']} from {hist['repo']}, releases by {hist['select']}, in "
            f"{hist['order']} order; verdict and B/thread per scenario (link mode)")


def text(doc):
    """The terminal table, then the flips and their bisect commands."""
    header, rows = _grid(doc)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    out = [_order_line(doc["history"]), ""]
    for r in [header, *rows]:
        out.append("  ".join(safe(str(v)).ljust(w) for v, w in zip(r, widths)).rstrip())
    out += [""] + flip_lines(doc)
    return "\n".join(out)


def flip_lines(doc):
    fl = flips(doc)
    if not fl:
        return ["no verdict flips between the releases measured"]
    out = []
    for f in fl:
        out.append(f"{f.scenario} ({f.mode}): {f.before.verdict} at {f.before.release.ref}, "
                   f"{f.after.verdict} at {f.after.release.ref}; find the commit with:")
        out.append(f"  {safe(f.command)}")
    return out


def markdown(doc):
    """history.md: the table and the flips."""
    header, rows = _grid(doc)
    esc = (lambda v: str(v).replace("|", "\\|"))
    out = [f"## tlsleak: release history of {doc['history']['allocator']}", "",
           _order_line(doc["history"]), "", "| " + " | ".join(map(esc, header)) + " |",
           "|" + "---|" * len(header)]
    out += ["| " + " | ".join(map(esc, r)) + " |" for r in rows]
    out += ["", "### Flips", ""]
    fl = flips(doc)
    out += [f"- {f.scenario} ({f.mode}): {f.before.verdict} at `{f.before.release.ref}`, "
            f"{f.after.verdict} at `{f.after.release.ref}`:\n  `{f.command}`" for f in fl]
    if not fl:
        out.append("No verdict flips between the releases measured.")
    return "\n".join(out) + "\n"


def page(doc, png_b64=""):
    """history.html: one page, the chart embedded beside the table (template: history.html)."""
    header, rows = _grid(doc)
    e = html.escape
    table = ("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>"
             + "".join("<tr>" + "".join(f'<td class="{e(_css(v))}">{e(str(v))}</td>' for v in r)
                       + "</tr>" for r in rows) + "</table>")
    fl = "".join(f"<li>{e(f.scenario)} ({e(f.mode)}): {e(f.before.verdict)} at "
                 f"{e(f.before.release.ref)}, {e(f.after.verdict)} at {e(f.after.release.ref)}"
                 f"<br><code>{e(f.command)}</code></li>" for f in flips(doc))
    chart = f'<img alt="chart" src="data:image/png;base64,{png_b64}">' if png_b64 else ""
    return templates.render("history.html", {}, dict(
        title=e(f"release history of {doc['history']['allocator']}"),
        order=e(_order_line(doc["history"])), chart=chart, table=table,
        flips=fl or "<li>no verdict flips between the releases measured</li>"))


def _css(value):
    word = str(value).split(" ")[0]
    return {"leak": "leak", "ok": "ok", "does": "nobuild"}.get(word, "")


@dataclass
class Chart:
    """What the chart draws: x positions are the releases in the history's order."""
    refs: list  # x tick labels
    series: dict  # {"scenario (mode)": [B/thread or None per release]}
    verdicts: dict  # {"scenario (mode)": [verdict per release]}
    flips: dict  # {"scenario (mode)": [x of the release after each flip]}
    not_built: list  # x of the releases that do not build
    order: str


def chart(doc):
    """The chart's data from the results (the one results model)."""
    ls = lines(doc)
    name = (lambda s, m: f"{s} ({m})")
    fl = {}
    for f in flips(doc):
        fl.setdefault(name(f.scenario, f.mode), []).append(f.after.release.index)
    rels = releases.of_block(doc["history"])
    return Chart(refs=[r.ref for r in rels],
                 series={name(*k): [p.rate if p.verdict in JUDGED else None for p in pts]
                         for k, pts in ls.items()},
                 verdicts={name(*k): [p.verdict for p in pts] for k, pts in ls.items()},
                 flips=fl, not_built=[r.index for r in rels if r.built is False],
                 order=doc["history"]["order"])
