"""The FastAPI app factory: routes, limits, errors and the shared micro-batchers."""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import FileResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from PIL import Image
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as FormFile

from redaes.assessors.base import Assessor
from redaes.serve import schemas as S
from redaes.serve.batching import BatchedAssessor, MicroBatcher, batcher_for
from redaes.serve.errors import BodyLimit, install_errors, one_line
from redaes.serve.inputs import data_url, decode_base64, decode_image, working_copy
from redaes.serve.settings import ServeError, ServeSettings, UnknownModelError

T = TypeVar("T")
STATIC = Path(str(resources.files("redaes.serve") / "static"))
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": S.ErrorBody} for code in (400, 401, 404, 413, 422, 503, 504)
}


@dataclass
class ServedModel:
    """A model loaded at start-up with its batcher.

    ``draft`` is the model's square input side when it has one: ``/v1/score`` then decodes
    JPEGs DCT-downscaled to it, as ``redaes score`` does.
    """

    name: str
    assessor: Assessor
    batcher: MicroBatcher
    draft: int | None = None

    def warm(self) -> None:
        """One forward pass on a blank input (builds the engine before the first request)."""
        if self.draft:
            blank = Image.new("RGB", (self.draft, self.draft), (128, 128, 128))
            self.batcher.forward([self.batcher.prepare(blank)])


def _input_side(assessor: Assessor) -> int | None:
    size = getattr(assessor, "input_size", None)
    return size if isinstance(size, int) and size > 0 else None


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON schema with its ``$defs`` references inlined (valid inside OpenAPI)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {k: walk(v) for k, v in node.items()}
        return [walk(v) for v in node] if isinstance(node, list) else node

    return dict(walk(schema))


def create_app(
    models: Assessor | Mapping[str, Assessor], settings: ServeSettings | None = None
) -> FastAPI:
    """The service for already loaded ``models`` (the first is the default).

    Args:
        models: one assessor, or ``{name: assessor}``.
        settings: limits and the optional bearer token.
    """
    cfg = settings or ServeSettings()
    named = dict(models) if isinstance(models, Mapping) else {"default": models}
    if not named:
        raise ServeError("create_app needs at least one model")
    served = {
        name: ServedModel(
            name,
            a,
            batcher_for(
                a,
                max_batch=cfg.max_batch,
                wait_ms=cfg.batch_wait_ms,
                queue_size=cfg.queue_size,
                wait_only_incoming=True,
            ),
            _input_side(a),
        )
        for name, a in named.items()
    }
    default = next(iter(served))
    # uploads are decoded by at most one thread per core, first come first served: more threads
    # only make every decode slower and starve the model's worker (see bench/results/serve.md)
    pools: dict[str, ThreadPoolExecutor] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        threads = cfg.decode_threads or os.cpu_count() or 1
        pools["decode"] = ThreadPoolExecutor(threads, thread_name_prefix="redaes-decode")
        for m in served.values():
            m.batcher.start()
            await run_in_threadpool(m.warm)
        yield
        for m in served.values():
            m.batcher.stop()
        pools.pop("decode").shutdown(wait=False, cancel_futures=True)

    from redaes import __version__

    app = FastAPI(
        title="redaes",
        version=__version__,
        description="Image aesthetic scores (0-10) with uncertainty, comparisons, "
        "counterfactual explanations and edit suggestions.",
        lifespan=lifespan,
    )
    install_errors(app)
    app.add_middleware(BodyLimit, limit=cfg.max_request_bytes)
    bearer = HTTPBearer(auto_error=False)

    def check_token(cred: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if cfg.token is None:
            return
        if cred is None or not hmac.compare_digest(cred.credentials, cfg.token):
            raise ServeError("missing or wrong bearer token", status=401, code="unauthorized")

    def pick(name: str | None) -> ServedModel:
        if not name:
            return served[default]
        if name not in served:
            raise UnknownModelError(f"unknown model {name!r}; served: {', '.join(served)}")
        return served[name]

    async def limited(work: Awaitable[T]) -> T:
        try:
            return await asyncio.wait_for(work, cfg.timeout_s)
        except TimeoutError:
            raise ServeError(
                f"request took longer than {cfg.timeout_s:g} s", status=504, code="timeout"
            ) from None

    async def in_pool(fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in the decode pool (the loop's default executor without lifespan)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pools.get("decode"), partial(fn, *args))

    async def upload_bytes(upload: FormFile, field: str) -> tuple[str, bytes]:
        return upload.filename or field, await upload.read()

    async def read(upload: FormFile, field: str) -> tuple[str, Image.Image]:
        label, data = await upload_bytes(upload, field)
        return label, await in_pool(decode_image, data, label, cfg)

    def decode_for(m: ServedModel, draft: bool, data: bytes | str, label: str) -> Any:
        """Bytes (or base64 text) -> the model's prepared input, in a decode thread."""
        raw = decode_base64(data, label) if isinstance(data, str) else data
        return m.batcher.prepare(decode_image(raw, label, cfg, m.draft if draft else None))

    async def score_uploads(
        m: ServedModel, uploads: list[tuple[str, bytes | str]], draft: bool
    ) -> list[tuple[float, float]]:
        """Decode and prepare ``(label, data)`` in the pool, then one batcher group."""
        with m.batcher.incoming():  # the batcher waits for announced requests, bounded
            items = await asyncio.gather(
                *(in_pool(decode_for, m, draft, data, label) for label, data in uploads)
            )
        return await asyncio.wrap_future(m.batcher.submit_prepared(list(items)))

    def on_worker(model: ServedModel, fn: Callable[[BatchedAssessor], T]) -> Awaitable[T]:
        assessor = BatchedAssessor(model.batcher, deadline=time.monotonic() + cfg.timeout_s)
        return run_in_threadpool(fn, assessor)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/health", response_model=S.Health)
    async def health() -> S.Health:
        """Liveness and the batchers' counters (no token needed)."""
        b = [m.batcher for m in served.values()]
        return S.Health(
            status="ok",
            models=list(served),
            pending=sum(x.pending for x in b),
            batches=sum(x.batches for x in b),
            items=sum(x.items for x in b),
        )

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(check_token)], responses=ERRORS)

    @v1.get("/models", response_model=S.ModelList)
    async def list_models() -> S.ModelList:
        """The models loaded at start-up; the first is the default."""
        infos = []
        for m in served.values():
            config = getattr(m.assessor, "config", None)
            infos.append(
                S.ModelInfo(
                    name=m.name,
                    default=m.name == default,
                    kind=str(getattr(m.assessor, "name", type(m.assessor).__name__)),
                    config=config() if callable(config) else {},
                )
            )
        return S.ModelList(models=infos)

    score_body = {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["image"],
                        "properties": {
                            "image": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                            },
                            "model": {"type": "string"},
                        },
                    }
                },
                "application/json": {"schema": _inline(S.ScoreJSON.model_json_schema())},
            },
        }
    }

    @v1.post("/score", response_model=list[S.ScoreRow], openapi_extra=score_body)
    async def score(request: Request) -> list[S.ScoreRow]:
        """Score one or many images (multipart ``image`` fields, or JSON with base64)."""

        async def work() -> list[S.ScoreRow]:
            uploads, model = await _score_inputs(request)
            if len(uploads) > cfg.max_images:
                raise ServeError(f"at most {cfg.max_images} images per request")
            m = pick(model)
            rows = await score_uploads(m, uploads, draft=True)
            return [
                S.ScoreRow(path=n, score=s, std=sd)
                for (n, _), (s, sd) in zip(uploads, rows, strict=True)
            ]

        return await limited(work())

    async def _score_inputs(request: Request) -> tuple[list[tuple[str, bytes | str]], str | None]:
        """``(label, bytes or base64 text)`` per image, and the requested model name."""
        kind = request.headers.get("content-type", "")
        if kind.startswith("application/json"):
            try:
                body = S.ScoreJSON.model_validate(json.loads(await request.body()))
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise ServeError("malformed JSON body", code="bad_json") from None
            except ValidationError as exc:
                raise ServeError(one_line(exc), status=422, code="invalid_request") from None
            if len(body.images) > cfg.max_images:
                raise ServeError(f"at most {cfg.max_images} images per request")
            named: list[tuple[str, bytes | str]] = [
                (im.name or f"image{i}", im.data) for i, im in enumerate(body.images)
            ]
            return named, body.model
        if not kind.startswith("multipart/form-data"):
            raise ServeError("send multipart/form-data (field image) or application/json")
        try:
            form = await request.form(max_files=cfg.max_images, max_fields=16)
        except ServeError:
            raise
        except Exception as exc:  # starlette's multipart errors: malformed or too many parts
            raise ServeError(f"malformed form data ({exc})", code="bad_form") from None
        uploads = [u for u in form.getlist("image") if isinstance(u, FormFile)]
        if not uploads:
            raise ServeError("no file in field 'image'", code="bad_form")
        model = form.get("model")
        read_in: list[tuple[str, bytes | str]] = [
            await upload_bytes(u, f"image{i}") for i, u in enumerate(uploads)
        ]
        return read_in, (model if isinstance(model, str) else None)

    @v1.post("/compare", response_model=S.CompareView)
    async def compare(
        a: UploadFile = File(...), b: UploadFile = File(...), model: str | None = Form(None)
    ) -> S.CompareView:
        """Compare two photos: ``delta = score(b) - score(a)``, its std and P(b better)."""
        from redaes.models.net import pair_view

        async def work() -> S.CompareView:
            m = pick(model)
            pair: list[tuple[str, bytes | str]] = [
                await upload_bytes(a, "a"),
                await upload_bytes(b, "b"),
            ]
            (sa, da), (sb, db) = await score_uploads(m, pair, draft=False)
            (la, _), (lb, _) = pair
            return S.CompareView(a=la, b=lb, score_a=sa, score_b=sb, **pair_view(sa, da, sb, db))

        return await limited(work())

    @v1.post("/explain", response_model=S.ExplainView)
    async def explain(
        image: UploadFile = File(...),
        strength: float = Form(0.25, gt=0.0, le=1.0),
        model: str | None = Form(None),
    ) -> S.ExplainView:
        """Counterfactual effects of edits on the score, largest first, and a short text."""
        from redaes.models.explain import explain as explain_fn

        async def work() -> S.ExplainView:
            m = pick(model)
            label, img = await read(image, "image")
            small = working_copy(img, cfg)
            out = await on_worker(m, lambda a: explain_fn(a, small, strength=strength))
            out["path"] = label
            return S.ExplainView.model_validate(out)

        return await limited(work())

    @v1.post("/suggest", response_model=S.SuggestView)
    async def suggest(
        image: UploadFile = File(...),
        top: int = Form(3, ge=1, le=10),
        model: str | None = Form(None),
    ) -> S.SuggestView:
        """Edit chains that raise the score, best first, with JPEG previews as data URLs."""
        from redaes.edits import EditChain
        from redaes.models.suggest import suggest as suggest_fn

        async def work() -> S.SuggestView:
            m = pick(model)
            label, img = await read(image, "image")
            small = working_copy(img, cfg)
            out = await on_worker(m, lambda a: suggest_fn(a, small, top=top))
            for s in out["suggestions"]:
                chain = EditChain([f"{e['op']}={e['strength']}" for e in s["edits"]])
                edited = await run_in_threadpool(chain.apply_pil, small, seed=0)
                s["preview"] = data_url(edited, cfg.preview_long_side)
            out["path"] = label
            return S.SuggestView.model_validate(out)

        return await limited(work())

    app.include_router(v1)
    return app
