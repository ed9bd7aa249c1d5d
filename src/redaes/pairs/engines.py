"""Execution engines: run :func:`~redaes.pairs.render.process_block` over blocks.

* ``local``: ``multiprocessing`` with the ``spawn`` start method (safe with torch threads);
  ``workers=1`` runs in-process.
* ``ray``: Ray Data, ``ray.data.from_items(blocks).map(...)``, one task per block. Workers write
  their block files themselves (atomic, resumable); Ray only schedules. A local runtime is started
  with ``num_cpus=workers`` unless ``ray_address`` names a cluster.

Both engines run the same deterministic :class:`~redaes.pairs.render.BuildSpec`, so they produce
the same rows for the same seed.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import sys
import threading
from collections.abc import Iterator
from functools import partial
from typing import Any

from redaes.errors import ConfigError
from redaes.pairs.render import BlockReport, BuildSpec, process_block

ENGINES = ("local", "ray")


def _init_worker(plugins: tuple[str, ...]) -> None:
    import importlib
    import signal

    import torch

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    torch.set_num_threads(1)
    for module in plugins:
        importlib.import_module(module)


class LocalEngine:
    """A process pool (or in-process when ``workers == 1``)."""

    def __init__(self, spec: BuildSpec, workers: int = 1) -> None:
        self.spec, self.workers = spec, max(1, int(workers))
        self._pool: Any = None

    def run(self, blocks: list[int]) -> Iterator[BlockReport]:
        """Process ``blocks``, yielding reports as blocks finish (in block order)."""
        if self.workers == 1:
            for b in blocks:
                yield process_block(self.spec, b)
            return
        if self._pool is None:
            ctx = mp.get_context("spawn")
            # Workers start with SIGINT ignored (inherited through exec), so Ctrl-C reaches only
            # this process: it stops the pool and prints one line instead of a traceback per worker.
            main = threading.current_thread() is threading.main_thread()
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
            try:
                self._pool = ctx.Pool(self.workers, _init_worker, (self.spec.plugins,))
            finally:
                if main:
                    signal.signal(signal.SIGINT, previous)
        yield from self._pool.imap(partial(process_block, self.spec), blocks)

    def close(self) -> None:
        """Stop the worker processes (blocks still running are abandoned; writes are atomic)."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None


def _ray_task(spec: BuildSpec, row: dict[str, Any]) -> dict[str, Any]:
    _init_worker(spec.plugins)
    report = process_block(spec, int(row["block"]))
    return {"block": report.block, "report": report.to_json()}


class RayEngine:
    """Ray Data over blocks (``ray_address`` = an existing cluster, else a local runtime)."""

    def __init__(self, spec: BuildSpec, workers: int = 2, ray_address: str | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise ConfigError("--engine ray needs Ray: pip install 'redaes[scale]'") from None
        self.spec, self.workers = spec, max(1, int(workers))
        self._started = False
        if not ray.is_initialized():
            os.environ.setdefault("RAY_AUTH_MODE", "disabled")
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            paths = [p for p in sys.path if p and os.path.isdir(p)]
            runtime_env = {"env_vars": {"PYTHONPATH": os.pathsep.join(paths)}}
            if ray_address:
                ray.init(address=ray_address, runtime_env=runtime_env)
            else:
                ray.init(
                    num_cpus=self.workers,
                    include_dashboard=False,
                    runtime_env=runtime_env,
                    log_to_driver=False,
                )
            self._started = True

    def run(self, blocks: list[int]) -> Iterator[BlockReport]:
        """Process ``blocks`` as Ray tasks, yielding reports as they arrive (any order)."""
        import logging

        import ray.data

        if not blocks:
            return
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        ds = ray.data.from_items(
            [{"block": b} for b in blocks], override_num_blocks=len(blocks)
        ).map(partial(_ray_task, self.spec), num_cpus=1)
        for row in ds.iter_rows():
            yield BlockReport(**json.loads(row["report"]))

    def close(self) -> None:
        """Shut down the local Ray runtime if this engine started it."""
        if self._started:
            import ray

            ray.shutdown()
            self._started = False


def check_engine(name: str) -> None:
    """Raise :class:`ConfigError` for an unknown engine or a missing Ray (before any work)."""
    if name not in ENGINES:
        raise ConfigError(f"unknown engine {name!r}: use one of {', '.join(ENGINES)}")
    if name == "ray":
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            raise ConfigError("--engine ray needs Ray: pip install 'redaes[scale]'")


def create_engine(
    name: str, spec: BuildSpec, workers: int = 1, ray_address: str | None = None
) -> LocalEngine | RayEngine:
    """The engine called ``name`` (``local`` or ``ray``)."""
    if name == "local":
        return LocalEngine(spec, workers)
    if name == "ray":
        return RayEngine(spec, workers, ray_address)
    raise ConfigError(f"unknown engine {name!r}: use one of {', '.join(ENGINES)}")
