"""Response and request bodies of the HTTP API (the CLI's ``--json`` fields)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ScoreRow(BaseModel):
    """One scored image: ``path`` is the upload's file name (a label, never opened)."""

    path: str
    score: float
    std: float


class Base64Image(BaseModel):
    """An image as base64 (or a ``data:`` URL) with an optional label."""

    name: str | None = None
    data: str


class ScoreJSON(BaseModel):
    """JSON form of ``POST /v1/score``."""

    images: list[Base64Image] = Field(min_length=1)
    model: str | None = None


class CompareView(BaseModel):
    """``delta = score_b - score_a``, its std and ``P(b better)``."""

    a: str
    b: str
    score_a: float
    score_b: float
    delta: float
    delta_std: float
    p_b_better: float


class Effect(BaseModel):
    """The counterfactual effect of one edit on the score."""

    op: str
    strength: float
    delta: float
    delta_std: float


class ExplainView(BaseModel):
    """Score, std, effects of edits (largest first) and a one-paragraph text."""

    path: str
    score: float
    std: float
    effects: list[Effect]
    text: str


class EditStep(BaseModel):
    """One edit of a chain."""

    op: str
    strength: float


class Suggestion(BaseModel):
    """An edit chain, the score after it, its gain and a JPEG preview as a data URL."""

    edits: list[EditStep]
    score: float
    gain: float
    preview: str | None


class SuggestView(BaseModel):
    """The image's score and the best edit chains, best first."""

    path: str
    score: float
    suggestions: list[Suggestion]


class ModelInfo(BaseModel):
    """A model loaded by the server."""

    name: str
    default: bool
    kind: str
    config: dict[str, Any] = Field(default_factory=dict)


class ModelList(BaseModel):
    """The models this server loaded at start-up."""

    models: list[ModelInfo]


class Health(BaseModel):
    """Liveness, the loaded models and the batcher's counters."""

    status: str
    models: list[str]
    pending: int
    batches: int
    items: int


class ErrorBody(BaseModel):
    """Every error: the HTTP status, a short code and a one-line message."""

    status: int
    error: str
    message: str
