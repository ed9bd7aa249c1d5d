"""The evaluation harness: run a model on benchmarks, cache predictions, write reports.

>>> from redaes.evaluation import Target, evaluate, write_report  # doctest: +SKIP
>>> results = evaluate("brisque", [Target("ava", Path("/data/AVA"))], out="rep", limit=500)
>>> write_report(results, "rep", model={"name": "brisque"}, config={...})
"""

from redaes.evaluation.cache import PredictionCache
from redaes.evaluation.report import reference_results, write_report
from redaes.evaluation.runner import BenchmarkResult, Target, evaluate

__all__ = [
    "BenchmarkResult",
    "PredictionCache",
    "Target",
    "evaluate",
    "reference_results",
    "write_report",
]
