"""The RED dataset engine: source/edit pairs with quantified aesthetic differences.

>>> from redaes.pairs import PairPlan, build
>>> build("photos/", "red-ds/", n_pairs=100, plan=PairPlan(chain_length=4))  # doctest: +SKIP
"""

from redaes.pairs.build import build, scan_sources
from redaes.pairs.plan import PairPlan, PlannedPair, Planner, Source
from redaes.pairs.storage import COLUMNS, pair_schema

__all__ = [
    "COLUMNS",
    "PairPlan",
    "PlannedPair",
    "Planner",
    "Source",
    "build",
    "pair_schema",
    "scan_sources",
]
