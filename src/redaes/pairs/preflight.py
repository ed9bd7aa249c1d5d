"""Checks a build makes before it writes anything: usable sources, the output folder, judges,
and the generative pipeline folder when the plan names one (:func:`check_generative`).

:func:`scan_sources` decodes every photo once, so a folder of truncated files is refused at the
start instead of after thousands of candidates; :func:`check_out_folder` refuses an output
inside the photo folder; :func:`check_judges` creates every judge once in this process.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from pathlib import Path

from PIL import Image

from redaes.errors import ConfigError, DataError, RedaesError
from redaes.imageio import iter_image_files, max_pixels
from redaes.pairs.plan import PairPlan, Source
from redaes.pairs.render import BuildSpec

log = logging.getLogger(__name__)


def scan_sources(images: str | Path) -> tuple[list[Source], list[str]]:
    """Usable sources under ``images`` (sorted, deduplicated by sha256) and the skipped files.

    Every file is decoded once (JPEGs in Pillow's fast reduced-size draft mode), so truncated or
    corrupt files and images over :func:`~redaes.imageio.max_pixels` are skipped here, before any
    pair is planned; a file that still fails later is skipped at render time and counted too.
    """
    root = Path(images)
    if not root.is_dir():
        raise DataError(f"{root}: image folder not found (or not a directory)")
    sources: list[Source] = []
    seen: set[str] = set()
    bad: list[str] = []
    limit = max_pixels()
    for path in iter_image_files(root):
        rel = path.relative_to(root).as_posix()
        try:
            data = path.read_bytes()
            _check_decodes(path, limit)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            log.warning("skipping %s: not a readable image (%s)", path, exc)
            bad.append(rel)
            continue
        sha = hashlib.sha256(data).hexdigest()
        if sha not in seen:
            seen.add(sha)
            sources.append(Source(rel, sha))
    return sources, bad


def _check_decodes(path: Path, limit: int) -> None:
    """Decode ``path`` (JPEG: at about 1/8 size) or raise ``OSError``/``ValueError``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(path) as im:
            w, h = im.size
            if w * h > limit:
                raise ValueError(f"{w}x{h} pixels exceeds the limit of {limit}")
            if im.format == "JPEG":
                im.draft("RGB", (max(1, w // 8), max(1, h // 8)))
            im.load()


def check_out_folder(images: str | Path, out: str | Path) -> None:
    """Refuse an ``out`` folder equal to or inside ``images`` (the dataset would be written into
    the photo folder and scanned as photos by the next build)."""
    img, dst = Path(images).resolve(), Path(out).resolve()
    if dst == img or img in dst.parents:
        where = "is" if dst == img else "is inside"
        raise ConfigError(
            f"--out {out} {where} --images {images}: the dataset would be written into the "
            "photo folder; choose an --out outside it"
        )


def check_judges(spec: BuildSpec) -> None:
    """Create every judge of the plan once, in this process: a judge that cannot be created (an
    unknown name, a missing package, a bad plugin) fails now, before any pair is rendered."""
    from redaes.pairs.render import create_judges

    try:
        create_judges(spec)
    except RedaesError as exc:
        raise ConfigError(f"judges {', '.join(spec.plan.judges)}: {exc}") from None
    except Exception as exc:  # an ImportError or any failure of a plugin's constructor
        raise ConfigError(
            f"judges {', '.join(spec.plan.judges)}: cannot create them "
            f"({type(exc).__name__}: {exc})"
        ) from None


def check_generative(plan: PairPlan) -> None:
    """A plan naming ``generative_pipeline`` needs ``diffusers``, a readable local pipeline
    folder, a valid strength mapping and known adapter options (one clear error now, before any
    block; the weights load in the workers)."""
    if not plan.generative_pipeline:
        return
    from redaes.edits.generative import pipeline_class_name, require_diffusers
    from redaes.edits.generative.adapters import StrengthMapping
    from redaes.edits.generative.options import check_options

    pipeline_class_name(plan.generative_pipeline)
    require_diffusers()
    StrengthMapping.from_dict(plan.generative_mapping)
    check_options(plan.generative_options)
