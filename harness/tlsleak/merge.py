"""Combining results into one document: the shards of one plan (`tlsleak run --shard K/N`),
and the runs of different targets (a native run beside a `--platform wine` run, each perhaps in
shards) into one report.

Runs are grouped by their target's label (results.target_of: `linux-x86_64`,
`windows-x86_64-wine`). Within a target, runs are shards of one plan: their plans must have the
same fingerprint (shard.py), each scenario cell comes from one shard only, and the controls ran
in every shard, so the merged document keeps those of the first shard and passes the controls
only when every shard's did. Different targets are different plans by nature (other programs,
other defaults): their cells sit side by side, each id prefixed with its target
(`windows-x86_64-wine/control_flat-system`) so that ids stay unique, and `parts` keeps what
each target's runs said of themselves (host, build, settings, plan, controls).
"""
import hashlib

from tlsleak import UsageError, releases, results
from tlsleak.escape import terminal as safe
from tlsleak.vocab import is_control

_KINDS = ("new", "fixed", "known", "changed", "unknown_cell")  # lists in a baseline block


def check(named):
    """Refuse, in one line, shards that do not belong to one plan. `named`: [(path, doc)] of
    one target."""
    for path, doc in named:
        if not doc.get("plan"):
            raise UsageError(f"{path} records no plan (written before --shard existed): "
                             f"cannot tell whether it belongs with the others")
    (first, doc0), *rest = named
    for path, doc in rest:
        if doc["plan"]["fingerprint"] != doc0["plan"]["fingerprint"]:
            raise UsageError(f"{path} and {first} are shards of different plans (fingerprints "
                             f"{doc['plan']['fingerprint']} and {doc0['plan']['fingerprint']})")
    seen = {}
    for path, doc in named:
        k = tuple(doc["plan"]["shard"] or ())
        if k and k in seen:
            raise UsageError(f"{path} and {seen[k]} are both shard {k[0]}/{k[1]}")
        seen[k] = path


def by_target(named):
    """{target label: [(path, doc)]}, in the order the labels first appear."""
    groups = {}
    for path, doc in named:
        groups.setdefault(results.target_of(doc)["label"], []).append((path, doc))
    return groups


def merge(named, argv=()):
    """The merged document of the results `named` ([(path, doc)]); a UsageError (one line) when
    they do not belong together."""
    seen = {}
    for path, doc in named:
        if doc.get("run_id") and doc["run_id"] in seen:
            raise UsageError(f"{path} and {seen[doc['run_id']]} are the same run "
                             f"({safe(doc['run_id'])}): give each once")
        seen.setdefault(doc.get("run_id"), path)
        if doc.get("parts"):
            raise UsageError(f"{path} is already a merge of several targets: give the runs it "
                             f"was merged from instead")
    groups = by_target(named)
    merged = {label: _merge_shards(group, argv) for label, group in groups.items()}
    if len(merged) == 1:
        return next(iter(merged.values()))
    commands = {label: [doc["command"] for _, doc in group] for label, group in groups.items()}
    return _side_by_side(merged, commands, argv)


def _merge_shards(named, argv):
    """The shards of one plan on one target as one document, in the plan's order
    (plan.scenarios, then plan.configs); a UsageError when two shards hold the same scenario
    cell."""
    check(named)
    docs = [doc for _, doc in named]
    tgt = results.target_of(docs[0])
    cells, owner = [], {}
    for path, doc in named:
        for cell in doc["cells"]:
            if cell["id"] in owner:
                if is_control(cell["role"]):
                    continue  # every shard ran the controls: one copy is kept
                raise UsageError(f"cell {safe(cell['id'])} is in both {owner[cell['id']]} "
                                 f"and {path}")
            owner[cell["id"]] = path
            cells.append({"target": tgt["label"], **cell})
    plan = docs[0]["plan"]
    scen = {s: i for i, s in enumerate(plan.get("scenarios") or [])}
    conf = {k: i for i, k in enumerate(plan.get("configs") or [])}
    hist = releases.merged([d.get("history") for d in docs])
    if hist:  # a release history's cells in release order (its plan cannot list them)
        conf = releases.config_order(hist)
    cells.sort(key=lambda c: (scen.get(c["scenario"], len(scen)),
                              conf.get(c["allocator"]["id"], len(conf))))

    controls = _merged_controls([d["controls"] for d in docs])
    interrupted = any(d["interrupted"] for d in docs)
    base = _merged_baseline([d.get("baseline") for d in docs])
    first = docs[0]
    doc = dict(first)
    doc.update({
        "command": ["tlsleak", *argv],
        "started": min(d["started"] for d in docs),
        "finished": max(d["finished"] for d in docs),
        "duration_s": round(sum(d["duration_s"] for d in docs), 2),
        "interrupted": interrupted,
        "target": tgt,
        "cells": cells,
        "unavailable": _merged_unavailable(docs),
        "summary": results.summary_counts(cells),
        "controls": controls,
        "plan": {**first["plan"], "shard": None, "selected": len(cells),
                 "merged": sorted(d["plan"]["shard"] for d in docs if d["plan"]["shard"])},
    })
    if hist:
        doc["history"] = hist
    return _finish(doc, base)


def _side_by_side(merged, commands, argv):
    """Documents of different targets ({label: doc}) as one: ids prefixed with the target,
    `parts` keeping each target's own record (`commands`: {label: the commands of its runs}).
    The top level's host, build and settings are the first target's (each part has its own)."""
    docs = list(merged.values())
    cells, parts = [], []
    for label, doc in merged.items():
        cells += [{**c, "id": f"{label}/{c['id']}"} for c in doc["cells"]]
        parts.append({
            "target": doc["target"], "commands": commands[label], "host": doc["host"],
            "build": doc["build"], "settings": doc["settings"], "plan": doc["plan"],
            "duration_s": doc["duration_s"], "interrupted": doc["interrupted"],
            "controls": doc["controls"], "exit_code": doc["exit_code"],
            "baseline_file": (doc.get("baseline") or {}).get("file")})
    controls = _merged_controls([_qualified_controls(label, d["controls"])
                                 for label, d in merged.items()])
    base = _merged_baseline([_qualified_baseline(label, d.get("baseline"))
                             for label, d in merged.items()])
    fingerprints = sorted(f"{p['target']['label']}={p['plan']['fingerprint']}" for p in parts)
    doc = dict(docs[0])
    doc.pop("run_id", None)
    doc.pop("target", None)
    doc.update({
        "command": ["tlsleak", *argv],
        "started": min(d["started"] for d in docs),
        "finished": max(d["finished"] for d in docs),
        "duration_s": round(sum(d["duration_s"] for d in docs), 2),
        "interrupted": any(d["interrupted"] for d in docs),
        "cells": cells,
        "unavailable": [{**u, "id": f"{label}/{u['id']}", "config": f"{label} {u['config']}"}
                        for label, d in merged.items()
                        for u in d.get("unavailable") or []],
        "summary": results.summary_counts(cells),
        "controls": controls,
        "plan": {"fingerprint": hashlib.sha256("\n".join(fingerprints).encode())
                 .hexdigest()[:16], "cells": sum(p["plan"]["cells"] for p in parts),
                 "shard": None, "selected": len(cells),
                 "scenarios": list(dict.fromkeys(s for p in parts
                                                 for s in p["plan"].get("scenarios") or [])),
                 "configs": list(dict.fromkeys(k for p in parts
                                               for k in p["plan"].get("configs") or []))},
        "parts": parts,
    })
    return _finish(doc, base)


def _finish(doc, base):
    doc.pop("baseline", None)
    changes = {k: base[k] for k in _KINDS} if base else None
    if base:
        doc["baseline"] = base
    doc["exit_code"] = results.exit_code(doc["cells"], doc["controls"], doc["interrupted"],
                                         changes)
    assert doc["schema"] == results.SCHEMA_ID
    return doc


def _merged_controls(blocks):
    """Passed only when every block passed; each failure and failing configuration once."""
    invalid = {}
    for b in blocks:
        for item in b.get("invalid_configs") or []:
            invalid.setdefault(item["config"], item)
    return {"passed": all(b["passed"] for b in blocks),
            "failures": list(dict.fromkeys(f for b in blocks for f in b["failures"])),
            "invalid_configs": list(invalid.values())}


def _qualified_controls(label, ctl):
    return {"passed": ctl["passed"], "failures": [f"{label}/{f}" for f in ctl["failures"]],
            "invalid_configs": [{**i, "config": f"{label}/{i['config']}"}
                                for i in ctl.get("invalid_configs") or []]}


def _qualified_baseline(label, block):
    if not block:
        return None
    block = {k: ([f"{label}/{i}" for i in v] if isinstance(v, list) else v)
             for k, v in block.items()}
    return {**block, "file": f"{label}: {block.get('file')}"}


def _merged_unavailable(docs):
    return list({u["id"]: u for d in docs for u in d.get("unavailable") or []}.values())


def missing_shards(doc):
    """The shards K/N that a merged document lacks, as 'K/N' texts (prefixed with the target's
    label when the document holds several)."""
    parts = doc.get("parts") or [{"plan": doc.get("plan") or {}}]
    missing = []
    for p in parts:
        got = p["plan"].get("merged") or []
        if not got:
            continue
        n, have = got[0][1], {k for k, _ in got}
        prefix = f"{p['target']['label']} " if doc.get("parts") else ""
        missing += [f"{prefix}{k}/{n}" for k in range(1, n + 1) if k not in have]
    return missing


def _merged_baseline(blocks):
    """One baseline block from the runs' blocks (None where a run had no baseline)."""
    blocks = [b for b in blocks if b]
    if not blocks:
        return None
    # Shards of one run share a file; runs of several targets may each name their own.
    merged = {"file": "; ".join(dict.fromkeys(str(b.get("file")) for b in blocks))}
    for kind in (*_KINDS, "no_baseline_for_version"):
        merged[kind] = list(dict.fromkeys(i for b in blocks for i in b.get(kind) or []))
    if not merged["no_baseline_for_version"]:
        del merged["no_baseline_for_version"]
    return merged
