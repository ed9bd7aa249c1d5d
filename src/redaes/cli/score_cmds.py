"""CLI commands (use): ``redaes score``, ``compare``, ``explain`` and ``suggest`` (lazy torch).

``score --json`` prints ``[{"path", "score", "std", "raw_score"}]`` (``raw_score``: the model's
score before calibration and the clamp to 0-10); ``compare --json`` prints
``{"a", "b", "score_a", "score_b", "delta", "delta_std", "p_b_better"}``; ``explain --json``
prints ``{"path", "score", "std", "effects": [{"op", "strength", "delta", "delta_std"}],
"text"}``. Unreadable files are
reported on stderr (one line each) and the rest are scored; with nothing scorable the command
fails with status 2. Every command that loads a model from a weights file names it once on
stderr: ``weights: PATH (sha256 <12 hex>, redaes-compact v1, redaes X.Y.Z, stage N)``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from redaes.errors import ConfigError, ImageLoadError

console = Console()
err_console = Console(stderr=True)
OUT_FORMATS = (".csv", ".jsonl")
FIELDS = ["path", "score", "std", "raw_score"]  # one row of `score --json` / --out


def collect_files(inputs: list[Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Image files named or found (recursively) under ``inputs``; missing paths as problems."""
    from redaes.imageio import iter_image_files

    files: list[Path] = []
    bad: list[tuple[str, str]] = []
    for item in inputs:
        if item.is_dir():
            found = iter_image_files(item, recursive=True)
            if not found:
                bad.append((str(item), "folder without image files"))
            files.extend(found)
        elif item.exists():
            files.append(item)
        else:
            bad.append((str(item), "no such file or folder"))
    return files, bad


def _load_or_problem(path: Path, draft: tuple[int, int] | None) -> Any:
    """The decoded image, or the :class:`ImageLoadError` explaining why it is unreadable."""
    from redaes.imageio import load_image

    try:
        return load_image(path, draft=draft)
    except ImageLoadError as exc:
        return exc


def score_files(
    model: Any, files: list[Path], batch_size: int, progress: bool = True
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """``[{"path", "score", "std", "raw_score"}]`` for the readable files, and the unreadable
    ones (``raw_score``: before calibration and the clamp to 0-10, see ``score_details``).

    A model with an ``input_size`` gets JPEGs decoded DCT-downscaled to it (``Image.draft``);
    two threads decode the next batch while the model scores the current one.
    """
    from concurrent.futures import Future, ThreadPoolExecutor

    from rich.progress import Progress

    from redaes.models.scoring import score_details

    size = getattr(model, "input_size", None)
    draft = (int(size), int(size)) if isinstance(size, int) else None
    batches = [files[i : i + batch_size] for i in range(0, len(files), batch_size)]
    rows: list[dict[str, Any]] = []
    bad: list[tuple[str, str]] = []
    with (
        # off when stderr is not a terminal: there a transient bar only leaves a blank line
        Progress(
            console=err_console, transient=True, disable=not (progress and err_console.is_terminal)
        ) as bar,
        ThreadPoolExecutor(max_workers=2, thread_name_prefix="redaes-decode") as pool,
    ):
        task = bar.add_task("scoring", total=len(files))

        def submit(batch: list[Path]) -> list[Future[Any]]:
            return [pool.submit(_load_or_problem, f, draft) for f in batch]

        pending = submit(batches[0]) if batches else []
        for i, batch in enumerate(batches):
            loaded = [fut.result() for fut in pending]
            pending = submit(batches[i + 1]) if i + 1 < len(batches) else []
            names, images = [], []
            for f, item in zip(batch, loaded, strict=True):
                if isinstance(item, ImageLoadError):
                    bad.append((str(f), item.problem))
                else:
                    names.append(f)
                    images.append(item)
            if images:
                for f, d in zip(names, score_details(model, images), strict=True):
                    rows.append({"path": str(f), **d})
            bar.update(task, advance=len(batch))
    return rows, bad


def write_rows(rows: list[dict[str, Any]], path: Path) -> None:
    """Write ``rows`` as CSV (path,score,std,raw_score) or JSON Lines, atomically."""
    from redaes.imageio import atomic_write_bytes

    suffix = path.suffix.lower()
    if suffix not in OUT_FORMATS:
        raise ConfigError(f"--out {path}: use a .csv or .jsonl file name")
    if suffix == ".csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buf.getvalue()
    else:
        text = "".join(json.dumps(r) + "\n" for r in rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, text.encode("utf-8"))


def announce_weights(assessor: Any) -> None:
    """Print ``weights: PATH (sha256 ..., versions)`` on stderr for a model loaded from a
    weights file (rank 0 only in a multi-process run); other assessors print nothing."""
    from redaes.models.weights import describe_weights, is_main_process

    path = getattr(assessor, "weights_path", None)
    if path and is_main_process():
        err_console.print(f"weights: {describe_weights(path)}", highlight=False, soft_wrap=True)


def load_model(model: str | None, runtime: str | None = None) -> Any:
    """``load_assessor(model)`` (``runtime`` for compact models only), announced once.

    With a ``runtime`` (``score``) and a compact model whose ONNX export is already cached,
    the model is a :class:`~redaes.models.runtime.CachedOnnxAssessor`: torch is not imported.
    """
    text = str(model) if model is not None else None
    is_compact = text is None or text.endswith(".safetensors") or Path(text).is_file()
    fast = None
    if runtime is not None and is_compact:
        from redaes.models.assessor import default_weights_path
        from redaes.models.runtime import CachedOnnxAssessor

        weights = Path(text) if text is not None else default_weights_path()
        if weights is not None:
            fast = CachedOnnxAssessor.from_cache(weights, runtime)
    from redaes.models import load_assessor

    if fast is not None:
        assessor: Any = fast
    elif runtime is not None and is_compact:
        assessor = load_assessor(model, runtime=runtime)
    else:
        assessor = load_assessor(model)
    announce_weights(assessor)
    return assessor


def register(app: typer.Typer) -> None:
    """Add ``redaes score``, ``redaes compare`` and ``redaes explain``."""

    @app.command("score")
    def score_cmd(
        inputs: list[Path] = typer.Argument(..., help="image files and/or folders (recursive)"),
        model: str | None = typer.Option(
            None, "--model", "-m", help="weights file, assessor name or pkg.mod:fn (default model)"
        ),
        as_json: bool = typer.Option(
            False, "--json", help='print [{"path","score","std","raw_score"}]'
        ),
        out: Path | None = typer.Option(None, "--out", "-o", help="also write FILE.csv|.jsonl"),
        batch_size: int = typer.Option(16, "--batch-size", min=1, help="images per batch"),
        runtime: str = typer.Option(
            "auto", "--runtime", help="compact model engine: auto|torch|onnx|onnx-int8"
        ),
    ) -> None:
        """Score photos on the 0-10 scale (higher is better) with an uncertainty (std)."""
        if out is not None and out.suffix.lower() not in OUT_FORMATS:
            raise ConfigError(f"--out {out}: use a .csv or .jsonl file name")
        files, bad = collect_files(inputs)
        from redaes.models.runtime import RUNTIMES

        if runtime not in RUNTIMES:
            raise ConfigError(f"--runtime {runtime}: use one of {', '.join(RUNTIMES)}")
        assessor = load_model(model, runtime)
        rows, unreadable = score_files(assessor, files, batch_size, progress=not as_json)
        bad += unreadable
        for path, problem in bad:
            err_console.print(f"skipped {path}: {problem}", highlight=False, soft_wrap=True)
        if not rows:
            raise ConfigError(f"nothing to score: {len(bad)} input(s) unreadable or missing")
        if out is not None:
            write_rows(rows, out)
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
        else:
            for r in rows:
                console.print(f"{r['score']:5.2f} ± {r['std']:.2f}  {r['path']}", highlight=False)
        if bad:
            err_console.print(f"{len(rows)} scored, {len(bad)} skipped", highlight=False)

    @app.command("compare")
    def compare_cmd(
        a: Path = typer.Argument(..., help="first image"),
        b: Path = typer.Argument(..., help="second image"),
        model: str | None = typer.Option(
            None, "--model", "-m", help="weights file, assessor name or pkg.mod:fn (default model)"
        ),
        as_json: bool = typer.Option(False, "--json", help="print the pair view as JSON"),
    ) -> None:
        """Compare two photos: delta = score(b) - score(a), its std and P(b better)."""
        from redaes.imageio import load_image
        from redaes.models import compare

        img_a, img_b = load_image(a), load_image(b)  # one clear line if either is unreadable
        view = compare(load_model(model), img_a, img_b)
        view["a"], view["b"] = str(a), str(b)
        if as_json:
            typer.echo(json.dumps(view, indent=2))
            return
        console.print(
            f"a {view['score_a']:.2f}  b {view['score_b']:.2f}  delta {view['delta']:+.2f} "
            f"± {view['delta_std']:.2f}  P(b better) {view['p_b_better']:.2f}",
            highlight=False,
        )

    @app.command("explain")
    def explain_cmd(
        image: Path = typer.Argument(..., help="image to explain"),
        model: str | None = typer.Option(
            None, "--model", "-m", help="weights file, assessor name or pkg.mod:fn (default model)"
        ),
        strength: float = typer.Option(0.25, "--strength", help="probe strength in (0, 1]"),
        as_json: bool = typer.Option(False, "--json", help="print the explanation as JSON"),
    ) -> None:
        """Which edits would raise or lower the score, and by how much (counterfactuals)."""
        from redaes.imageio import load_image
        from redaes.models import explain

        img = load_image(image)
        result = explain(load_model(model), img, strength=strength)
        result["path"] = str(image)
        if as_json:
            typer.echo(json.dumps(result, indent=2))
            return
        console.print(result["text"], highlight=False, soft_wrap=True)
        for e in result["effects"]:
            console.print(
                f"{e['delta']:+6.2f} ± {e['delta_std']:.2f}  {e['op']}={e['strength']:+g}",
                highlight=False,
            )

    @app.command("suggest")
    def suggest_cmd(
        image: Path = typer.Argument(..., help="image to improve"),
        model: str | None = typer.Option(
            None, "--model", "-m", help="weights file, assessor name or pkg.mod:fn (default model)"
        ),
        top: int = typer.Option(3, "--top", min=1, help="number of suggestions"),
        out: Path | None = typer.Option(None, "--out", "-o", help="folder for preview JPEGs"),
        as_json: bool = typer.Option(False, "--json", help="print the suggestions as JSON"),
    ) -> None:
        """Search short edit chains that raise the predicted score (bounded change)."""
        from redaes.imageio import load_image
        from redaes.models import suggest

        img = load_image(image)
        result = suggest(load_model(model), img, top=top, out_dir=out)
        result["path"] = str(image)
        if as_json:
            typer.echo(json.dumps(result, indent=2))
            return
        console.print(f"score {result['score']:.2f}", highlight=False)
        if not result["suggestions"]:
            console.print("no edit in the searched space raises the score", highlight=False)
        for s in result["suggestions"]:
            chain = ", ".join(f"{e['op']}={e['strength']:+g}" for e in s["edits"])
            where = f"  -> {s['preview']}" if s["preview"] else ""
            console.print(f"{s['gain']:+.2f} ({s['score']:.2f})  {chain}{where}", highlight=False)
