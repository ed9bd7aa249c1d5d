"""Reasoning sentences about a pair's generative steps: what was asked, and whether it showed.

A generative step (``gen:<id>``) records its instruction in the pair row (``generative``: the
instruction id and the text actually rendered, counterpart included). That record is a fact of
the pair, so the reasoning may state it, in two kinds of sentence:

1. **what was asked** (backed by the record): the quoted instruction and the library's
   explanation template turned into an intent, without the degree word (which would give away
   the strength): 'The instruction given to the image model was "make it golden hour lighting
   with warm low sun"; it asks for the light to be changed to a warm, low golden-hour sun.'
   The template is used only while the library entry still has the recorded text;
2. **whether the measurement followed it** (backed by the record *and* a measurement): for each
   kind the entry ``expects`` (``warmth: up``), one numeric sentence "In line with the
   instruction, ... rises from X to Y." only when the measured change is visible and goes that
   way; otherwise "Contrary to the instruction, ..." (visible, the other way), "The
   instruction's expected change does not show: ..." (not visible) or "Other changes move this
   measure too, so it cannot confirm the instruction: ..." (visible, but added grain or a blur
   moves that measure by itself, see :func:`confounded`).

Neither ever uses the entry's aesthetic ``direction``: the verdict comes from the judged delta
only (:func:`~redaes.pairs.reasoning.conclusion`). The claim checker
(:mod:`~redaes.pairs.reasoning.check`) rebuilds the allowed sentences from the records with
the same functions and rejects any other sentence that mentions an instruction.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from redaes.pairs.reasoning.claims import CONFOUNDED, detail_fell
from redaes.pairs.reasoning.observe import KINDS, Observation

ASKED_FRAMES = (
    'The edit gave the image model the instruction "{text}", asking for {intent}.',
    'The instruction given to the image model was "{text}"; it asks for {intent}.',
)
PLAIN_FRAMES = (
    'The edit gave the image model the instruction "{text}".',
    'The instruction given to the image model was "{text}".',
)
ASKED = re.compile(
    r'^(The edit gave the image model the instruction "|The instruction given to the image '
    r'model was ")'
)
FOLLOWED = "In line with the instruction, "
CONTRARY = "Contrary to the instruction, "
FLAT = "The instruction's expected change does not show: "
MIXED = "Other changes move this measure too, so it cannot confirm the instruction: "
EFFECT = re.compile(
    "^(" + "|".join(re.escape(m.strip(" ,:")) for m in (FOLLOWED, CONTRARY, FLAT, MIXED)) + ")"
)
MENTION = re.compile(r"\binstruct\w*|\basked\b|\basks\b|\bimage model\b|\bprompt\w*", re.I)
"""Any sentence mentioning an instruction must be one of the forms above."""
VERDICT = re.compile(
    r"\b(improv\w*|better|worse|degrad\w*|raises?|lowers?|helps?|hurts?|costs?|gains?|loss|"
    r"stronger|weaker|score\w*|verdict)\b",
    re.I,
)
"""Words that judge the result: never in a sentence about what was asked."""
_TEMPLATE = re.compile(r"^(?P<np>\S.*?) (?:was|were) \{degree\} (?P<vp>\S.*?)\.?$")


@dataclass(frozen=True)
class Asked:
    """One recorded generative step: its text, the template's intent and expected kinds."""

    step: int
    text: str
    intent: str | None
    expects: tuple[tuple[str, int], ...]


def intent_of(template: str) -> str | None:
    """``"The light was {degree} changed to X."`` -> ``"the light to be changed to X"``.

    ``None`` when the template does not have the library's ``NP was/were {degree} VP`` form.
    """
    m = _TEMPLATE.match(template.strip())
    if m is None:
        return None
    np_ = m.group("np")
    first = np_.split(" ", 1)[0]
    if not (len(first) > 1 and first[1].isupper()):  # "Distracting" -> "distracting", not "HDR"
        np_ = np_[:1].lower() + np_[1:]
    return f"{np_} to be {m.group('vp')}"


def asked(records: Iterable[Mapping[str, Any]] | None) -> list[Asked]:
    """The :class:`Asked` of each record of a row's ``generative`` column (step order).

    The library entry (by ``instruction_id``) gives the template and ``expects`` only while its
    text equals the recorded one; otherwise only the recorded text is stated.
    """
    from redaes.edits.generative.library import load_library
    from redaes.errors import ConfigError

    library = load_library()
    out = []
    for rec in records or ():
        text = str(rec.get("instruction") or "").strip()
        if not text:
            continue
        try:
            item = library.get(str(rec.get("instruction_id") or ""))
        except ConfigError:
            item = None
        if item is None or item.text != text:
            out.append(Asked(int(rec.get("step", 0)), text, None, ()))
            continue
        out.append(Asked(int(rec.get("step", 0)), text, intent_of(item.template), item.expects))
    return sorted(out, key=lambda a: a.step)


def asked_sentences(a: Asked) -> tuple[str, ...]:
    """Every wording of the "what was asked" sentence of ``a`` (the checker's allowed set)."""
    if a.intent is None or VERDICT.search(a.intent):
        return tuple(f.format(text=a.text) for f in PLAIN_FRAMES)
    return tuple(f.format(text=a.text, intent=a.intent) for f in ASKED_FRAMES)


def expected(items: Iterable[Asked]) -> dict[str, set[int]]:
    """``kind -> {+1 / -1}``: the directions the recorded instructions ask for, per kind."""
    out: dict[str, set[int]] = {}
    for a in items:
        for kind, way in a.expects:
            out.setdefault(kind, set()).add(way)
    return out


def effect_state(kind: str, src: Observation, ed: Observation) -> tuple[float, float, int, bool]:
    """``(before, after, sign of the raw change, visible)``; ``ValueError`` if not measurable."""
    k = KINDS[kind]
    a, b = k.read(src), k.read(ed)
    if a is None or b is None:
        raise ValueError(f"{kind} is not measurable on this pair")
    sign = (b > a) - (b < a)
    return a, b, sign, k.visible(round(a, k.decimals), round(b, k.decimals))


def confounded(kind: str, src: Observation, ed: Observation) -> bool:
    """Another visible change moves ``kind`` by itself (as in :func:`~redaes.pairs.reasoning.
    claims.claims`): added grain moves chroma, clipping, flatness and the Laplacian; a blur
    lifts the dark channel. Such a change neither confirms nor contradicts an instruction."""
    noise = KINDS["noise"]
    nn = noise.pair(src, ed)
    grainy = nn is not None and nn[1] > nn[0] and noise.visible(*nn)
    n0, n1 = noise.read(src), noise.read(ed)
    noise_rose = n0 is not None and n1 is not None and n1 - n0 >= 0.5
    if kind in CONFOUNDED and grainy:
        return True
    if kind == "detail" and (grainy or noise_rose):
        return True
    return kind == "haze" and detail_fell(src, ed)


def effect_sentence(
    kind: str, want: int, src: Observation, ed: Observation, rng: random.Random
) -> str | None:
    """The numeric sentence saying whether ``kind`` moved as asked (``None``: not measurable)."""
    from redaes.pairs.reasoning.text import DOWN_VERBS, PHRASES, UP_VERBS

    try:
        a, b, sign, visible = effect_state(kind, src, ed)
    except ValueError:
        return None
    k = KINDS[kind]
    noun = rng.choice(PHRASES[kind][0])
    fa, fb = k.fmt(a), k.fmt(b)
    verb = rng.choice(UP_VERBS if sign > 0 else DOWN_VERBS) if sign else ""
    if visible:
        mark = FOLLOWED if sign == want else CONTRARY
        if confounded(kind, src, ed):
            mark = MIXED
        return f"{mark}{noun} {verb} from {fa} to {fb}."
    if not verb or round(a, k.decimals) == round(b, k.decimals):
        return f"{FLAT}{noun} does not move ({fa} to {fb})."
    return f"{FLAT}{noun} {verb} only slightly, from {fa} to {fb}."


def instruction_part(
    records: Iterable[Mapping[str, Any]] | None,
    src: Observation,
    ed: Observation,
    seed: int,
) -> tuple[list[str], set[str]]:
    """The instruction sentences of a pair and the kinds their effect sentences state.

    Wording follows its own seeded stream, so the measured sentences after it read as they
    would without it. A kind two instructions of a chain ask for in opposite directions is
    not stated.
    """
    items = asked(records) if records else []
    if not items:
        return [], set()
    rng = random.Random(zlib.crc32(f"instruction:{seed}".encode()))
    parts = [rng.choice(asked_sentences(a)) for a in items]
    covered: set[str] = set()
    for kind, ways in expected(items).items():
        if len(ways) != 1 or kind not in KINDS:
            continue
        s = effect_sentence(kind, next(iter(ways)), src, ed, rng)
        if s is not None:
            parts.append(s)
            covered.add(kind)
    return parts, covered


def check_effect(
    sentence: str, kind: str, items: list[Asked], src: Observation, ed: Observation
) -> list[str]:
    """Failures of one effect sentence (its numbers are checked like any numeric claim)."""
    ways = expected(items).get(kind)
    if not ways:
        return [f"no recorded instruction asks for a change of {kind}: {sentence}"]
    try:
        _, _, sign, visible = effect_state(kind, src, ed)
    except ValueError:
        return [f"{kind}: not measurable on this pair: {sentence}"]
    mixed = visible and confounded(kind, src, ed)
    if sentence.startswith(FOLLOWED):
        if not visible or sign not in ways:
            return [f"{kind} did not move the way the instruction asks: {sentence}"]
    elif sentence.startswith(CONTRARY):
        if not visible or sign in ways or -sign not in ways:
            return [f"{kind} did not move against the instruction: {sentence}"]
    elif sentence.startswith(MIXED):
        if not mixed:
            return [f"no other measured change moves {kind}: {sentence}"]
        return []
    elif visible:
        return [f"{kind} changed visibly, the text says it does not show: {sentence}"]
    if mixed:
        return [f"{kind} is moved by another measured change, it confirms nothing: {sentence}"]
    return []
