"""Parquet storage of RED pairs, readable by Hugging Face ``datasets`` without ``datasets``.

Images are stored as ``datasets.Image`` features (a struct ``{bytes, path}``) and the features are
declared in the Arrow schema metadata key ``huggingface`` exactly as ``datasets`` writes them, so
``datasets.load_dataset("parquet", data_files=...)`` decodes the image columns to PIL images.

Files are written deterministically (fixed writer options, no timestamps) and atomically (a
temporary file in the same folder, then ``os.replace``).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from redaes.errors import DataError

IMAGE_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
EDIT_TYPE = pa.struct([("op", pa.string()), ("strength", pa.float64())])
JUDGE_TYPE = pa.struct(
    [
        ("judge", pa.string()),
        ("delta", pa.float64()),
        ("confidence", pa.float64()),
        ("rationale", pa.string()),
        ("source_score", pa.float64()),
        ("edited_score", pa.float64()),
        ("ok", pa.bool_()),
        ("error", pa.string()),
    ]
)

COLUMNS: list[tuple[str, pa.DataType]] = [
    ("pair_id", pa.string()),
    ("source_id", pa.string()),
    ("source_path", pa.string()),
    ("split", pa.string()),
    ("source_image", IMAGE_TYPE),
    ("edited_image", IMAGE_TYPE),
    ("edits", pa.list_(EDIT_TYPE)),
    ("source_edits", pa.list_(EDIT_TYPE)),
    ("seed", pa.int64()),
    ("chain_id", pa.string()),
    ("chain_rank", pa.int64()),
    ("judges", pa.list_(JUDGE_TYPE)),
    ("delta", pa.float64()),
    ("delta_std", pa.float64()),
    ("informative", pa.bool_()),
    ("reasoning", pa.string()),
    ("width", pa.int64()),
    ("height", pa.int64()),
]
"""The pair schema: column names and Arrow types (a contract for every reader).

``source_edits`` is the base degradation applied to the original photo to make the source of a
restoration pair (``[]`` for a plain pair); ``source_id`` is always the ORIGINAL photo's sha256.
``informative`` is ``|delta| >= delta_std``: the judged difference is larger than its uncertainty.
"""

GENERATIVE_TYPE = pa.struct(
    [
        ("step", pa.int64()),
        ("op", pa.string()),
        ("instruction_id", pa.string()),
        ("instruction", pa.string()),
        ("library_version", pa.string()),
        ("pipeline_class", pa.string()),
        ("weights_id", pa.string()),
        ("seed", pa.int64()),
        ("controls", pa.string()),
    ]
)
GENERATIVE_COLUMNS: list[tuple[str, pa.DataType]] = [
    ("generative", pa.list_(GENERATIVE_TYPE)),
    ("guard_ssim", pa.float64()),
]
"""Columns of builds whose plan names a ``generative_pipeline`` (absent otherwise): one record
per generative step of ``edits`` (instruction text, pipeline class, weights hash, seed, the
controls as JSON) and the content guard's luminance SSIM (``null`` without generative steps)."""

# Work-block bookkeeping columns (dropped from the published shards).
WORK_COLUMNS: list[tuple[str, pa.DataType]] = [("unit", pa.int64()), ("member", pa.int64())]


def _value(dtype: str) -> dict[str, Any]:
    return {"dtype": dtype, "_type": "Value"}


def columns(generative: bool = False) -> list[tuple[str, pa.DataType]]:
    """:data:`COLUMNS`, plus :data:`GENERATIVE_COLUMNS` for a generative build."""
    return COLUMNS + (GENERATIVE_COLUMNS if generative else [])


def hf_features(generative: bool = False) -> dict[str, Any]:
    """The ``datasets`` feature dict of :func:`columns` (JSON form, list = sequence)."""
    judge = {
        "judge": _value("string"),
        "delta": _value("float64"),
        "confidence": _value("float64"),
        "rationale": _value("string"),
        "source_score": _value("float64"),
        "edited_score": _value("float64"),
        "ok": _value("bool"),
        "error": _value("string"),
    }
    out = {
        "pair_id": _value("string"),
        "source_id": _value("string"),
        "source_path": _value("string"),
        "split": _value("string"),
        "source_image": {"_type": "Image"},
        "edited_image": {"_type": "Image"},
        "edits": [{"op": _value("string"), "strength": _value("float64")}],
        "source_edits": [{"op": _value("string"), "strength": _value("float64")}],
        "seed": _value("int64"),
        "chain_id": _value("string"),
        "chain_rank": _value("int64"),
        "judges": [judge],
        "delta": _value("float64"),
        "delta_std": _value("float64"),
        "informative": _value("bool"),
        "reasoning": _value("string"),
        "width": _value("int64"),
        "height": _value("int64"),
    }
    if generative:
        record = {
            n: _value("int64" if n in ("step", "seed") else "string")
            for n in (f.name for f in GENERATIVE_TYPE)
        }
        out |= {"generative": [record], "guard_ssim": _value("float64")}
    return out


def pair_schema(work: bool = False, generative: bool = False) -> pa.Schema:
    """Arrow schema with the ``huggingface`` feature metadata (``work`` adds bookkeeping,
    ``generative`` the :data:`GENERATIVE_COLUMNS`)."""
    cols = columns(generative) + (WORK_COLUMNS if work else [])
    meta = {"huggingface": json.dumps({"info": {"features": hf_features(generative)}})}
    return pa.schema([pa.field(n, t) for n, t in cols], metadata=meta)


def rows_to_table(
    rows: list[dict[str, Any]], work: bool = False, generative: bool = False
) -> pa.Table:
    """Rows (dicts with every column) -> a table with :func:`pair_schema`."""
    return pa.Table.from_pylist(rows, schema=pair_schema(work, generative))


def write_table(table: pa.Table, path: str | Path) -> None:
    """Write ``table`` to ``path`` atomically with fixed, deterministic writer options."""
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    os.close(fd)
    try:
        pq.write_table(
            table,
            tmp,
            compression="zstd",
            compression_level=3,
            row_group_size=64,
            use_dictionary=False,
            write_statistics=False,
            version="2.6",
            data_page_version="1.0",
            store_schema=True,
        )
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def is_complete(path: str | Path, expected_rows: int | None = None) -> bool:
    """True when ``path`` is a readable Parquet file (footer intact, optional row count)."""
    try:
        meta = pq.read_metadata(path)
    except (OSError, pa.ArrowException):
        return False
    return expected_rows is None or meta.num_rows == expected_rows


def remove_temp_files(folder: str | Path) -> int:
    """Delete leftover ``.*.tmp`` files of interrupted writes; return how many."""
    n = 0
    root = Path(folder)
    if root.is_dir():
        for tmp in root.glob(".*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
                n += 1
    return n


def read_table(path: str | Path, columns: list[str] | None = None) -> pa.Table:
    """Read one shard; a corrupt file raises :class:`DataError` naming it."""
    try:
        return pq.read_table(path, columns=columns)
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"{path}: not a readable Parquet shard ({exc})") from None


def shard_name(split: str, index: int, count: int) -> str:
    """File name of shard ``index`` of ``count`` of ``split``."""
    return f"{split}-{index:05d}-of-{count:05d}.parquet"


def prior_version() -> str:
    """``redaes.judges.prior.PRIOR_VERSION`` (rules + weights), else the package version."""
    try:
        from redaes.judges.prior import PRIOR_VERSION  # type: ignore[attr-defined,unused-ignore]

        return str(PRIOR_VERSION)
    except ImportError:
        from redaes import __version__

        return f"redaes {__version__}"


def judge_versions(judges: list[str]) -> dict[str, str]:
    """Version of each judge of a plan: the prior's rules, the VLM prompt, else the package."""
    from redaes import __version__

    out: dict[str, str] = {}
    for name in judges:
        if name == "prior":
            out[name] = prior_version()
        elif name.startswith("vlm"):
            from redaes.judges.vlm import PROMPT_VERSION

            out[name] = f"prompt {PROMPT_VERSION}, redaes {__version__}"
        else:
            out[name] = f"redaes {__version__}"
    return out


def provenance(plan: dict[str, Any]) -> dict[str, Any]:
    """What made the labels: package, prior and judge versions (recorded in every card)."""
    from redaes import __version__

    judges = [str(j) for j in plan.get("judges", [])]
    return {
        "redaes_version": __version__,
        "prior_version": prior_version(),
        "judge_versions": judge_versions(judges),
    }


def card_text(
    name: str,
    plan: dict[str, Any],
    counts: dict[str, int],
    summary: dict[str, Any],
    num_bytes: dict[str, int] | None = None,
) -> str:
    """The dataset card (``README.md``) with a YAML header ``datasets`` understands.

    ``num_bytes`` (per split, the shards' size on disk) completes the ``splits`` entries, which
    ``datasets`` otherwise reports as malformed. The card records :func:`provenance` (also in
    the YAML header under ``redaes``) and the count of ``informative`` pairs when the summary
    has it.
    """
    import yaml

    prov = provenance(plan)
    generative = bool(plan.get("generative_pipeline"))

    splits = [s for s in ("train", "validation", "test") if counts.get(s, 0) > 0]
    header = {
        "configs": [
            {
                "config_name": "default",
                "data_files": [{"split": s, "path": f"data/{s}-*.parquet"} for s in splits],
            }
        ],
        "dataset_info": {
            "features": [_card_feature(k, v) for k, v in hf_features(generative).items()],
            "splits": [
                {
                    "name": s,
                    "num_bytes": int((num_bytes or {}).get(s, 0)),
                    "num_examples": counts[s],
                }
                for s in splits
            ],
        },
        "tags": ["image-aesthetics", "red-aes", "pairwise"],
        "redaes": prov,
    }
    total = sum(counts.get(s, 0) for s in splits)
    informative = summary.get("informative_pairs")
    info_line = (
        f"\n\nInformative pairs (`|delta| >= delta_std`): {informative} of {total}."
        if informative is not None
        else ""
    )
    if generative:
        info_line += (
            f"\n\nGenerative edits (`generative` records the instruction, pipeline class, "
            f"weights hash and seed of each): {summary.get('generative_pairs', 0)} pairs; the "
            f"content guard (luminance SSIM >= {plan.get('guard_min_ssim')}) dropped "
            f"{summary.get('dropped_guard', 0)} edits."
        )
    schema_lines = "\n".join(f"| `{n}` | `{t}` |" for n, t in columns(generative))
    return (
        "---\n"
        + yaml.safe_dump(header, sort_keys=False)
        + "---\n\n"
        + f"# {name}\n\n"
        + "Source/edit pairs with a quantified aesthetic difference (`delta` = edited minus "
        + "source, points of the 0-10 scale, consensus of the judges) and a reasoning text, "
        + "built by `redaes pairs build`. Splits are by source photo. In restoration pairs "
        + "(non-empty `source_edits`) the source is the original photo degraded by "
        + "`source_edits` and the edit corrects it.\n\n"
        + "`reasoning` is written from measured claims only (scene, measured changes with their "
        + "numbers, the rule that set the verdict, the consensus number); it never names the op, "
        + "its strength or how the source was made. "
        + "`redaes.pairs.reasoning.check_reasoning(row)` re-measures a row's two images and "
        + "lists any claim they do not back. `informative` is `|delta| >= delta_std`.\n\n"
        + "## Counts\n\n"
        + "\n".join(f"- {s}: {counts[s]}" for s in splits)
        + info_line
        + "\n\n## Judges\n\n"
        + "\n".join(f"- `{j}`: {v}" for j, v in prov["judge_versions"].items())
        + f"\n\nPrior version: `{prov['prior_version']}`; redaes {prov['redaes_version']}."
        + "\n\n## Summary\n\n```json\n"
        + json.dumps(summary, indent=2, sort_keys=True)
        + "\n```\n\n## Schema\n\n| column | type |\n|---|---|\n"
        + schema_lines
        + "\n\n## Plan\n\n```yaml\n"
        + yaml.safe_dump(plan, sort_keys=True)
        + "```\n"
    )


def _card_feature(name: str, spec: Any) -> dict[str, Any]:
    if isinstance(spec, list):
        inner = spec[0]
        return {"name": name, "list": [_card_feature(k, v) for k, v in inner.items()]}
    if spec.get("_type") == "Image":
        return {"name": name, "dtype": "image"}
    return {"name": name, "dtype": spec["dtype"]}
