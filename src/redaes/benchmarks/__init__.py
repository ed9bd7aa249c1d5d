"""Public IAA benchmarks as registered loaders: ``create_benchmark(name, **overrides)``.

Names: ``ava``, ``tad66k``, ``aadb``, ``para``, ``flickr-aes``, ``koniq10k``, ``spaq``,
``livec``, ``generic`` (any CSV/JSON) and ``red`` (RED test pairs).
"""

from redaes.benchmarks import aesthetic, quality, red
from redaes.benchmarks.base import (
    BENCHMARKS,
    SPLITS,
    Benchmark,
    BenchmarkData,
    Sample,
    create_benchmark,
    hash_split,
)
from redaes.benchmarks.red import RedBenchmark, RedData, RedItem

__all__ = [
    "BENCHMARKS",
    "SPLITS",
    "Benchmark",
    "BenchmarkData",
    "RedBenchmark",
    "RedData",
    "RedItem",
    "Sample",
    "aesthetic",
    "create_benchmark",
    "hash_split",
    "quality",
    "red",
]
