"""Package-level guarantees: light default imports, registries, CLI wiring."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from redaes.errors import ConfigError, UnknownNameError
from redaes.registry import Registry

HEAVY = ("torchvision", "timm", "open_clip", "transformers", "trl", "ray", "fastapi", "datasets")


def test_default_imports_stay_light() -> None:
    code = (
        "import sys, redaes, redaes.edits, redaes.judges, redaes.assessors, redaes.stats, "
        "redaes.cli\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"default import pulled heavy modules: {out.stdout}"


def test_cli_start_up_does_not_import_torch() -> None:
    """`redaes --help` stays fast: torch loads only when a command needs it."""
    code = "import sys, redaes, redaes.cli\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    code = "import redaes\nprint(redaes.load_image.__module__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "redaes.imageio"


def test_torchvision_not_installed() -> None:
    """timm/open_clip/torchvision pull a CUDA torch: none may be in the environment."""
    import importlib.util

    for name in ("torchvision", "timm", "open_clip"):
        assert importlib.util.find_spec(name) is None, f"{name} must not be installed"


def test_registry_did_you_mean() -> None:
    reg: Registry[object] = Registry("widget")
    reg.add("exposure", object)
    reg.add("contrast", object)
    with pytest.raises(UnknownNameError) as info:
        reg.create("exposre")
    assert "Did you mean 'exposure'" in str(info.value)
    assert info.value.available == ["contrast", "exposure"]
    with pytest.raises(ValueError, match="already registered"):
        reg.add("exposure", object)


def test_cli_list_runs(capsys: pytest.CaptureFixture[str]) -> None:
    from redaes.cli import main

    assert main(["list", "edits", "--json"]) == 0
    assert "exposure" in capsys.readouterr().out
    assert main(["list", "nonsense"]) == 2


def test_assessor_import_path_from_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`redaes eval --model mymodel:score` finds a module in the working directory."""
    from redaes.assessors import CallableAssessor, create_assessor

    (tmp_path / "my_cwd_model.py").write_text(
        "def score(images):\n    return [7.0 for _ in images]\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    model = create_assessor("my_cwd_model:score")
    assert isinstance(model, CallableAssessor)
    assert model.score([np.zeros((4, 4, 3), np.uint8)] * 2) == [7.0, 7.0]
    with pytest.raises(ConfigError, match="no_such_module_xyz"):
        create_assessor("no_such_module_xyz:score")
