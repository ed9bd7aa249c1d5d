"""The HTTP service and web page (``redaes serve``; needs the ``serve`` extra).

API (JSON bodies use the CLI's ``--json`` fields; every error is
``{"status", "error", "message"}``; ``/v1/*`` needs ``Authorization: Bearer TOKEN`` when the
server has a token):

* ``POST /v1/score``: multipart field ``image`` (repeatable) or JSON
  ``{"images": [{"name", "data": base64 or data URL}], "model"}`` ->
  ``[{"path", "score", "std"}]`` (``path`` is the upload's file name, a label only).
* ``POST /v1/compare``: multipart ``a`` and ``b`` ->
  ``{"a", "b", "score_a", "score_b", "delta", "delta_std", "p_b_better"}``.
* ``POST /v1/explain``: ``image`` (+ ``strength``) ->
  ``{"path", "score", "std", "effects": [{"op", "strength", "delta", "delta_std"}], "text"}``.
* ``POST /v1/suggest``: ``image`` (+ ``top``) -> ``{"path", "score", "suggestions": [{"edits",
  "score", "gain", "preview"}]}`` with ``preview`` a JPEG data URL.
* ``GET /v1/models``, ``GET /health``, ``GET /`` (the page), ``GET /openapi.json``.

Every endpoint takes an optional ``model`` (a name from ``/v1/models``; 404 otherwise).
Limits (:class:`ServeSettings`): body size (413), pixels per image (400), images per request,
per-request timeout (504), bounded model queue (503 + ``Retry-After``). Concurrent requests are
micro-batched into one forward pass (:class:`MicroBatcher`). Uploads are decoded in a pool of one
thread per core (``ServeSettings.decode_threads``); ``/v1/score`` decodes JPEGs DCT-downscaled to
the model input as ``redaes score`` does (same scores), ``/v1/compare``, explain and suggest
decode in full as their CLI commands do. ONNX Runtime's intra-op threads follow
``REDAES_THREADS`` (``REDAES_THREADS=1`` is faster for a server on a small shared machine; see
``bench/results/serve.md``).
"""

from __future__ import annotations

from redaes.serve.app import create_app
from redaes.serve.batching import BatchedAssessor, MicroBatcher, batcher_for
from redaes.serve.settings import ServeError, ServeSettings

__all__ = [
    "BatchedAssessor",
    "MicroBatcher",
    "ServeError",
    "ServeSettings",
    "batcher_for",
    "create_app",
]
