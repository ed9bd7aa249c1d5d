"""The strict <think>/<answer> parser: right, wrong, malformed, out of range."""

from __future__ import annotations

import pytest

from redaes.mllm import has_format, parse_completion, parse_delta, parse_score


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<think>nice light</think><answer>7</answer>", 7.0),
        ("  <think>a\nb</think>\n<answer> 6.5 </answer>\n", 6.5),
        ("<think></think><answer>0</answer>", 0.0),
        ("<think>x</think><answer>10</answer>", 10.0),
        ("<think>x</think><answer>.5</answer>", 0.5),
    ],
)
def test_well_formed_scores_parse(text: str, expected: float) -> None:
    assert parse_score(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "7",
        "<answer>7</answer>",
        "<think>x</think>",
        "<think>x</think><answer>seven</answer>",
        "<think>x</think><answer>7/10</answer>",
        "<think>x</think><answer>7 8</answer>",
        "<think>x</think><answer>11</answer>",
        "<think>x</think><answer>-1</answer>",
        "<think>x</think><answer>nan</answer>",
        "<think>x</think><answer>inf</answer>",
        "<think>x</think><answer></answer>",
        "<think>x</think><answer>7</answer> trailing",
        "<think>x</think><answer>7</answer><answer>8</answer>",
        "<think><think>x</think><answer>7</answer>",
        "<think>x<answer>7</answer>",
    ],
)
def test_malformed_gives_none(text: str) -> None:
    assert parse_score(text) is None


def test_delta_is_signed_and_bounded() -> None:
    assert parse_delta("<think>darker</think><answer>-2.5</answer>") == -2.5
    assert parse_delta("<think>x</think><answer>+1</answer>") == 1.0
    assert parse_delta("<think>x</think><answer>-11</answer>") is None


def test_completion_keeps_reasoning_and_format_check() -> None:
    parsed = parse_completion("<think> warm tones </think><answer>3</answer>")
    assert parsed is not None and parsed.think == "warm tones" and parsed.value == 3.0
    assert has_format("<think>a</think><answer>anything</answer>")
    assert not has_format("<answer>1</answer>")
