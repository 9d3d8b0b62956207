"""tlsleak list: the scenario catalog and every allocator configuration."""
import json
from pathlib import Path

from tlsleak import catalog, session, target
from tlsleak.vocab import EXIT_OK
from tlsleak.build import ROOT
from tlsleak.commands.run import add_platform

HELP = "scenarios and allocator configurations"
# Which configurations a machine has is CMake's finding (its configure step): until the build
# tree has been configured once, list says so rather than configure (set-up, then CMake: not
# an answer "at once").
NOT_CONFIGURED = ("not configured yet: `tlsleak list --configure` (or any `tlsleak run`) "
                  "configures the build (CMake), which finds them")


def add_parser(sub):
    p = sub.add_parser("list", help=HELP)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--build-dir", help="CMake build tree (default: the platform's)")
    p.add_argument("--configure", action="store_true",
                   help="set up and configure the build tree first if it never was")
    add_platform(p)
    return p


def main(args):
    configured = (args.configure or (session.build_dir_of(args.build_dir, args.platform)
                                     / "manifest.json").exists())
    if configured:  # up to date, or configured again if an input changed
        _, manifest, confs = session.load(args.build_dir, platform=args.platform)
        # Only what this platform's toolchain builds (e.g. the Windows scenarios under Wine),
        # and what it cannot build for this target, with the build's reason.
        tgt = target.Target.from_manifest(manifest)
        scenarios = [s for s in catalog.load(ROOT) if tgt.buildable(s.name)]
        missing = [{"name": n, "reason": why} for n, why in tgt.unavailable]
    else:
        scenarios, confs, missing = catalog.load(ROOT), None, []
    if args.json:
        doc = {"scenarios": [s.__dict__ for s in scenarios], "configured": configured,
               "unavailable_scenarios": missing,
               "configs": None if confs is None else [{**c.__dict__} for c in confs]}
        print(json.dumps(doc, indent=2))
        return EXIT_OK
    width = max(len(s.name) for s in scenarios)
    print("Scenarios:")
    for s in scenarios:
        where = Path(s.source).parent.name
        only = f" ({where} only)" if not configured and where != "scenarios" else ""
        print(f"  {s.name:<{width}}  {s.role:<12} {s.summary}{only}")
        print(f"  {'':<{width}}  {'':<12} mirrors: {'; '.join(s.refs) or 'no public report'}")
    for m in missing:
        print(f"  {m['name']:<{width}}  unavailable: {m['reason']}")
    if confs is None:
        print(f"\nAllocator configurations: {NOT_CONFIGURED}")
        return EXIT_OK
    width = max(len(c.label) for c in confs)
    print("\nAllocator configurations:")
    for c in confs:
        state = f"available   {c.library or ''}" if c.available else f"unavailable: {c.reason}"
        print(f"  {c.label:<{width}}  {c.id:<28} {state}")
    return EXIT_OK
