"""Reasoning of generative pairs: the recorded instruction is named truthfully and checked.

The images here are edited by parametric ops (warming, cooling, nothing), so the measured
change is known; the ``generative`` records say which instruction the pair claims to have
asked for. The checker must accept the generated text and reject fabricated instruction
claims: an instruction the records do not hold, an effect the measurement contradicts.
"""

from __future__ import annotations

from typing import Any

import pytest
from PIL import Image

from redaes.edits import EditChain
from redaes.edits.generative.library import EFFECT_KINDS, load_library
from redaes.imageio import pil_to_tensor, tensor_to_pil
from redaes.pairs.reasoning import KINDS, check_reasoning, compose, observe
from redaes.pairs.reasoning.check import LEAKS, _sentences
from redaes.pairs.reasoning.instruction import (
    CONTRARY,
    FLAT,
    FOLLOWED,
    MIXED,
    VERDICT,
    asked,
    asked_sentences,
    intent_of,
)

GOLDEN = {
    "step": 0,
    "instruction_id": "golden_hour",
    "instruction": "make it golden hour lighting with warm low sun",
}
COOL = {
    "step": 0,
    "instruction_id": "cool_grade",
    "instruction": "give the photo a cool blue colour grade",
}
INTENT = "the light to be changed to a warm, low golden-hour sun"


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    from redaes.imageio import load_image, resize_long_side
    from tests.pairs.conftest import DATA

    return resize_long_side(load_image(DATA / "astronaut.jpg"), 256)


def _edit(img: Image.Image, *ops: str) -> Image.Image:
    return tensor_to_pil(EditChain(list(ops))(pil_to_tensor(img), 0))


def _text(
    src: Image.Image, ed: Image.Image, delta: float, recs: list[dict[str, Any]], seed: int = 0
) -> str:
    return compose(observe(src), observe(ed, faces=False), delta, 0.2, seed=seed, generative=recs)


def _effect(text: str) -> str:
    (s,) = [s for s in _sentences(text) if s.startswith((FOLLOWED, CONTRARY, FLAT, MIXED))]
    return s


@pytest.fixture(scope="module")
def warmed(photo: Image.Image) -> Image.Image:
    return _edit(photo, "temperature=0.6")


def test_text_names_the_instruction_and_its_intent(photo: Image.Image, warmed: Image.Image) -> None:
    for seed in range(4):
        text = _text(photo, warmed, 0.8, [GOLDEN], seed)
        assert f'"{GOLDEN["instruction"]}"' in text and INTENT in text
        assert _effect(text).startswith(FOLLOWED) and "b*" in _effect(text)
        assert check_reasoning(text, photo, warmed, 0.8, generative=[GOLDEN]) == [], text
        # no degree word: the template's {degree} would give away the strength
        assert not any(w in text for w in ("slightly changed", "clearly", "strongly"))


def test_parametric_texts_are_unchanged(photo: Image.Image, warmed: Image.Image) -> None:
    """Without records (parametric pairs, default builds) the text is the one of before."""
    plain = compose(observe(photo), observe(warmed, faces=False), 0.8, 0.2, seed=3)
    assert "instruction" not in plain
    assert _text(photo, warmed, 0.8, [], seed=3) == plain
    assert check_reasoning(plain, photo, warmed, 0.8, generative=[GOLDEN]) == []
    gen = _text(photo, warmed, 0.8, [GOLDEN], seed=3)
    assert gen.split(". ", 1)[0] == plain.split(". ", 1)[0]  # the scene sentence keeps its wording


def test_instruction_sentence_never_carries_the_verdict(
    photo: Image.Image, warmed: Image.Image
) -> None:
    """golden_hour is an 'improve' entry: the instruction part reads the same whatever the
    judged delta is; only the rule and the conclusion follow the number."""
    up, down = _text(photo, warmed, 0.8, [GOLDEN]), _text(photo, warmed, -0.8, [GOLDEN])
    head = [s for s in _sentences(up) if "instruction" in s]
    assert head and head == [s for s in _sentences(down) if "instruction" in s]
    assert "raises" in up and "lowers" in down
    assert check_reasoning(down, photo, warmed, -0.8, generative=[GOLDEN]) == []


def test_fabricated_instructions_are_rejected(photo: Image.Image, warmed: Image.Image) -> None:
    text = _text(photo, warmed, 0.8, [GOLDEN])
    assert any("do not hold" in b for b in check_reasoning(text, photo, warmed, 0.8))
    other = check_reasoning(text, photo, warmed, 0.8, generative=[COOL])
    assert any("do not hold" in b for b in other)
    assert any("did not move the way" in b for b in other)  # cool_grade expects warmth down
    edited = text.replace("warm low sun", "warm low sun and a rainbow")
    assert any(
        "do not hold" in b for b in check_reasoning(edited, photo, warmed, 0.8, generative=[GOLDEN])
    )
    # a recorded text that the library entry no longer has: named, but no template, no effect
    stale = dict(GOLDEN, instruction="make it golden")
    (a,) = asked([stale])
    assert a.intent is None and a.expects == ()
    assert any(
        "do not hold" in b for b in check_reasoning(text, photo, warmed, 0.8, generative=[stale])
    )
    # free-form claims about the instruction are never backed
    for claim in (
        "As asked, the light turned golden.",
        "The image model followed the prompt well.",
    ):
        head, tail = text.rsplit(" Overall", 1)
        bad = check_reasoning(
            f"{head} {claim} Overall{tail}", photo, warmed, 0.8, generative=[GOLDEN]
        )
        assert any("no recorded instruction backs" in b for b in bad), claim


def test_effect_claims_must_agree_with_the_measurement(photo: Image.Image) -> None:
    cooled = _edit(photo, "temperature=-0.6")
    text = _text(photo, cooled, -0.5, [GOLDEN])
    effect = _effect(text)
    assert effect.startswith(CONTRARY)
    assert check_reasoning(text, photo, cooled, -0.5, generative=[GOLDEN]) == []
    lie = text.replace(effect, effect.replace(CONTRARY, FOLLOWED))
    bad = check_reasoning(lie, photo, cooled, -0.5, generative=[GOLDEN])
    assert any("did not move the way the instruction asks" in b for b in bad)
    hidden = text.replace(effect, FLAT + effect[len(CONTRARY) :])
    bad = check_reasoning(hidden, photo, cooled, -0.5, generative=[GOLDEN])
    assert any("changed visibly" in b for b in bad)
    # an effect stated without numbers is no claim the checker can verify
    vague = text.replace(effect, "In line with the instruction, the warmth looks right.")
    assert any(
        "with its numbers" in b
        for b in check_reasoning(vague, photo, cooled, -0.5, generative=[GOLDEN])
    )


def test_a_change_that_grain_explains_confirms_nothing(
    photo: Image.Image, warmed: Image.Image
) -> None:
    """Added grain raises chroma by itself: a saturation rise on a grainy pair neither confirms
    nor contradicts "make the colours rich and vivid"."""
    vivid = {
        "step": 0,
        "instruction_id": "vivid_colours",
        "instruction": "make the colours rich and vivid",
    }
    grainy = _edit(photo, "saturation=0.5", "gaussian_noise=0.8")
    text = _text(photo, grainy, -1.0, [vivid])
    effect = _effect(text)
    assert effect.startswith(MIXED) and "saturation" in effect
    assert check_reasoning(text, photo, grainy, -1.0, generative=[vivid]) == []
    claimed = text.replace(effect, FOLLOWED + effect[len(MIXED) :])
    bad = check_reasoning(claimed, photo, grainy, -1.0, generative=[vivid])
    assert any("confirms nothing" in b for b in bad)
    # on a clean pair the excuse is not available
    clean = _text(photo, warmed, 0.8, [GOLDEN])
    excuse = clean.replace(FOLLOWED, MIXED)
    bad = check_reasoning(excuse, photo, warmed, 0.8, generative=[GOLDEN])
    assert any("no other measured change" in b for b in bad)


def test_no_visible_change_is_said_so(photo: Image.Image) -> None:
    same = _edit(photo, "exposure=0.01")
    text = _text(photo, same, 0.0, [GOLDEN])
    assert _effect(text).startswith(FLAT)
    assert check_reasoning(text, photo, same, 0.0, generative=[GOLDEN]) == []
    claimed = text.replace(FLAT, FOLLOWED).replace("does not move", "rises")
    assert check_reasoning(claimed, photo, same, 0.0, generative=[GOLDEN]) != []


def test_two_steps_name_both_instructions(photo: Image.Image, warmed: Image.Image) -> None:
    recs = [GOLDEN, dict(COOL, step=1)]
    text = _text(photo, warmed, 0.3, recs)
    assert GOLDEN["instruction"] in text and COOL["instruction"] in text
    assert not [
        s for s in _sentences(text) if s.startswith((FOLLOWED, CONTRARY, FLAT, MIXED))
    ]  # opposite asks
    assert check_reasoning(text, photo, warmed, 0.3, generative=recs) == []
    assert any(
        "2 instruction sentences" in b
        for b in check_reasoning(text, photo, warmed, 0.3, generative=[GOLDEN])
    )


def test_every_library_entry_gives_one_clean_sentence() -> None:
    library = load_library()
    with_intent = 0
    for item in library.instructions:
        (a,) = asked([{"step": 0, "instruction_id": item.id, "instruction": item.text}])
        with_intent += a.intent is not None
        assert a.intent is None or a.intent[:1].islower(), a.intent  # mid-sentence
        for s in asked_sentences(a):
            assert _sentences(s) == [s], s  # the checker sees it as one sentence
            assert not VERDICT.search(s), s  # never judges the result
            assert "_" not in s and "{" not in s, s
        for kind, _ in item.expects:
            assert kind in EFFECT_KINDS and kind in KINDS
    assert with_intent == len(library)  # every shipped template has the NP was {degree} VP form
    assert intent_of("A rim of light was {degree} added around the subject.") == (
        "a rim of light to be added around the subject"
    )
    assert intent_of("Distracting clutter was {degree} removed.") == (
        "distracting clutter to be removed"
    )
    assert intent_of("HDR halos were {degree} added.") == "HDR halos to be added"
    assert intent_of("Something else entirely.") is None
    assert LEAKS.search("strength")  # the leak check still runs on the rest of the text
