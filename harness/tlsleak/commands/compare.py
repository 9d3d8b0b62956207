"""tlsleak compare A B: two configurations (or two results.json) scenario by scenario, each
side run --repeat times; a verdict that flips is regressed / fixed, a rate that moves (Mann-
Whitney U on the per-run slopes, scipy) is "rate changed". Exit 1 when anything regressed."""
import json
import tempfile
from pathlib import Path

from tlsleak import UsageError, interrupts, session, sourcebuilds
from tlsleak.vocab import EXIT_LEAK, EXIT_OK, FINDINGS, is_control
from tlsleak.commands.options import add_param, int_in
from tlsleak.commands.run import settings_from
from tlsleak.defaults import in_group

HELP = "compare two configurations (or two results.json) scenario by scenario"
ALPHA = 0.05


def add_parser(sub):
    p = sub.add_parser("compare", help=HELP)
    p.add_argument("a", metavar="A", help="configuration spec (NAME@VERSION:MODE, NAME@REF:MODE) "
                   "or a results.json")
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
    p.add_argument("--build-dir", help="CMake build tree (default: build/)")
    return p


def _from_results(path, scenarios):
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise UsageError(f"{path}: not a readable results.json ({e})")
    by = {}
    for c in doc.get("cells", []):
        if is_control(c["role"]) or (scenarios and c["scenario"] not in scenarios):
            continue
        by.setdefault(c["scenario"], []).append(c)
    label = ", ".join(sorted({c["allocator"]["id"] for cs in by.values() for c in cs}))
    return label, by


def _run_side(spec, args, settings, repos):
    by, label = {}, spec
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="tlsleak-compare-") as out:
            done = session.run(session.Request(
                settings=settings, scenarios=args.scenario, allocators=[spec], jobs=args.jobs,
                controls=False, out=Path(out), progress=False, build_dir=args.build_dir,
                repos=repos, argv=args.argv))
        ids = {c["allocator"]["id"] for c in done.doc["cells"]
               if not is_control(c["role"])}
        if len(ids) > 1:
            raise UsageError(f"{spec} names {len(ids)} configurations ({', '.join(sorted(ids))}): "
                             "compare takes one per side, e.g. NAME@VERSION:MODE")
        for c in done.doc["cells"]:
            if is_control(c["role"]):
                continue
            by.setdefault(c["scenario"], []).append(c)
            label = c["allocator"]["id"]
    return label, by


def side(spec, args, settings, repos):
    if spec.endswith(".json") and Path(spec).is_file():
        return _from_results(spec, args.scenario)
    return _run_side(spec, args, settings, repos)


def _leaks(cells):
    return sum(c["verdict"] in FINDINGS for c in cells)


def _rates(cells):
    return [c["rate"]["value"] for c in cells if c.get("rate")]


def label(a_cells, b_cells, floor):
    """regressed / fixed on a verdict that flips by majority, else rate changed when the
    per-run slopes differ (two-sided Mann-Whitney U, p < ALPHA) by more than the floor."""
    a_leak = _leaks(a_cells) * 2 > len(a_cells)
    b_leak = _leaks(b_cells) * 2 > len(b_cells)
    if b_leak and not a_leak:
        return "regressed", None
    if a_leak and not b_leak:
        return "fixed", None
    ra, rb = _rates(a_cells), _rates(b_cells)
    if len(ra) >= 2 and len(rb) >= 2 and ra != rb:
        stats = interrupts.load("scipy.stats")  # only compare needs it
        p = float(stats.mannwhitneyu(ra, rb, alternative="two-sided").pvalue)
        med = lambda v: sorted(v)[len(v) // 2]  # noqa: E731
        if p < ALPHA and abs(med(ra) - med(rb)) > floor:
            return "rate changed", p
        return "unchanged", p
    return "unchanged", None


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
    print(f"A = {la}\nB = {lb}\n")
    print(f"{'scenario':24}  {'A verdict':12} {'A B/thr':>8}  {'B verdict':12} {'B B/thr':>8}  "
          f"{'p':>6}  label")
    regressed = False
    for scen in sorted(set(a) | set(b)):
        ca, cb = a.get(scen, []), b.get(scen, [])
        if not ca or not cb:
            print(f"{scen:24}  only in {'A' if ca else 'B'}")
            continue
        what, p = label(ca, cb, settings.criteria.floor)
        regressed |= what == "regressed"
        (va, ra), (vb, rb) = _summary(ca), _summary(cb)
        print(f"{scen:24}  {va:12} {ra:>8}  {vb:12} {rb:>8}  "
              f"{'-' if p is None else format(p, '6.3f'):>6}  {what}")
    return EXIT_LEAK if regressed else EXIT_OK
