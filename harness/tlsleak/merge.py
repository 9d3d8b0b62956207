"""Combining the results of shards (`tlsleak run --shard K/N`) into one results document.

Shards belong together when their plans have the same fingerprint (shard.py). Each scenario
cell must come from one shard only; the controls ran in every shard, so the merged document
keeps those of the first shard and passes the controls only when every shard's did.
"""
from tlsleak import UsageError, report, results, session, shard

_KINDS = ("new", "fixed", "known", "changed", "unknown_cell")  # lists in a baseline block


def check(named):
    """Refuse, in one line, shards that do not belong to one plan. `named`: [(path, doc)]."""
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


def merge(named, argv=()):
    """The merged document of the shards `named` ([(path, doc)]), in the plan's order
    (plan.scenarios, then plan.configs); a UsageError when two shards hold the same scenario
    cell."""
    check(named)
    docs = [doc for _, doc in named]
    cells, owner = [], {}
    for path, doc in named:
        for cell in doc["cells"]:
            if cell["id"] in owner:
                if cell["role"] in shard.CONTROL_ROLES:
                    continue  # every shard ran the controls: one copy is kept
                raise UsageError(f"cell {cell['id']} is in both {owner[cell['id']]} and {path}")
            owner[cell["id"]] = path
            cells.append(cell)
    plan = docs[0]["plan"]
    scen = {s: i for i, s in enumerate(plan.get("scenarios") or [])}
    conf = {k: i for i, k in enumerate(plan.get("configs") or [])}
    cells.sort(key=lambda c: (scen.get(c["scenario"], len(scen)),
                              conf.get(c["allocator"]["id"], len(conf))))

    failures = [f for d in docs for f in d["controls"]["failures"]]
    controls = {"passed": all(d["controls"]["passed"] for d in docs),
                "failures": list(dict.fromkeys(failures))}
    interrupted = any(d["interrupted"] for d in docs)
    base = _merged_baseline(docs)
    changes = {k: base[k] for k in _KINDS} if base else None
    first = docs[0]
    doc = dict(first)
    doc.update({
        "command": ["tlsleak", *argv],
        "started": min(d["started"] for d in docs),
        "finished": max(d["finished"] for d in docs),
        "duration_s": round(sum(d["duration_s"] for d in docs), 2),
        "interrupted": interrupted,
        "cells": cells,
        "unavailable": list({u["id"]: u for d in docs for u in d.get("unavailable") or []}
                            .values()),
        "summary": report.summary_counts(cells),
        "controls": controls,
        "exit_code": session.exit_code(cells, controls, interrupted, changes),
        "plan": {**first["plan"], "shard": None, "selected": len(cells),
                 "merged": sorted(d["plan"]["shard"] for d in docs if d["plan"]["shard"])},
    })
    doc.pop("baseline", None)
    if base:
        doc["baseline"] = base
    assert doc["schema"] == results.SCHEMA_ID
    return doc


def missing_shards(doc):
    """The shards K/N of the plan that a merged document lacks, as 'K/N' texts."""
    got = doc["plan"].get("merged") or []
    if not got:
        return []
    n = got[0][1]
    have = {k for k, _ in got}
    return [f"{k}/{n}" for k in range(1, n + 1) if k not in have]


def _merged_baseline(docs):
    blocks = [d.get("baseline") for d in docs if d.get("baseline")]
    if not blocks:
        return None
    merged = {"file": blocks[0].get("file")}
    for kind in _KINDS:
        merged[kind] = list(dict.fromkeys(i for b in blocks for i in b.get(kind) or []))
    return merged
