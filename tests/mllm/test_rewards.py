"""TRL reward wrappers: literal completions, formula equality, pickling, split groups."""

from __future__ import annotations

import pickle
import random

import pytest

from redaes.mllm.rewards import (
    FormatReward,
    PairDeltaReward,
    RankingConsistencyReward,
    completion_text,
)
from redaes.rewards import RankingReward, fidelity_reward


def _c(value: object) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": f"<think>t</think><answer>{value}</answer>"}]


def test_completion_text_handles_strings_and_messages() -> None:
    assert completion_text("abc") == "abc"
    parts = [{"role": "assistant", "content": [{"type": "text", "text": "a"}, {"type": "image"}]}]
    assert completion_text(parts) == "a"


def test_format_reward() -> None:
    r = FormatReward()
    assert r([None, None], [_c(3), "3"]) == [1.0, 0.0]
    assert r.__name__ == "format"


def test_pair_delta_reward_right_wrong_malformed() -> None:
    r = PairDeltaReward()
    out = r(
        [None] * 4, [_c("+2"), _c("-2"), "junk", _c(0)], delta=[2, 2, 2, 0.1], delta_std=[0.5] * 4
    )
    assert out[0] == pytest.approx(1.0)
    assert out[1] is not None and out[1] < 0.2
    assert out[2] is None
    assert out[3] == pytest.approx(0.5 + 0.5 * 2.718281828 ** (-0.1 / 1.5), rel=1e-6)


def test_ranking_reward_equals_fidelity_reward_on_random_batches() -> None:
    rng = random.Random(0)
    r = RankingConsistencyReward()
    for _ in range(20):
        n_img, k = rng.randint(2, 6), rng.randint(2, 4)
        groups = [rng.choice("ab") for _ in range(n_img)]
        targets = [rng.uniform(-3, 3) for _ in range(n_img)]
        samples = [[round(rng.uniform(0, 10), 2) for _ in range(k)] for _ in range(n_img)]
        completions, cols = [], {"target": [], "group": [], "pair_id": []}
        for i in range(n_img):
            for q in samples[i]:
                completions.append(_c(q))
                cols["target"].append(targets[i])
                cols["group"].append(groups[i])
                cols["pair_id"].append(f"p{i}")
        got = r([None] * len(completions), completions, **cols)
        want = [v for row in fidelity_reward(samples, targets, groups) for v in row]
        assert got == pytest.approx(want) if None not in want else got == want


def test_ranking_reward_literal_order_ties_and_failures() -> None:
    r = RankingConsistencyReward()
    comps = [_c(7), _c(8), _c(2), "bad"]
    cols = {"target": [1.0, 1.0, 0.0, 0.0], "group": ["g"] * 4, "pair_id": ["a", "a", "b", "b"]}
    out = r([None] * 4, comps, **cols)
    assert out[0] is not None and out[0] > 0.9 and out[2] is not None and out[2] > 0.5
    assert out[3] is None
    tie = r([None] * 4, [_c(5)] * 4, target=[1, 1, 1, 1], group=["g"] * 4, pair_id=list("aabb"))
    assert all(v is not None for v in tie)


def test_split_group_gives_none_not_a_number() -> None:
    # this process holds only one image of group "g": nothing to rank against
    r = RankingConsistencyReward()
    assert r([None] * 2, [_c(5), _c(6)], target=[1, 1], group=["g", "g"], pair_id=["a", "a"]) == [
        None,
        None,
    ]


def test_rewards_pickle_round_trip() -> None:
    for r in (
        FormatReward(),
        PairDeltaReward(sign_weight=0.3),
        RankingConsistencyReward(RankingReward("fidelity-delta")),
    ):
        back = pickle.loads(pickle.dumps(r))
        assert back == r and back.__name__ == r.__name__
