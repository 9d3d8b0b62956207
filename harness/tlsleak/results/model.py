"""What a results document says as a whole: its format, its counts, whether its controls
passed, and the exit code that follows. Pure functions over the document (docs/RESULTS.md),
the same for a run that just finished, a results file read back and a merge of several."""

from __future__ import annotations

from pathlib import Path

from tlsleak import target
from tlsleak.vocab import (CONTROL_EXPECT, EXIT_INCONCLUSIVE, EXIT_INFRA, EXIT_INTERRUPTED,
                           EXIT_LEAK, EXIT_OK, FINDINGS, VERDICTS, is_control)

SCHEMA_ID = "tlsleak-results/2"
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "results-2.schema.json"


def summary_counts(cells) -> dict:
    """{verdict: count} over VERDICTS (a verdict outside them, from an odd file, counted too)."""
    counts = {v: 0 for v in VERDICTS}
    for c in cells:
        counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
    return counts


def check_controls(cells) -> dict:
    """The `controls` block: whether every control came out as it must, and per configuration
    whose control failed, what that means. A configuration whose negative control grows (the
    MinGW mimalloc DLL keeps ~64 KiB per exited thread) measures its own cost per thread in
    every cell, so its verdicts say nothing of the scenarios until that cost is explained."""
    failures, invalid = [], {}
    for cell in cells:
        want = CONTROL_EXPECT.get(cell["role"])
        if want is None or cell["verdict"] == want:
            continue
        failures.append(f"{cell['id']}: expected {want}, got {cell['verdict']}")
        rate = cell.get("rate") or {}
        grows = f" ({rate['value']:.0f} {rate['unit']})" if rate.get("value") is not None else ""
        why = (f"{cell['scenario']} {cell['verdict']}{grows}: the configuration's own cost "
               f"per thread; its other cells carry it too"
               if cell["role"] == "control-flat" and cell["verdict"] == "leak"
               else f"{cell['scenario']} expected {want}, got {cell['verdict']}: the "
                    f"detector is not proven for this configuration")
        invalid.setdefault(cell["allocator"]["id"], []).append(why)
    return {"passed": not failures, "failures": failures,
            "invalid_configs": [{"config": cid, "why": "; ".join(whys)}
                                for cid, whys in invalid.items()]}


def unjudged(cells) -> list[dict]:
    """The scenario cells (controls aside) whose verdict is `inconclusive`: the run did not
    answer for them, and says so in its exit code."""
    return [c for c in cells if not is_control(c["role"]) and c["verdict"] == "inconclusive"]


def exit_code(cells, controls, interrupted, changes=None) -> int:
    """The CLI's exit status for these cells (README "Exit codes"): 130 interrupted; 3 a
    control failed or a cell is `error`; 1 a leak, crash or timeout in a scenario cell (with a
    baseline: one it does not expect, `changes["new"]`); 4 no leak and no error, but a scenario
    cell is `inconclusive`; else 0."""
    if interrupted:
        return EXIT_INTERRUPTED
    if not controls["passed"] or any(c["verdict"] == "error" for c in cells):
        return EXIT_INFRA
    if changes is not None:
        found = bool(changes["new"])
    else:
        found = any(not is_control(c["role"]) and c["verdict"] in FINDINGS for c in cells)
    if found:
        return EXIT_LEAK
    return EXIT_INCONCLUSIVE if unjudged(cells) else EXIT_OK


def target_of(doc) -> dict:
    """The `target` object of a results document; for one written before it was recorded, the
    same facts read from its build system, its host and its command's --platform."""
    if doc.get("target"):
        return doc["target"]
    argv = list(doc.get("command") or [])
    plat = argv[argv.index("--platform") + 1] if "--platform" in argv[:-1] else "native"
    system = (doc.get("build") or {}).get("system", "")
    os_name = target.os_of_system(system)
    arch = (doc.get("host") or {}).get("machine", "") if plat == "native" else ""
    return {"label": target.label(os_name, arch, plat), "platform": plat, "os": os_name,
            "arch": target.arch_name(arch) or None, "system": system}
