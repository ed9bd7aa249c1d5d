"""The instruction library: the shipped file validates, and the validator catches bad entries."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from redaes.edits.generative.library import (
    DIRECTIONS,
    INSTRUCTION_FAMILIES,
    LIBRARY_FILE,
    degree_word,
    load_library,
    parse_library,
)
from redaes.errors import ConfigError


def _raw() -> dict[str, Any]:
    data = yaml.safe_load(LIBRARY_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_shipped_library_is_large_balanced_and_complete() -> None:
    lib = load_library()
    assert lib.version == "1.0"
    assert len(lib) >= 40
    families = lib.families()
    assert set(families) == set(INSTRUCTION_FAMILIES)
    assert all(len(ids) >= 5 for ids in families.values()), families
    for item in lib.instructions:
        assert item.family in INSTRUCTION_FAMILIES and item.direction in DIRECTIONS
        assert item.text and item.template and "{degree}" in item.template
        assert item.explain(0.9) != item.explain(0.1)
    assert len(set(lib.ids())) == len(lib)
    assert len({i.text.lower() for i in lib.instructions}) == len(lib)
    directions = {d: sum(i.direction == d for i in lib.instructions) for d in DIRECTIONS}
    assert directions["improve"] >= 15 and directions["degrade"] >= 10, directions


def test_counterparts_are_mutual_and_balanced() -> None:
    lib = load_library()
    paired = [i for i in lib.instructions if i.counterpart]
    assert len(paired) >= 30
    for item in paired:
        other = lib.get(item.counterpart or "")
        assert other.counterpart == item.id
        assert {item.direction, other.direction} != {"improve"}
    assert lib.get("gen:golden_hour").counterpart == "harsh_midday"


def test_degree_words() -> None:
    assert [degree_word(s) for s in (0.1, -0.5, 0.95)] == ["slightly", "clearly", "strongly"]


def _mutate(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(_raw())
    change(data["instructions"])
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda items: items.append(dict(items[0])), "duplicate instruction id 'golden_hour'"),
        (
            lambda items: items.append(dict(items[0], id="copy", counterpart=None)),
            "repeats the text of 'golden_hour'",
        ),
        (lambda items: items[0].pop("template"), "field 'template' is missing"),
        (lambda items: items[0].update(family="food"), "family 'food' is not one of"),
        (lambda items: items[0].update(direction="up"), "direction 'up' is not one of"),
        (lambda items: items[0].update(counterpart="nope"), "missing counterpart 'nope'"),
        (lambda items: items[0].update(counterpart="soft_light"), "counterparts must be mutual"),
        (lambda items: items[0].update(template="{when}"), "template may only use {degree}"),
        (lambda items: items[0].update(colour="red"), "unknown field 'colour'"),
        (lambda items: items[0].update(id="Golden Hour"), "must be lower-case snake_case"),
        (lambda items: items[0].update(expects={"glow": "up"}), "unknown kind 'glow'"),
        (lambda items: items[0].update(expects={"warmth": "more"}), "must be 'up' or 'down'"),
        (lambda items: items[0].update(expects=["warmth"]), "expects must be a mapping"),
    ],
)
def test_validator_rejects(change: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=r"^instruction library") as info:
        parse_library(_mutate(change))
    assert message in str(info.value)


def test_both_improve_counterparts_rejected() -> None:
    def change(items: list[dict[str, Any]]) -> None:
        by_id = {i["id"]: i for i in items}
        by_id["harsh_midday"]["direction"] = "improve"

    with pytest.raises(ConfigError, match="cannot both be 'improve'"):
        parse_library(_mutate(change))


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such instruction library"):
        load_library(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ninstructions: []\n")
    with pytest.raises(ConfigError, match="'version' must be a non-empty string"):
        load_library(bad)
    bad.write_text("[1, 2")
    with pytest.raises(ConfigError, match=r"bad\.yaml: invalid YAML"):
        load_library(bad)


def test_unknown_id_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="instruction 'gen:nope' is not in the library"):
        load_library().get("gen:nope")


def test_expected_effects_are_read_and_plausible() -> None:
    """``expects`` names measured kinds; counterparts with an effect on the same kind ask for
    opposite directions (warm / cool grade), never the same one."""
    lib = load_library()
    assert lib.get("golden_hour").expects == (("warmth", 1),)
    assert lib.get("washed_out").to_dict()["expects"] == {"saturation": "down"}
    assert lib.get("remove_clutter").expects == ()
    assert sum(bool(i.expects) for i in lib.instructions) >= 20
    for item in lib.instructions:
        if not item.counterpart:
            continue
        mine, theirs = dict(item.expects), dict(lib.get(item.counterpart).expects)
        for kind in set(mine) & set(theirs):
            assert mine[kind] == -theirs[kind], (item.id, kind)
