"""The compact assessor: score, compare and the pair view, plus :func:`load_assessor`.

>>> from redaes import load_assessor
>>> model = load_assessor("runs/compact/model.safetensors")   # doctest: +SKIP
>>> model.score(["a.jpg", "b.jpg"]), model.compare("a.jpg", "b.jpg")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redaes.assessors.base import Assessor, create_assessor
from redaes.errors import ConfigError
from redaes.imageio import ImageInput
from redaes.models.calibrate import (
    Calibration,
    file_fingerprint,
    fit_calibration,
    fit_quality,
    read_labels,
)
from redaes.models.scoring import CalibratedScores, compare
from redaes.models.weights import file_sha256, load_weights

if TYPE_CHECKING:  # torch loads with the net, so default_weights_path() does not import it
    from redaes.models.net import CompactNet

DEFAULT_WEIGHTS = "compact-default.safetensors"


def default_weights_path() -> Path | None:
    """The shipped default weights (``redaes/models/weights/``), or None when not shipped."""
    path = Path(str(resources.files("redaes.models") / "weights" / DEFAULT_WEIGHTS))
    return path if path.is_file() else None


class CompactAssessor(CalibratedScores, Assessor):
    """A trained :class:`CompactNet` as an assessor (0-10, higher is better, with a std).

    Args:
        weights: path of a ``.safetensors`` weights file (default: the shipped weights).
        net: an in-memory network instead of a file (training, tests).
        batch_size: images per forward pass (scores do not depend on it).
        runtime: ``auto`` (ONNX Runtime when installed, else torch), ``torch``, ``onnx`` or
            ``onnx-int8`` (:mod:`redaes.models.runtime`; the ONNX file is cached).
    """

    name = "compact"

    def __init__(
        self,
        weights: str | Path | None = None,
        net: CompactNet | None = None,
        batch_size: int = 16,
        runtime: str = "auto",
    ) -> None:
        from redaes.models.runtime import resolve_runtime

        self.runtime = resolve_runtime(runtime)
        if net is None:
            path = Path(weights) if weights is not None else default_weights_path()
            if path is None:
                raise ConfigError(
                    "no default compact weights are shipped in this build yet: train them "
                    "with `redaes train compact` and pass the file (--model FILE.safetensors), "
                    "or name another assessor (redaes list assessors)"
                )
            net = load_weights(path)
            self.weights_path: str | None = str(path)
        else:
            self.weights_path = None
        self.net, self.batch_size = net.eval(), max(1, int(batch_size))
        cal = net.config.calibration
        where = f"{self.weights_path or 'model'}: calibration"
        self.calibration = Calibration.from_dict(cal, where) if cal is not None else None
        self._engine: Any = None

    @property
    def input_size(self) -> int:
        """The square model input side (callers may decode JPEGs downscaled to it)."""
        return int(self.net.config.input_size)

    def _scorer(self) -> Any:
        """The inference engine (built on first use: the ONNX export is cached on disk)."""
        if self._engine is None:
            from redaes.models.runtime import make_scorer

            key = file_sha256(self.weights_path) if self.weights_path else None
            self._engine = make_scorer(self.net, self.runtime, key)
        return self._engine

    def fingerprint(self) -> dict[str, Any]:
        if self.weights_path:
            return {"weights_sha256": file_sha256(self.weights_path)}
        return {"in_memory": id(self.net)}

    def _predict(self, images: Sequence[ImageInput], clamp: bool) -> list[tuple[float, float]]:
        """``(score, std)`` per image from the engine; preprocessed one by one, batched."""
        import torch

        out: list[tuple[float, float]] = []
        for start in range(0, len(images), self.batch_size):
            chunk = images[start : start + self.batch_size]
            batch = torch.stack([self.net.preprocess(im) for im in chunk])
            s, sd = self._scorer().scores(batch, clamp=clamp)
            out.extend(zip(s, sd, strict=True))
        return out

    def compare(self, a: ImageInput, b: ImageInput) -> dict[str, Any]:
        """``{"a", "b", "score_a", "score_b", "delta", "delta_std", "p_b_better"}``."""
        return compare(self, a, b)

    def explain(self, image: ImageInput, **kwargs: Any) -> dict[str, Any]:
        """Counterfactual effects of edits on the score (:func:`redaes.models.explain.explain`)."""
        from redaes.models.explain import explain

        return explain(self, image, **kwargs)

    def suggest(self, image: ImageInput, **kwargs: Any) -> dict[str, Any]:
        """Edit chains that raise the score (:func:`redaes.models.suggest.suggest`)."""
        from redaes.models.suggest import suggest

        return suggest(self, image, **kwargs)

    def config(self) -> dict[str, Any]:
        """The stored model config (backbone, input, anchor, recipe, data fingerprint)."""
        return self.net.config.to_dict()


def load_assessor(name_or_path: str | Path | None = None, **overrides: Any) -> Assessor:
    """An assessor by weights path, registry name or import path; None = the default model.

    A path (existing file, or any name ending in ``.safetensors``) loads a compact model;
    anything else goes to :func:`redaes.assessors.create_assessor` (``brisque``,
    ``pkg.mod:fn``, ...).
    """
    if name_or_path is None:
        return CompactAssessor(**overrides)
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith(".safetensors") or Path(text).is_file():
        return CompactAssessor(weights=text, **overrides)
    import redaes.assessors.classical  # noqa: F401  (registers brisque and niqe)

    return create_assessor(text, **overrides)


def calibrate_model(
    model: str | Path, labels: str | Path, out: str | Path, batch_size: int = 16
) -> dict[str, Any]:
    """Score the labelled photos with ``model``, fit the map, write ``out``; return a report.

    ``out`` holds the same tensors as ``model`` with ``calibration`` added to its config (an
    existing calibration of ``model`` is ignored: the fit uses raw scores).
    """
    from redaes.models.weights import save_weights

    rows = read_labels(labels)
    src, dest = Path(model), Path(out)
    if dest.suffix != ".safetensors":
        raise ConfigError(f"{dest}: the calibrated model must be a .safetensors file")
    assessor = CompactAssessor(weights=src, batch_size=batch_size)
    raw = [s for s, _ in assessor.raw_score_with_std([img for img, _ in rows])]
    ratings = [r for _, r in rows]
    cal = fit_calibration(raw, ratings, fitted_on=file_fingerprint(labels))
    assessor.net.config.calibration = cal.to_dict()
    save_weights(assessor.net, dest)
    return {"model": str(dest), "calibration": cal.to_dict(), **fit_quality(raw, ratings)}
