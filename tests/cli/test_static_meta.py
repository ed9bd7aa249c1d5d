"""``redaes ops`` / ``redaes list`` stay light (issue 7 item 21): their metadata is read from the
sources (:mod:`redaes.cli.static_meta`), which must equal the live registries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from redaes.cli import static_meta

REPO = Path(__file__).resolve().parents[2]

_RUN_CLI = (
    "import io, json, sys, contextlib\n"
    "from redaes.cli import main\n"
    "buf = io.StringIO()\n"
    "with contextlib.redirect_stdout(buf):\n"
    "    code = main(sys.argv[1:])\n"
    "print(json.dumps({'code': code, 'out': buf.getvalue(), 'torch': 'torch' in sys.modules}))\n"
)

_LIVE = (
    "import json\n"
    "from redaes.edits import list_edits\n"
    "from redaes.judges import JUDGES\n"
    "from redaes.assessors import ASSESSORS\n"
    "from redaes.benchmarks import BENCHMARKS\n"
    "from redaes.pairs.plan import PairPlan\n"
    "print(json.dumps({'ops': [i.to_dict() for i in list_edits()],\n"
    "    'list': {'edits': [i.name for i in sorted(list_edits(), key=lambda i: i.name)],\n"
    "             'judges': JUDGES.names(), 'assessors': ASSESSORS.names(),\n"
    "             'benchmarks': BENCHMARKS.names()},\n"
    "    'plan': PairPlan().to_dict()}))\n"
)


def _python(code: str, *args: str) -> dict:
    res = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def live() -> dict:
    """The registries as a fresh process that imports them sees them (no test plugins)."""
    return _python(_LIVE)


@pytest.mark.parametrize("argv", [["ops", "--json"], ["list", "--json"], ["list"], ["ops"]])
def test_listing_commands_do_not_import_torch(argv: list[str]) -> None:
    res = _python(_RUN_CLI, *argv)
    assert res["code"] == 0 and res["out"]
    assert res["torch"] is False, f"redaes {' '.join(argv)} imported torch"


def test_ops_json_equals_the_live_registry(live: dict) -> None:
    res = _python(_RUN_CLI, "ops", "--json")
    assert json.loads(res["out"]) == live["ops"]
    tone = _python(_RUN_CLI, "ops", "--json", "--family", "tone")
    assert json.loads(tone["out"]) == [i for i in live["ops"] if i["family"] == "tone"]


def test_list_json_equals_the_live_registries(live: dict) -> None:
    res = _python(_RUN_CLI, "list", "--json")
    assert json.loads(res["out"]) == live["list"]


def test_static_plan_defaults_equal_pair_plan(live: dict) -> None:
    defaults = static_meta.plan_defaults()
    assert defaults is not None
    for name in ("chain_length", "restore_prob", "max_side", "judges"):
        assert defaults[name] == live["plan"][name], name


def test_unreadable_source_falls_back(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A registration the reader cannot follow gives None (callers then import the registry)."""
    pkg = tmp_path / "redaes" / "judges"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("from redaes.judges import odd\n")
    (pkg / "odd.py").write_text("NAME = 'x'\n@JUDGES.register(NAME)\nclass Odd: ...\n")
    monkeypatch.setattr(static_meta, "PKG_DIR", tmp_path / "redaes")
    static_meta._parse.cache_clear()
    try:
        assert static_meta.registry_names("judges") is None
        (pkg / "odd.py").write_text("@JUDGES.register('odd')\nclass Odd: ...\n")
        static_meta._parse.cache_clear()
        assert static_meta.registry_names("judges") == ["odd"]
    finally:
        static_meta._parse.cache_clear()


def test_reader_follows_only_loaded_modules() -> None:
    mods = static_meta.loaded_modules("redaes.edits")
    assert "redaes.edits.tone" in mods and "redaes.edits.base" in mods
    assert not any(m.startswith("redaes.pairs") for m in mods)
