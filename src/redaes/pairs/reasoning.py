"""Chain-of-thought text for a pair, written from MEASURED evidence.

The text has four parts: what the edit did (the ops' own sentences, :meth:`EditChain.describe`),
which measured attributes changed and by how much (:func:`redaes.stats.measure` of both images),
why that matters to a viewer, and a conclusion carrying the recorded number, e.g. "Overall the
edit lowers the aesthetic score by 0.80 points (uncertainty 0.30)." When a VLM judge gave a
rationale, that rationale replaces the measured evidence; the conclusion is always the consensus
number, so the text agrees in sign with ``delta`` by construction.
"""

from __future__ import annotations

from collections.abc import Sequence

from redaes.stats import ImageStats

IMPROVE, DEGRADE, NEUTRAL = "improve", "degrade", "neutral"


def direction(delta: float, neutral_threshold: float = 0.1) -> str:
    """``"improve"``, ``"degrade"`` or ``"neutral"`` (``|delta| < neutral_threshold``)."""
    if abs(delta) < neutral_threshold:
        return NEUTRAL
    return IMPROVE if delta > 0 else DEGRADE


def conclusion(delta: float, delta_std: float, neutral_threshold: float = 0.1) -> str:
    """The final sentence with the number; its verb follows :func:`direction`."""
    d = direction(delta, neutral_threshold)
    if d == NEUTRAL:
        return (
            f"Overall the edit barely changes the aesthetic score ({delta:+.2f} points, "
            f"uncertainty {delta_std:.2f})."
        )
    verb = "raises" if d == IMPROVE else "lowers"
    return (
        f"Overall the edit {verb} the aesthetic score by {abs(delta):.2f} points "
        f"(uncertainty {delta_std:.2f})."
    )


def _pct(new: float, old: float) -> float:
    return 100.0 * (new - old) / max(abs(old), 1e-6)


def evidence(src: ImageStats, out: ImageStats) -> list[str]:
    """Sentences on the measured changes that are large enough to notice, most salient first."""
    notes: list[str] = []
    dl = out.luminance - src.luminance
    if abs(dl) >= 0.02:
        notes.append(
            f"Mean brightness went from {src.luminance:.2f} to {out.luminance:.2f} "
            f"({'brighter' if dl > 0 else 'darker'}), which changes how readable the shadows "
            f"and highlights are."
        )
    for attr, what, harm in (
        ("clip_bright", "blown highlights", "white areas lose all texture"),
        ("clip_dark", "crushed shadows", "dark areas turn into flat black"),
    ):
        a, b = getattr(src, attr), getattr(out, attr)
        if abs(b - a) >= 0.01:
            verb = "grew" if b > a else "shrank"
            effect = harm if b > a else "more tonal detail survives"
            notes.append(
                f"The share of {what} {verb} from {100 * a:.1f}% to {100 * b:.1f}% of the frame; "
                f"{effect}."
            )
    if abs(_pct(out.contrast, src.contrast)) >= 5:
        more = out.contrast > src.contrast
        notes.append(
            f"Contrast {'rose' if more else 'fell'} by {abs(_pct(out.contrast, src.contrast)):.0f}%"
            f" (RMS {src.contrast:.3f} -> {out.contrast:.3f}), making the image look "
            f"{'punchier' if more else 'flatter'}."
        )
    if abs(out.saturation - src.saturation) >= 0.02:
        more = out.saturation > src.saturation
        notes.append(
            f"Colour saturation {'increased' if more else 'decreased'} from "
            f"{src.saturation:.2f} to {out.saturation:.2f}; colours look "
            f"{'more vivid' if more else 'more muted'}."
        )
    if abs(out.warmth - src.warmth) >= 0.02:
        notes.append(
            f"The colour balance shifted {'warmer' if out.warmth > src.warmth else 'cooler'} "
            f"(R-B {src.warmth:+.3f} -> {out.warmth:+.3f}), changing the mood and skin tones."
        )
    if abs(_pct(out.sharpness, src.sharpness)) >= 10:
        more = out.sharpness > src.sharpness
        notes.append(
            f"Fine detail {'increased' if more else 'decreased'} (Laplacian variance "
            f"{src.sharpness:.0f} -> {out.sharpness:.0f}); edges look "
            f"{'crisper' if more else 'softer'}."
        )
    if abs(out.noise - src.noise) >= 0.5:
        more = out.noise > src.noise
        effect = "grain and artefacts are more visible" if more else "flat areas are cleaner"
        notes.append(
            f"Measured noise {'rose' if more else 'fell'} from sigma {src.noise:.1f} to "
            f"{out.noise:.1f}; {effect}."
        )
    if (out.width, out.height) != (src.width, src.height):
        notes.append(
            f"The frame changed from {src.width}x{src.height} to {out.width}x{out.height} px, "
            f"which changes the composition and what the viewer's eye lands on."
        )
    return notes


def compose(
    edit_sentences: Sequence[str],
    src: ImageStats,
    out: ImageStats,
    delta: float,
    delta_std: float,
    neutral_threshold: float = 0.1,
    rationale: str | None = None,
    source_edit_sentences: Sequence[str] = (),
) -> str:
    """The full reasoning text of one pair.

    Args:
        edit_sentences: :meth:`EditChain.describe` output (one sentence per step).
        src: measured statistics of the source.
        out: measured statistics of the edited image.
        delta: consensus difference (edited minus source, 0-10 points).
        delta_std: its spread (uncertainty).
        neutral_threshold: ``|delta|`` below which the text says "barely changes".
        rationale: a VLM judge's rationale; replaces the measured evidence when given.
        source_edit_sentences: :meth:`EditChain.describe` of the base degradation of a
            restoration pair (the source is a degraded copy of the photo); empty otherwise.
    """
    edit = "; ".join(edit_sentences) if edit_sentences else "applied no change"
    parts = []
    if source_edit_sentences:
        parts.append(
            "The source is a degraded copy of the original photo: a base edit "
            + "; ".join(source_edit_sentences)
            + "."
        )
    parts.append(f"The edit {edit}.")
    if rationale and rationale.strip():
        parts.append(rationale.strip())
    else:
        notes = evidence(src, out)
        parts.extend(notes or ["No measured attribute changed noticeably."])
    parts.append(conclusion(delta, delta_std, neutral_threshold))
    return " ".join(parts)
