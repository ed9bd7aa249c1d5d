"""Generative adapters and ops end to end on tiny random diffusers pipelines (CPU, offline)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from redaes.edits import EDIT_OPS, create_edit
from redaes.edits.generative import (
    GenericAdapter,
    InstructPix2PixAdapter,
    PipelineUnavailable,
    StrengthMapping,
    configure_generative,
    get_adapter,
    load_adapter,
    weights_id,
)
from redaes.errors import ConfigError, EditError, RedaesError
from tests.conftest import natural_like
from tests.edits.test_generative_support import (  # noqa: F401  (fixtures)
    gen_registry,
    ip2p_folder,
    save_img2img,
)

FAST = StrengthMapping(steps=(1, 3))


class Recorder:
    """Wraps a pipeline: records the keyword arguments of every call, then forwards it."""

    def __init__(self, pipe: Any) -> None:
        self.pipe, self.calls = pipe, []  # type: list[dict[str, Any]]

    def __call__(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        return self.pipe(**kwargs)


@pytest.fixture
def images() -> torch.Tensor:
    return torch.stack([natural_like(24, 32, seed=i) for i in range(3)])


@pytest.fixture
def recorder(ip2p_folder: Path, gen_registry: None) -> Recorder:  # noqa: F811
    configure_generative(ip2p_folder, FAST)
    adapter = get_adapter()
    rec = Recorder(adapter.pipe)
    adapter.pipe = rec
    yield rec
    adapter.pipe = rec.pipe


def test_missing_folder_is_one_clear_error(tmp_path: Path, gen_registry: None) -> None:  # noqa: F811
    with pytest.raises(PipelineUnavailable, match="nothing is downloaded") as info:
        load_adapter(tmp_path / "no-such-pipeline")
    assert str(tmp_path / "no-such-pipeline") in str(info.value)
    assert isinstance(info.value, RedaesError) and "\n" not in str(info.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(PipelineUnavailable, match="not a diffusers pipeline folder"):
        load_adapter(tmp_path / "empty")
    configure_generative(tmp_path / "no-such-pipeline")
    with pytest.raises(PipelineUnavailable, match="not found"):
        create_edit("gen:golden_hour")(natural_like(16, 16), 0.5)


def test_unconfigured_op_says_what_to_set(gen_registry: None) -> None:  # noqa: F811
    with pytest.raises(EditError, match="set generative_pipeline in the plan"):
        create_edit("gen:sunset")(natural_like(16, 16), 0.5)


def test_missing_diffusers_names_the_extra(
    ip2p_folder: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "diffusers", None)  # import diffusers -> ImportError
    with pytest.raises(PipelineUnavailable, match=r"pip install 'redaes\[generative\]'"):
        load_adapter(ip2p_folder)


def test_adapter_is_chosen_by_class_name(ip2p_folder: Path, tmp_path: Path) -> None:  # noqa: F811
    ip2p = load_adapter(ip2p_folder, FAST)
    assert isinstance(ip2p, InstructPix2PixAdapter)
    assert ip2p.pipeline_class == "StableDiffusionInstructPix2PixPipeline"
    img2img = load_adapter(save_img2img(tmp_path / "img2img"), FAST)
    assert isinstance(img2img, GenericAdapter)
    assert img2img.pipeline_class == "StableDiffusionImg2ImgPipeline"
    with pytest.raises(ConfigError, match="unknown generative adapter 'flux'"):
        load_adapter(ip2p_folder, adapter="flux")


def test_cpu_machine_never_offloads(
    ip2p_folder: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    adapter = load_adapter(ip2p_folder, FAST, offload=True)
    assert adapter.device == "cpu" and adapter.offload is False
    assert adapter.pipe.device.type == "cpu"
    with pytest.raises(PipelineUnavailable, match="CUDA is not available"):
        load_adapter(ip2p_folder, FAST, device="cuda")


def test_deterministic_for_a_seed(recorder: Recorder, images: torch.Tensor) -> None:
    op = create_edit("gen:golden_hour")
    a = op(images[:1], 0.6, seed=3)
    b = op(images[:1], 0.6, seed=3)
    c = op(images[:1], 0.6, seed=4)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert a.shape == images[:1].shape and a.dtype == images.dtype
    assert a.min() >= 0.0 and a.max() <= 1.0
    assert (a - images[:1]).abs().mean() > 0.01


def test_zero_strength_is_identity_without_a_call(recorder: Recorder, images: torch.Tensor) -> None:
    out = create_edit("gen:remove_clutter")(images, 0.0, seed=1)
    assert torch.equal(out, images) and recorder.calls == []


def test_strength_reaches_the_pipeline_controls(recorder: Recorder, images: torch.Tensor) -> None:
    op = create_edit("gen:golden_hour")
    op(images[:1], 0.2, seed=1)
    op(images[:1], 1.0, seed=1)
    op(images[:1], -0.5, seed=1)
    weak, strong, negative = recorder.calls
    assert weak["image_guidance_scale"] == pytest.approx(1.8 - 0.2 * 0.6)
    assert weak["guidance_scale"] == pytest.approx(3.0 + 0.2 * 6.0)
    assert weak["num_inference_steps"] == 1
    assert strong["image_guidance_scale"] == pytest.approx(1.2)
    assert strong["guidance_scale"] == pytest.approx(9.0)
    assert strong["num_inference_steps"] == 3
    assert weak["prompt"] == ["make it golden hour lighting with warm low sun"]
    assert negative["prompt"] == ["make the lighting harsh midday sun with hard shadows"]
    assert negative["guidance_scale"] == pytest.approx(6.0)
    assert len(weak["generator"]) == 1 and weak["output_type"] == "pt"
    assert (
        op.describe(-0.9)
        == "The light was strongly changed to harsh overhead sun with hard shadows."
    )


def test_batched_equals_single_and_groups_by_strength(
    recorder: Recorder, images: torch.Tensor
) -> None:
    op = create_edit("gen:vivid_colours")
    batch = op(images, 0.7, seed=[5, 6, 7])
    assert len(recorder.calls) == 1 and len(recorder.calls[0]["generator"]) == 3
    for i, seed in enumerate((5, 6, 7)):
        single = op(images[i : i + 1], 0.7, seed=seed)
        assert torch.allclose(batch[i : i + 1], single, atol=1e-4)
    recorder.calls.clear()
    mixed = op(images, torch.tensor([0.7, 0.0, -0.3]), seed=[5, 6, 7])
    assert [c["prompt"][0] for c in recorder.calls] == [
        "make the colours washed out and faded",
        "make the colours rich and vivid",
    ]
    assert torch.equal(mixed[1], images[1])
    assert torch.allclose(mixed[0], batch[0], atol=1e-4)


def test_unsigned_instruction_rejects_negative_strength(recorder: Recorder) -> None:
    op = create_edit("gen:rim_light")
    assert op.info.signed is False and op.info.stochastic
    with pytest.raises(EditError, match="one-directional"):
        op(natural_like(16, 16), -0.5)


def test_generic_adapter_maps_to_the_arguments_it_has(
    ip2p_folder: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    img2img = load_adapter(save_img2img(tmp_path / "img2img"), FAST)
    rec = Recorder(img2img.pipe)
    img2img.pipe = rec
    x = natural_like(24, 32)[None]
    out = img2img.edit(x, "make it sunset", img2img.controls(0.5), [2])
    assert out.shape == x.shape
    call = rec.calls[0]
    assert call["strength"] == pytest.approx(0.55) and "image_guidance_scale" not in call
    assert call["guidance_scale"] == pytest.approx(6.0)
    generic = load_adapter(ip2p_folder, FAST, adapter="generic")
    assert generic.call_kwargs(generic.controls(1.0)) == {
        "num_inference_steps": 3,
        "guidance_scale": 9.0,
        "image_guidance_scale": 1.2,
    }


def test_weights_id_hashes_the_files(ip2p_folder: Path, tmp_path: Path) -> None:  # noqa: F811
    copy = tmp_path / "copy"
    shutil.copytree(ip2p_folder, copy)
    assert weights_id(copy) == weights_id(ip2p_folder)
    assert weights_id(copy).startswith("sha256:")
    cfg = copy / "scheduler" / "scheduler_config.json"
    cfg.write_text(cfg.read_text().replace("}", ', "x": 1}', 1))
    assert weights_id(copy) != weights_id(ip2p_folder)


def test_mapping_overrides_are_validated() -> None:
    m = StrengthMapping.from_dict({"steps": [2, 4], "text_guidance": [1.5, 5.0]})
    assert m.controls(0.5).steps == 3 and m.controls(0.5).guidance_scale == pytest.approx(3.25)
    assert m.controls(0.0).image_guidance_scale == pytest.approx(1.8)
    with pytest.raises(ConfigError, match="unknown key 'cfg'"):
        StrengthMapping.from_dict({"cfg": [1, 2]})
    with pytest.raises(ConfigError, match="need \\[value at 0, value at 1\\]"):
        StrengthMapping.from_dict({"steps": 3})


def test_registry_is_default_without_registration() -> None:
    assert not [n for n in EDIT_OPS.names() if n.startswith("gen:")]
