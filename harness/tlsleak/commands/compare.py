"""tlsleak compare A B: two configurations (or two results.json) scenario by scenario, each
side run --repeat times; a verdict that flips is regressed / fixed, a rate that moves (Mann-
Whitney U on the per-run slopes, scipy) is "rate changed". A side that gives no verdict to
compare (a run `inconclusive`, `error`, `crash` or `timeout`, one that finished no thread, runs
split evenly, no cell at all) makes its row "not comparable", with the reason: never fixed or
regressed. Exit 1 when anything regressed, else 4 when a row is not comparable, else 0."""
import tempfile
from collections import Counter
from pathlib import Path

from tlsleak import UsageError, interrupts, results, session, sourcebuilds
from tlsleak.escape import terminal as safe
from tlsleak.vocab import EXIT_INCONCLUSIVE, EXIT_LEAK, EXIT_OK, JUDGED, is_control
from tlsleak.commands.options import add_param, int_in
from tlsleak.commands.run import add_platform, settings_from
from tlsleak.defaults import in_group

HELP = "compare two configurations (or two results.json) scenario by scenario"
ALPHA = 0.05
NOT_COMPARABLE = "not comparable"


def add_parser(sub):
    p = sub.add_parser("compare", help=HELP)
    p.add_argument("a", metavar="A", help="configuration spec (NAME@VERSION:MODE, NAME@REF:MODE) "
                   "or a results file (or run folder) of one configuration")
    p.add_argument("b", metavar="B", help="the same, the side judged against A")
    p.add_argument("--repeat", type=int_in(1, 50), default=4,
                   help="runs per side (default 4: the fewest for which Mann-Whitney U can say p < 0.05)")
    p.add_argument("-s", "--scenario", action="append", default=[], metavar="SCENARIO")
    p.add_argument("--repo", action="append", default=[], metavar="NAME=DIR")
    p.add_argument("-j", "--jobs", type=int_in(1, 64), default=2)
    for group in ("workload", "criteria", "limits"):
        for prm in in_group(group):
            if prm.kind != "internal":
                add_param(p, prm.name)
    p.add_argument("--build-dir", help="CMake build tree (default: the platform's)")
    add_platform(p)
    return p


def _by_scenario(cells, scenarios=()):
    """{scenario: [cells]} of the scenario cells (controls aside), and the configurations."""
    by, ids = {}, set()
    for c in cells:
        if is_control(c["role"]) or (scenarios and c["scenario"] not in scenarios):
            continue
        by.setdefault(c["scenario"], []).append(c)
        ids.add(c["allocator"]["id"])
    return by, ids


def _one_configuration(where, ids):
    if len(ids) > 1:
        raise UsageError(f"{where} holds {len(ids)} configurations ({', '.join(sorted(ids))}): "
                         f"compare takes one per side, e.g. NAME@VERSION:MODE (to compare whole "
                         f"runs, use tlsleak run --baseline RESULTS.json)")


def _from_results(path, scenarios):
    by, ids = _by_scenario(results.load(path)["cells"], scenarios)
    _one_configuration(f"results {results.results_path(path)}", ids)
    return ", ".join(sorted(ids)) or str(path), by


def _run_side(spec, args, settings, repos):
    by, label = {}, spec
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="tlsleak-compare-") as out:
            done = session.run(session.Request(
                settings=settings, scenarios=args.scenario, allocators=[spec], jobs=args.jobs,
                controls=False, out=Path(out), progress=False, build_dir=args.build_dir,
                platform=args.platform,
                repos=repos, argv=args.argv, report=False))
        got, ids = _by_scenario(done.doc["cells"])
        _one_configuration(spec, ids)
        for scen, cells in got.items():
            by.setdefault(scen, []).extend(cells)
        label = next(iter(ids), label)
    return label, by


def side(spec, args, settings, repos):
    """(label, {scenario: [cells]}) of one side: a results file (NAME.json) or a run folder,
    else a configuration run --repeat times."""
    if spec.endswith(".json") or Path(spec).is_dir():
        return _from_results(spec, args.scenario)
    return _run_side(spec, args, settings, repos)


def _leaks(cells):
    return sum(c["verdict"] == "leak" for c in cells)


def _rates(cells):
    return [c["rate"]["value"] for c in cells if c.get("rate")]


def unjudged(cells):
    """Why these runs of one side give no verdict to compare, or None when they do: every run
    judged ok or leak, after at least one thread, and not split evenly between the two."""
    if not cells:
        return "no cell"
    n = len(cells)
    others = Counter(c["verdict"] for c in cells if c["verdict"] not in JUDGED)
    if others:
        return ", ".join(f"{k} of {n} runs {v}" for v, k in sorted(others.items()))
    idle = sum((c.get("threads") or {}).get("finished") == 0 for c in cells)
    if idle:
        return f"{idle} of {n} runs finished no thread"
    if _leaks(cells) * 2 == n:
        return f"runs split: {_leaks(cells)} leak, {n - _leaks(cells)} ok"
    return None


def label(a_cells, b_cells, floor):
    """(label, p, why): not comparable (why says which side and why) when a side gives no
    verdict; regressed / fixed on a verdict that flips by majority; else rate changed when the
    per-run slopes differ (two-sided Mann-Whitney U, p < ALPHA) by more than the floor."""
    why = "; ".join(f"{name}: {r}" for name, r in (("A", unjudged(a_cells)),
                                                   ("B", unjudged(b_cells))) if r)
    if why:
        return NOT_COMPARABLE, None, why
    units = {c["rate"]["unit"] for c in a_cells + b_cells if c.get("rate")}
    if len(units) > 1:
        return NOT_COMPARABLE, None, "rates in different units: " + ", ".join(sorted(units))
    a_leak = _leaks(a_cells) * 2 > len(a_cells)
    b_leak = _leaks(b_cells) * 2 > len(b_cells)
    if a_leak != b_leak:
        return ("regressed" if b_leak else "fixed"), None, ""
    ra, rb = _rates(a_cells), _rates(b_cells)
    if len(ra) >= 2 and len(rb) >= 2 and ra != rb:
        stats = interrupts.load("scipy.stats")  # only compare needs it
        p = float(stats.mannwhitneyu(ra, rb, alternative="two-sided").pvalue)
        med = lambda v: sorted(v)[len(v) // 2]  # noqa: E731
        if p < ALPHA and abs(med(ra) - med(rb)) > floor:
            return "rate changed", p, ""
        return "unchanged", p, ""
    return "unchanged", None, ""


def _summary(cells):
    verdicts = sorted({c["verdict"] for c in cells})
    rates = _rates(cells)
    med = sorted(rates)[len(rates) // 2] if rates else None
    return "/".join(verdicts) or "-", "-" if med is None else f"{med:.0f}"


def main(args):
    settings = settings_from(args, args.jobs)
    repos = sourcebuilds.parse_repos(args.repo)
    la, a = side(args.a, args, settings, repos)
    lb, b = side(args.b, args, settings, repos)
    print(f"A = {safe(la)}\nB = {safe(lb)}\n")
    print(f"{'scenario':24}  {'A verdict':12} {'A B/thr':>8}  {'B verdict':12} {'B B/thr':>8}  "
          f"{'p':>6}  label")
    labels = []
    for scen in sorted(set(a) | set(b)):
        ca, cb = a.get(scen, []), b.get(scen, [])
        what, p, why = label(ca, cb, settings.criteria.floor)
        labels.append(what)
        (va, ra), (vb, rb) = _summary(ca), _summary(cb)
        print(f"{safe(scen):24}  {va:12} {ra:>8}  {vb:12} {rb:>8}  "
              f"{'-' if p is None else format(p, '6.3f'):>6}  {what}"
              + (f": {safe(why)}" if why else ""))
    if "regressed" in labels:
        return EXIT_LEAK
    return EXIT_INCONCLUSIVE if NOT_COMPARABLE in labels else EXIT_OK
