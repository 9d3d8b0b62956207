"""tlsleak list: the scenario catalog and every allocator configuration."""
import json

from tlsleak import catalog, session, target
from tlsleak.vocab import EXIT_OK
from tlsleak.build import ROOT
from tlsleak.commands.run import add_platform

HELP = "scenarios and allocator configurations"


def add_parser(sub):
    p = sub.add_parser("list", help=HELP)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--build-dir", help="CMake build tree (default: the platform's)")
    add_platform(p)
    return p


def main(args):
    _, manifest, confs = session.load(args.build_dir, platform=args.platform)
    # Only what this platform's toolchain builds (e.g. the Windows scenarios under Wine).
    tgt = target.Target.from_manifest(manifest)
    scenarios = [s for s in catalog.load(ROOT) if tgt.buildable(s.name)]
    if args.json:
        doc = {"scenarios": [s.__dict__ for s in scenarios],
               "configs": [{**c.__dict__} for c in confs]}
        print(json.dumps(doc, indent=2))
        return EXIT_OK
    width = max(len(s.name) for s in scenarios)
    print("Scenarios:")
    for s in scenarios:
        print(f"  {s.name:<{width}}  {s.role:<12} {s.summary}")
        print(f"  {'':<{width}}  {'':<12} mirrors: {'; '.join(s.refs) or 'no public report'}")
    width = max(len(c.label) for c in confs)
    print("\nAllocator configurations:")
    for c in confs:
        state = f"available   {c.library or ''}" if c.available else f"unavailable: {c.reason}"
        print(f"  {c.label:<{width}}  {c.id:<28} {state}")
    return EXIT_OK
