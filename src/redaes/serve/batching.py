"""Micro-batching: concurrent requests share one forward pass.

Requests put a group of prepared inputs on a bounded queue; one worker thread takes the first
group, waits at most ``wait_ms`` for more (up to ``max_batch`` inputs), runs one forward pass and
resolves each group's future. With ``wait_only_incoming`` the wait is skipped when no request is
on its way (callers announce themselves with :meth:`MicroBatcher.incoming` while they decode),
so a lone request never waits.
A full queue raises :class:`~redaes.serve.settings.BusyError`.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from redaes.assessors.base import Assessor
from redaes.imageio import ImageInput, as_pil
from redaes.serve.settings import BusyError

Result = list[tuple[float, float]]


@dataclass
class _Group:
    items: list[Any]
    future: Future[Result] = field(default_factory=Future)


class MicroBatcher:
    """One worker thread running ``forward(items) -> [(score, std)]`` on batched groups.

    Args:
        forward: the batched model call (one call per batch).
        prepare: per-image preprocessing run in the caller's thread.
        max_batch: most inputs per forward pass (a larger group runs in several passes).
        wait_ms: bounded wait for more groups after the first one.
        queue_size: most groups waiting.
        wait_only_incoming: wait only while a caller is announced with :meth:`incoming`.
    """

    def __init__(
        self,
        forward: Callable[[list[Any]], Result],
        prepare: Callable[[ImageInput], Any] = as_pil,
        max_batch: int = 32,
        wait_ms: float = 5.0,
        queue_size: int = 64,
        wait_only_incoming: bool = False,
    ) -> None:
        self.forward, self.prepare = forward, prepare
        self.wait_only_incoming = wait_only_incoming
        self.max_batch, self.wait_s = max(1, max_batch), max(0.0, wait_ms) / 1000.0
        self._queue: queue.Queue[_Group | None] = queue.Queue(maxsize=max(1, queue_size))
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._inbound = 0
        self.batches = 0
        self.items = 0

    def start(self) -> None:
        """Start the worker thread (idempotent)."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="redaes-batcher", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the worker after the queued groups."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=10)
        self._thread = None

    @property
    def pending(self) -> int:
        """Groups waiting for the model."""
        return self._queue.qsize()

    @contextmanager
    def incoming(self) -> Iterator[None]:
        """Announce a request that will submit soon (the worker waits for it, bounded)."""
        with self._lock:
            self._inbound += 1
        try:
            yield
        finally:
            with self._lock:
                self._inbound -= 1

    def submit(self, images: Sequence[ImageInput]) -> Future[Result]:
        """Prepare ``images`` and queue them; raise :class:`BusyError` when the queue is full."""
        return self.submit_prepared([self.prepare(im) for im in images])

    def submit_prepared(self, items: list[Any]) -> Future[Result]:
        """Queue already prepared ``items`` (non-blocking); :class:`BusyError` when full."""
        group = _Group(items)
        try:
            self._queue.put_nowait(group)
        except queue.Full:
            raise BusyError("the model queue is full; retry shortly") from None
        return group.future

    def score(self, images: Sequence[ImageInput], timeout: float | None = None) -> Result:
        """Blocking ``[(score, std)]`` for ``images`` (from any thread but the worker)."""
        if not images:
            return []
        return self.submit(images).result(timeout=timeout)

    def _collect(self, first: _Group) -> tuple[list[_Group], bool]:
        groups, size, stop = [first], len(first.items), False
        deadline = time.monotonic() + self.wait_s
        while size < self.max_batch:
            idle = self.wait_only_incoming and not self._inbound
            left = 0.0 if idle else deadline - time.monotonic()
            try:
                nxt = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if nxt is None:
                stop = True
                break
            groups.append(nxt)
            size += len(nxt.items)
        return groups, stop

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            groups, stop = self._collect(first)
            live = [g for g in groups if g.future.set_running_or_notify_cancel()]
            items = [it for g in live for it in g.items]
            try:
                out: Result = []
                for start in range(0, len(items), self.max_batch):
                    out += self.forward(items[start : start + self.max_batch])
                    self.batches += 1
                self.items += len(items)
                pos = 0
                for g in live:
                    g.future.set_result(out[pos : pos + len(g.items)])
                    pos += len(g.items)
            except Exception as exc:  # the model failed: every waiting request gets the error
                for g in live:
                    if not g.future.done():
                        g.future.set_exception(exc)
            if stop:
                return


def model_input(size: int) -> Callable[[ImageInput], Image.Image]:
    """Per-image preparation for a compact model of input side ``size``: the 8-bit RGB image
    resized exactly as ``CompactNet.preprocess`` resizes it
    (:func:`redaes.models.net.resize_to_input`).

    The worker's ``score_with_std`` then finds the image at the input size and only converts
    it to a tensor, so the resize runs in the request threads, in parallel, and nothing is
    converted twice.
    """
    from redaes.models.net import resize_to_input

    def prepare(image: ImageInput) -> Image.Image:
        return resize_to_input(as_pil(image), size)

    return prepare


def batcher_for(assessor: Assessor, **kwargs: Any) -> MicroBatcher:
    """A batcher running ``assessor``'s own ``score_with_std`` (engine, calibration) per batch.

    For the compact assessor, inputs are resized to the model input in the request threads
    (:func:`model_input`); scores equal ``assessor.score_with_std`` on the original images.
    """
    from redaes.models import CompactAssessor
    from redaes.models.scoring import scores_with_std

    prepare = model_input(assessor.input_size) if isinstance(assessor, CompactAssessor) else as_pil
    return MicroBatcher(lambda items: scores_with_std(assessor, items), prepare=prepare, **kwargs)


class BatchedAssessor(Assessor):
    """An assessor whose forward passes go through a :class:`MicroBatcher` (explain, suggest).

    ``deadline`` (``time.monotonic()``) stops a timed-out request's remaining passes.
    """

    name = "batched"

    def __init__(self, batcher: MicroBatcher, deadline: float | None = None) -> None:
        self.batcher, self.deadline = batcher, deadline

    def score_with_std(self, images: Sequence[ImageInput]) -> Result:
        """``(score, std)`` per image through the shared batcher."""
        left = None if self.deadline is None else self.deadline - time.monotonic()
        if left is not None and left <= 0:
            raise TimeoutError("request time limit reached")
        return self.batcher.score(images, timeout=left)

    def score(self, images: Sequence[ImageInput]) -> list[float]:
        return [s for s, _ in self.score_with_std(images)]
