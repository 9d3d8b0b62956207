"""Sharding a plan across machines (`tlsleak run --shard K/N`) and the plan's fingerprint, by
which `tlsleak merge` knows that shards belong together.

A shard is a deterministic share of the plan: the non-control cells, sorted by id, dealt
round-robin (shard K takes the cells at positions K-1, K-1+N, ...), so the shards are disjoint,
cover the plan and differ in size by one cell at most. The controls are in every shard, so each
shard proves its own detector.
"""
import hashlib
import json
from dataclasses import asdict

from tlsleak import UsageError
from tlsleak.vocab import is_control



def parse(text):
    """'K/N' -> (K, N) with 1 <= K <= N; a UsageError otherwise."""
    k, sep, n = str(text).partition("/")
    try:
        k, n = int(k, 10), int(n, 10)
    except ValueError:
        k = n = 0
    if not sep or not 1 <= k <= n:
        raise UsageError(f"malformed --shard '{text}' (expected K/N with 1 <= K <= N, e.g. 2/4)")
    return k, n


def select(cells, k, n):
    """The cells of shard k of n (1-based), in plan order. `cells` have `.id` and `.role`."""
    dealt = sorted(c.id for c in cells if not is_control(c.role))
    mine = set(dealt[k - 1::n])
    return [c for c in cells if is_control(c.role) or c.id in mine]


def fingerprint(cells, settings):
    """A short hash of what the plan measures: its cell ids (scenario x configuration identity,
    controls included), and the workload and criteria settings. The limits (caps scaled to -j,
    timeouts) are left out: they guard the machine and may differ between shard machines."""
    d, limits = settings.as_dict(), asdict(settings.limits)
    measured = {k: d[k] for k in sorted(d) if k not in limits}
    text = json.dumps({"cells": sorted(c.id for c in cells), "settings": measured},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def plan_record(cells, settings, shard=None):
    """The results document's `plan` object (docs/RESULTS.md): the fingerprint, the size,
    the shard, and the scenarios and configuration ids in plan order (merge restores it)."""
    return {"fingerprint": fingerprint(cells, settings), "cells": len(cells),
            "shard": list(shard) if shard else None,
            "scenarios": list(dict.fromkeys(c.scenario for c in cells)),
            "configs": list(dict.fromkeys(c.config.id for c in cells))}
