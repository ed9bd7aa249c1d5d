"""Published peer results (``reference_results.json``): per-benchmark values, computed means.

The JSON stores only what the sources print per benchmark (``results``), each with a protocol
(``cross-dataset``, ``zero-shot``, ``mixed-training``, ``in-domain``), a source id (paper, table,
arXiv id in ``sources``) and ``plcc_kind`` (raw / fitted / not stated). Means are never stored
as numbers to trust: :func:`reference_results` computes every ``mean3`` / ``mean5`` row from the
per-benchmark rows of the same system and source (``"mean": "computed"``). A source that prints
only a mean (Aes-R1's table as recorded: its 30 per-benchmark values are not in the reference
notes) is kept under ``published_means`` and returned flagged ``"mean": "published only"``.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from redaes.errors import DataError

MEAN_SETS = {
    "mean3": ("ava", "flickr-aes", "tad66k"),
    "mean5": ("tad66k", "ava", "flickr-aes", "para", "aadb"),
}
"""The benchmark sets of the papers' mean columns."""
CROSS_PROTOCOLS = ("cross-dataset", "zero-shot")
"""Protocols that may stand in a cross-dataset table."""
PROTOCOLS = (*CROSS_PROTOCOLS, "mixed-training", "in-domain")
PLCC_KINDS = ("raw", "fitted", "not stated")


def _raw() -> dict[str, Any]:
    text = resources.files("redaes.evaluation").joinpath("reference_results.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def citation(source: dict[str, Any]) -> str:
    """``paper, table, arXiv id`` of a source (``arXiv id not recorded`` when unknown)."""
    arxiv = f"arXiv {source['arxiv']}" if source.get("arxiv") else "arXiv id not recorded"
    return f"{source['paper']}, {source['table']}, {arxiv}"


def _check(row: dict[str, Any], sources: dict[str, Any], where: str) -> dict[str, Any]:
    if row.get("source") not in sources:
        raise DataError(f"reference_results.json {where}: unknown source {row.get('source')!r}")
    if row.get("protocol") not in PROTOCOLS or row.get("plcc_kind") not in PLCC_KINDS:
        raise DataError(f"reference_results.json {where}: bad protocol or plcc_kind in {row}")
    if str(row["benchmark"]).startswith("mean"):
        raise DataError(f"reference_results.json {where}: means are computed, not stored")
    return {**row, "citation": citation(sources[row["source"]]), "mean": None}


def _mean(rows: list[dict[str, Any]], name: str, members: tuple[str, ...]) -> dict[str, Any]:
    by = {r["benchmark"]: r for r in rows}
    first = rows[0]
    kinds = {by[m]["plcc_kind"] for m in members}
    return {
        "system": first["system"],
        "benchmark": name,
        "plcc": sum(by[m]["plcc"] for m in members) / len(members),
        "srcc": sum(by[m]["srcc"] for m in members) / len(members),
        "protocol": first["protocol"],
        "setting": f"{first['setting']}; mean over {', '.join(members)}",
        "source": first["source"],
        "citation": first["citation"],
        "plcc_kind": kinds.pop() if len(kinds) == 1 else "mixed",
        "mean": "computed",
        "members": list(members),
    }


def reference_results() -> list[dict[str, Any]]:
    """Per-benchmark rows, computed means and flagged published-only means (with citations)."""
    data = _raw()
    sources: dict[str, Any] = data["sources"]
    rows = [_check(r, sources, f"results[{i}]") for i, r in enumerate(data["results"])]
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["system"], r["source"], r["protocol"]), []).append(r)
    means = []
    for members in groups.values():
        have = {r["benchmark"] for r in members}
        for name, needed in MEAN_SETS.items():
            if set(needed) <= have:
                means.append(_mean(members, name, needed))
    published = []
    for i, r in enumerate(data.get("published_means", [])):
        if r["benchmark"] not in MEAN_SETS or r.get("source") not in sources:
            raise DataError(f"reference_results.json published_means[{i}]: bad row {r}")
        published.append(
            {**r, "citation": citation(sources[r["source"]]), "mean": "published only"}
        )
    return rows + means + published


def is_cross_dataset(row: dict[str, Any]) -> bool:
    """Whether a published row may be listed in a cross-dataset table."""
    return row.get("protocol") in CROSS_PROTOCOLS
