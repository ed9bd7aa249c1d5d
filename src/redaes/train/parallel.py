"""Data parallelism of compact training under ``accelerate launch`` (CPU processes, gloo).

:class:`Dist` is this process's place in the run. A plain run (``WORLD_SIZE`` unset or 1) gets
``Dist()``: rank 0 of 1, no accelerate import and no collective calls, so the single-process
loop is exactly the one without data parallelism.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch


@dataclass
class Dist:
    """This process's place in a data-parallel run (``rank`` of ``world``; ``acc`` if N > 1)."""

    rank: int = 0
    world: int = 1
    acc: Any = None

    @property
    def main(self) -> bool:
        """Whether this process writes logs, checkpoints and weights."""
        return self.rank == 0

    @classmethod
    def from_env(cls) -> Dist:
        """An :class:`accelerate.Accelerator` (CPU) when launched with more than one process."""
        if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
            return cls()
        from accelerate import Accelerator

        acc = Accelerator(cpu=True)
        return cls(acc.process_index, acc.num_processes, acc)

    def mean_grads(self, params: Sequence[torch.Tensor]) -> None:
        """All-reduce (mean) the gradients of ``params`` in place."""
        if self.world > 1:
            grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
            for p, g in zip(params, self.acc.reduce(grads, reduction="mean"), strict=True):
                p.grad = g

    def mean(self, values: dict[str, float]) -> dict[str, float]:
        """The mean of ``values`` over the processes (for the log)."""
        if self.world == 1:
            return values
        t = self.acc.reduce(torch.tensor(list(values.values()), dtype=torch.float64), "mean")
        return dict(zip(values, t.tolist(), strict=True))

    def barrier(self) -> None:
        """Wait until every process gets here (a no-op in a 1-process run)."""
        if self.world > 1:
            self.acc.wait_for_everyone()
