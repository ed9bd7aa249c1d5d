"""The claim checker: re-measure a pair and verify every claim of its reasoning text.

:func:`check_reasoning` measures the two images again (:func:`redaes.stats.measure` and
:func:`redaes.scene.analyse`, independently of whatever the generator saw), splits the text into
sentences and returns the claims that fail, one line each (empty list: every claim is backed):

- a numeric claim "KIND ... from X to Y" whose numbers are not the measured values (within one
  printed unit plus 3 %), or whose direction words contradict the measured change;
- a kind mentioned without numbers that no numeric sentence of the text measured;
- "crisper"/"sharper" without a measured rise of detail, or while noise rose; "cleaner" without
  a measured fall of noise, or while detail fell (a blur); faces, skin, people or portraits on
  a photo without a detected face, or a wrong number of faces; a scene intent or horizon that
  the source does not show;
- "nothing changed" phrases while a visible change was measured;
- a phrase that gives the answer away (how the source was made, restoration, op names, strength);
- a sentence about a generative step's instruction that is not backed by the row's recorded
  instruction (``generative``): "what was asked" sentences must be one of the wordings built
  from the record (:mod:`~redaes.pairs.reasoning.instruction`) and hold no verdict word; an
  effect sentence ("In line with the instruction, ...") must be a numeric claim of a kind the
  recorded instruction expects, and agree with the measured change; any other mention of an
  instruction fails;
- a conclusion whose verb or number disagrees with ``delta``, and a decisive rule sentence whose
  valence (loss / gain) disagrees with the conclusion or with the kind's own valence.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

from PIL import Image

from redaes.errors import DataError
from redaes.imageio import ImageInput
from redaes.pairs.reasoning.claims import detail_fell, frame_changed
from redaes.pairs.reasoning.instruction import (
    ASKED,
    EFFECT,
    MENTION,
    VERDICT,
    Asked,
    asked,
    asked_sentences,
    check_effect,
)
from redaes.pairs.reasoning.observe import INTENT_PHRASES, KINDS, Observation, observe

NUM = r"([+-]?\d+(?:\.\d+)?)"
FROM_TO = re.compile(NUM + r"(?:%| stops| degrees)?\s+to\s+" + NUM)
FROM_TO_ANCHORED = re.compile(r"\bfrom\s+" + NUM + r"(?:%| stops| degrees)?\s+to\s+" + NUM)
DIMS = re.compile(r"(\d+)x(\d+) px")
SUBJECT = re.compile(r"\bcentre of visual interest\b", re.I)
UP_VERBS = re.compile(r"\b(rises|climbs|goes up|increases)\b", re.I)
DOWN_VERBS = re.compile(r"\b(falls|drops|goes down|decreases)\b", re.I)
COST = re.compile(r"\b(costs|against|loss|weaker|hurts)\b", re.I)
GAIN = re.compile(r"\b(helps|favour|gain|stronger)\b", re.I)
CRISP = re.compile(r"\b(crisp|crisper|sharper)\b", re.I)
CLEANER = re.compile(r"\bcleaner\b", re.I)
PEOPLE = re.compile(r"\b(faces?|skin|people|person|persons|portrait|portraits)\b", re.I)
NO_CHANGE = re.compile(
    r"measure almost the same|nothing measured differs|no measured attribute changed|"
    r"nothing (measurable )?changes",
    re.I,
)
LEAKS = re.compile(
    r"degraded|\brestor|\bundo|\bundoes\b|\brepair|\bcorrect(s|ed|ion|ing)?\b|\boriginal\b|"
    r"\bcopy\b|\bstrength\b|\bjpeg\b|\bdownscal|_|\b(mild|strong|heavy|gentle|subtle|slight|"
    r"aggressive) (edit|adjustment)\b",
    re.I,
)
SCENE_HORIZON = re.compile(
    r"\blevel horizontal lines\b|\bhorizontal lines tilted " + NUM + " degrees"
)
FACE_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
CONCLUSION = re.compile(
    r"Overall the edit (raises|lowers) the aesthetic score by (\d+\.\d+) points|"
    r"Overall the edit barely changes the aesthetic score \(([+-]\d+\.\d+) points"
)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def _kinds_in(sentence: str) -> list[str]:
    found = [k.name for k in KINDS.values() if re.search(k.keyword, sentence, re.I)]
    found = [k for k in found if k not in ("subject_x", "subject_y")]
    if SUBJECT.search(sentence):
        found.append("subject_y" if "from the top" in sentence else "subject_x")
    if DIMS.search(sentence) or re.search(r"\bframing\b", sentence, re.I):
        found.append("frame")
    return found


def _direction(sentence: str, kind: str) -> int:
    """+1 / -1 when the sentence's direction words say so, 0 when none, 2 when mixed."""
    k = KINDS.get(kind)
    up = bool(UP_VERBS.search(sentence)) or any(
        re.search(rf"\b{re.escape(w)}\b", sentence, re.I) for w in (k.up if k else ())
    )
    down = bool(DOWN_VERBS.search(sentence)) or any(
        re.search(rf"\b{re.escape(w)}\b", sentence, re.I) for w in (k.down if k else ())
    )
    return 2 if up and down else (1 if up else (-1 if down else 0))


def _visible(src: Observation, ed: Observation) -> list[str]:
    """Kinds whose measured change is visible (detail rises masked by noise excluded)."""
    out = []
    n0, n1 = KINDS["noise"].read(src), KINDS["noise"].read(ed)
    noise_rose = n0 is not None and n1 is not None and n1 - n0 >= 0.5
    for k in KINDS.values():
        if k.name in ("subject_x", "subject_y"):
            continue
        a, b = k.read(src), k.read(ed)
        if a is None or b is None or not k.visible(round(a, k.decimals), round(b, k.decimals)):
            continue
        if k.name == "detail" and b > a and noise_rose:
            continue
        out.append(k.name)
    if frame_changed(src, ed):
        out.append("frame")
    return out


def _close(said: float, measured: float, decimals: int) -> bool:
    return abs(said - measured) <= 10.0**-decimals + 0.03 * abs(measured)


def _check_numbers(sentence: str, kind: str, src: Observation, ed: Observation) -> list[str]:
    if kind == "frame":
        dims = [tuple(int(v) for v in m) for m in DIMS.findall(sentence)]
        s, e = src.stats, ed.stats
        want = [(int(s["width"]), int(s["height"])), (int(e["width"]), int(e["height"]))]
        return [] if dims == want else [f"frame {dims} != measured {want}: {sentence}"]
    m = FROM_TO_ANCHORED.search(sentence) or FROM_TO.search(sentence)
    assert m is not None
    said_a, said_b = float(m.group(1)), float(m.group(2))
    k = KINDS[kind]
    a, b = k.read(src), k.read(ed)
    if a is None or b is None:
        return [f"{kind}: not measurable on this pair: {sentence}"]
    bad = []
    if not (_close(said_a, a, k.decimals) and _close(said_b, b, k.decimals)):
        bad.append(f"{kind}: says {said_a:g} -> {said_b:g}, measured {a:.3g} -> {b:.3g}")
    d = _direction(sentence, kind)
    if d == 2 or (d != 0 and d != (1 if b > a else -1)):
        bad.append(f"{kind}: direction words contradict the measured change: {sentence}")
    return bad


def _check_scene(sentence: str, src: Observation) -> list[str]:
    bad = []
    sc = src.scene
    for intent, phrases in INTENT_PHRASES.items():
        if any(p in sentence for p in phrases) and (
            sc.intent != intent or sc.intent_strength < 0.3
        ):
            bad.append(f"intent {intent!r} claimed, measured {sc.intent!r}")
    if PEOPLE.search(sentence):
        if sc.faces < 1:
            bad.append(f"faces/skin/people claimed on a photo without a detected face: {sentence}")
        m = re.search(r"\b(one|two|three|four|five|\d+) faces?\b", sentence, re.I)
        if m:
            n = FACE_WORDS.get(m.group(1).lower()) or int(m.group(1))
            if n != sc.faces:
                bad.append(f"{n} faces claimed, {sc.faces} detected")
    return bad


def _row_image(value: Any, what: str) -> Image.Image:
    if isinstance(value, Image.Image):
        return value
    data = value.get("bytes") if isinstance(value, Mapping) else value
    if not isinstance(data, (bytes, bytearray)):
        raise DataError(f"check_reasoning: the row has no {what} bytes (read the image columns)")
    with Image.open(io.BytesIO(data)) as im:
        return im.convert("RGB")


def check_row(row: Mapping[str, Any], neutral_threshold: float = 0.1) -> list[str]:
    """:func:`check_reasoning` of one dataset row (``reasoning``, ``delta``, both images and,
    in generative builds, the ``generative`` records)."""
    for key in ("reasoning", "delta", "source_image", "edited_image"):
        if key not in row:
            raise DataError(f"check_reasoning: the row has no {key!r} column")
    return check_reasoning(
        str(row["reasoning"] or ""),
        _row_image(row["source_image"], "source_image"),
        _row_image(row["edited_image"], "edited_image"),
        float(row["delta"]),
        neutral_threshold,
        generative=row.get("generative"),
    )


def check_reasoning(
    text: str | Mapping[str, Any],
    source_image: ImageInput | None = None,
    edited_image: ImageInput | None = None,
    delta: float | None = None,
    neutral_threshold: float = 0.1,
    source: Observation | None = None,
    edited: Observation | None = None,
    generative: Sequence[Mapping[str, Any]] | None = None,
) -> list[str]:
    """Failed claims of ``text`` about the pair (empty: every claim is backed by a measurement).

    The images are re-measured unless ``source``/``edited`` observations are given. A dataset
    row (a mapping with ``reasoning``, ``delta``, ``source_image`` and ``edited_image``) may be
    passed instead of the text: see :func:`check_row`. ``generative``: the row's recorded
    generative steps, the only backing of sentences about an instruction.
    """
    if isinstance(text, Mapping):
        return check_row(text, neutral_threshold)
    if delta is None:
        raise ValueError("check_reasoning needs the pair's delta")
    if source is None:
        if source_image is None:
            raise ValueError("check_reasoning needs the source image or its observation")
        source = observe(source_image)
    if edited is None:
        if edited_image is None:
            raise ValueError("check_reasoning needs the edited image or its observation")
        edited = observe(edited_image, faces=False)
    src, ed = source, edited
    bad: list[str] = []
    items = asked(generative) if generative else []
    sentences = _sentences(text)
    said = [s for s in sentences if ASKED.match(s)]  # what was asked: verified whole, below
    bad += _check_asked(said, items)
    rest = " ".join(s for s in sentences if not ASKED.match(s))
    leak = LEAKS.search(rest)
    if leak:
        bad.append(f"gives the answer away: {leak.group(0)!r}")
    bad += _check_conclusion(
        [s for s in sentences if s.startswith("Overall the edit")], delta, neutral_threshold
    )
    body = [s for s in sentences if not s.startswith("Overall the edit") and not ASKED.match(s)]
    measured: set[str] = set()
    for s in body:
        effect = bool(EFFECT.match(s))
        if MENTION.search(s) and not effect:
            bad.append(f"an instruction claim that no recorded instruction backs: {s}")
            continue
        kinds = _kinds_in(s)
        numeric = bool(FROM_TO.search(s) or DIMS.search(s))
        bad += _check_scene(s, src)
        if "horizon" in kinds and not numeric and SCENE_HORIZON.search(s):
            bad += _check_horizon_mention(s, src)  # the source's horizon, stated in the scene
            kinds.remove("horizon")
        if numeric:
            if len(kinds) != 1:
                bad.append(f"a numeric claim must name exactly one measured kind: {s}")
                continue
            bad += _check_numbers(s, kinds[0], src, ed)
            if effect:
                bad += check_effect(s, kinds[0], items, src, ed)
            measured.add(kinds[0])
            continue
        if effect:
            bad.append(f"an instruction's effect must be stated with its numbers: {s}")
            continue
        for kind in kinds:
            if kind not in measured:
                bad.append(f"{kind} claimed without its measurement: {s}")
            d = _direction(s, kind)
            a = KINDS[kind].read(src) if kind in KINDS else None
            b = KINDS[kind].read(ed) if kind in KINDS else None
            if a is not None and b is not None and d in (1, -1) and d != (1 if b > a else -1):
                bad.append(f"{kind}: direction contradicts the measured change: {s}")
        bad += _check_valence(s, kinds, src, ed, delta, neutral_threshold)
    bad += _check_words(rest, src, ed)
    return bad


def _check_asked(said: list[str], items: list[Asked]) -> list[str]:
    """ "What was asked" sentences: each one wording of a recorded step, no verdict words."""
    bad = []
    allowed = [set(asked_sentences(a)) for a in items]
    for s in said:
        if not any(s in wordings for wordings in allowed):
            bad.append(f"an instruction the pair's recorded generative steps do not hold: {s}")
        elif VERDICT.search(s):
            bad.append(f"a verdict word in what the instruction asked: {s}")
    if len(said) > len(items):
        bad.append(f"{len(said)} instruction sentences for {len(items)} recorded steps")
    return bad


def _check_horizon_mention(sentence: str, src: Observation) -> list[str]:
    h = src.scene.horizon_deg
    if re.search(r"\blevel horizontal lines\b", sentence):
        return [] if h is not None and abs(h) < 1.5 else [f"no level horizontal lines ({h})"]
    m = re.search(r"horizontal lines tilted " + NUM + " degrees", sentence)
    if m:
        said = float(m.group(1))
        if h is None or not _close(said, abs(h), 1):
            return [f"horizontal lines tilted {said} claimed, measured {h}"]
    return []


def _check_conclusion(found: list[str], delta: float, neutral_threshold: float) -> list[str]:
    if len(found) != 1:
        return [f"expected one conclusion sentence, found {len(found)}"]
    m = CONCLUSION.search(found[0])
    if not m:
        return [f"unreadable conclusion: {found[0]}"]
    neutral = abs(delta) < neutral_threshold
    if m.group(1):
        want = "raises" if delta > 0 else "lowers"
        if neutral or m.group(1) != want:
            return [f"conclusion says {m.group(1)!r}, delta is {delta:+.3f}"]
        return (
            []
            if abs(float(m.group(2)) - abs(delta)) <= 0.006
            else [f"conclusion number {m.group(2)} != |delta| {abs(delta):.3f}"]
        )
    if not neutral:
        return [f"conclusion says 'barely changes', delta is {delta:+.3f}"]
    return (
        []
        if abs(float(m.group(3)) - delta) <= 0.006
        else [f"conclusion number {m.group(3)} != delta {delta:+.3f}"]
    )


def _check_valence(
    sentence: str,
    kinds: list[str],
    src: Observation,
    ed: Observation,
    delta: float,
    neutral_threshold: float,
) -> list[str]:
    cost, gain = bool(COST.search(sentence)), bool(GAIN.search(sentence))
    if not (cost or gain):
        return []
    if abs(delta) < neutral_threshold:
        return [f"a loss/gain rule on a neutral verdict: {sentence}"]
    if (cost and not gain and delta > 0) or (gain and not cost and delta < 0):
        return [f"the rule contradicts the conclusion ({delta:+.2f}): {sentence}"]
    bad = []
    for kind in kinds:
        k = KINDS.get(kind)
        a, b = (k.read(src), k.read(ed)) if k else (None, None)
        if k is None or a is None or b is None:
            continue
        v = k.valence(a, b)
        if v and (v > 0) != gain:
            bad.append(f"{kind} can only count {'for' if v > 0 else 'against'}: {sentence}")
    return bad


def _check_words(text: str, src: Observation, ed: Observation) -> list[str]:
    bad = []
    det, noi = KINDS["detail"], KINDS["noise"]
    n0, n1 = noi.read(src), noi.read(ed)
    if CRISP.search(text):
        dd = det.pair(src, ed)
        rose = dd is not None and dd[1] > dd[0] and det.visible(*dd)
        noisier = n0 is not None and n1 is not None and n1 - n0 >= 0.5
        if not rose or noisier:
            bad.append("'crisper/sharper' without a measured rise of detail (or noise rose)")
    if CLEANER.search(text) and (
        not (n0 is not None and n1 is not None and n1 < n0 - 0.5) or detail_fell(src, ed)
    ):
        bad.append("'cleaner' without a measured fall of noise (or detail fell: a blur)")
    if NO_CHANGE.search(text):
        vis = _visible(src, ed)
        if vis:
            bad.append(f"says nothing changed, measured visible changes: {', '.join(vis)}")
    return bad
