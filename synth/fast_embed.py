"""Faster routes to passage embeddings, each made locally from the verified bundled model.

A route names how passages are turned into vectors:

- ``pytorch``: the bundled sentence-transformers model in PyTorch (on a GPU when one is present).
  Called ``default`` before ``auto`` became the default; that name is still accepted.
- ``onnx``: the same network exported to ONNX (full precision), run by ONNX Runtime: the same
  vectors (cosine 1.0000 to PyTorch's) in less time on a CPU.
- ``onnx-int8``: the same network exported to ONNX with 8-bit weights (per channel, matrix
  multiplications only), run by ONNX Runtime. Same vector space; cosine to the PyTorch vectors
  is about 0.99, and a vector moves slightly (cosine about 0.99) with the other texts in its batch,
  because ONNX Runtime scales the 8-bit activations per batch.
- ``static``: one vector per vocabulary token, distilled from the bundled model with model2vec and
  averaged over a passage's tokens. Orders of magnitude faster, clearly less precise; a different
  vector space (256 dimensions).

``auto`` (what discover uses unless told otherwise) picks one of these per run; see `choose_route`.

Nothing is downloaded: a route's files are built once from the bundled model (after its checksums
were verified) into the user's cache folder, with a manifest of their SHA-256 sums that is checked
on every later use. The vectors' model id names the base model, the route and the checksum of the
built file, so vectors of different routes, or of two different builds, never mix in a project's
cache. A build writes into a temporary folder and renames it into place, so an interrupted build
leaves nothing half-made.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .embed import Embedder, ModelSpec, ProgressFn, file_sha256, resolve_model
from .errors import ModelError
from .vectors import unit

MANIFEST = "synth-route.json"
RECIPE_VERSION = 1  # bump when a build recipe changes: old builds are then rebuilt, never reused


@dataclass(frozen=True)
class Route:
    name: str
    summary: str
    artifact: str                  # the built file whose checksum goes into the model id
    modules: tuple[str, ...] = ()  # Python modules the route needs beyond synth's own dependencies
    pip: str = ""                  # what to install for them


ROUTES: dict[str, Route] = {
    "pytorch": Route("pytorch", "the bundled model in PyTorch (uses a GPU when one is present)", ""),
    "onnx": Route("onnx", "the bundled model exported to ONNX, full precision: the same vectors, about 2x faster "
                          "than PyTorch on a CPU",
                  "model.onnx", ("onnx", "onnxruntime"), "onnx onnxruntime"),
    "onnx-int8": Route("onnx-int8", "the bundled model exported to ONNX with int8 weights: cosine about 0.99 to the "
                                    "PyTorch vectors, about 4x faster than PyTorch on a CPU",
                       "model.onnx", ("onnx", "onnxruntime"), "onnx onnxruntime"),
    "static": Route("static", "static token vectors distilled from the bundled model with model2vec "
                              "(fastest, least precise)",
                    "model.safetensors", ("model2vec", "skeletoken"), "model2vec skeletoken"),
}


AUTO = "auto"
ALIASES = {"default": "pytorch"}  # the PyTorch route's name before `auto` became the default
ROUTE_CHOICES = (AUTO, *ROUTES, *ALIASES)  # what --embedder accepts


def cache_root() -> Path:
    """Where built routes live: $SYNTH_CACHE_DIR, else $XDG_CACHE_HOME/synth, else ~/.cache/synth."""
    if os.environ.get("SYNTH_CACHE_DIR"):
        return Path(os.environ["SYNTH_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "synth"


def route(name: str) -> Route:
    name = ALIASES.get(name, name)
    if name not in ROUTES:
        raise ModelError(f"embedding route {name!r} does not exist; choose one of: {', '.join((AUTO, *ROUTES))}")
    return ROUTES[name]


def route_of_model_id(model_id: str) -> str:
    """Which route made vectors with this model id (`prepare_route` names them `<base>+<route>@<sum>`)."""
    match = re.search(r"\+([a-z0-9-]+)@[0-9a-f]+$", model_id)
    return match.group(1) if match and match.group(1) in ROUTES else "pytorch"


@dataclass(frozen=True)
class RouteChoice:
    name: str    # a concrete route, never `auto`
    reason: str  # why it was chosen, for the user


def choose_route(requested: str, model_dir: str | Path | None = None, *, previous: str | None = None,
                 root: Path | None = None) -> RouteChoice:
    """The concrete route for a run. A named route is taken as asked. `auto` keeps the route of
    the project's latest run (its vectors are in the cache, and its themes were built from them),
    unless that was `static`; otherwise it takes PyTorch on a GPU, else `onnx` (the same vectors
    as PyTorch, about 2x faster on a CPU) when ONNX Runtime is installed and the model can be
    exported, else PyTorch."""
    if requested != AUTO:
        return RouteChoice(route(requested).name, "asked for with --embedder")
    kept = ALIASES.get(previous, previous) if previous else None
    if kept in ROUTES and kept != "static" and _installed(ROUTES[kept]):
        return RouteChoice(kept, "auto: the route of the project's latest run, whose vectors are cached")
    if _gpu_present():
        return RouteChoice("pytorch", "auto: a GPU is present")
    if not _installed(ROUTES["onnx"]):
        return RouteChoice("pytorch", "auto: ONNX Runtime is not installed (pip install onnx onnxruntime for a "
                                      "route about 2x faster with the same vectors)")
    try:
        prepare_route("onnx", resolve_model(model_dir), root=root)
    except ModelError as exc:  # not exportable, or the cache folder cannot be written: PyTorch needs no build
        return RouteChoice("pytorch", f"auto: the onnx route cannot be used ({exc})")
    return RouteChoice("onnx", "auto: ONNX Runtime on the CPU, the same vectors as PyTorch in less time")


def route_folder(name: str, base: ModelSpec, root: Path | None = None) -> Path:
    safe_id = re.sub(r"[^A-Za-z0-9._-]+", "_", base.model_id)
    return (root or cache_root()) / "embedders" / safe_id / name


def prepare_route(name: str, base: ModelSpec | None = None, *, root: Path | None = None,
                  rebuild: bool = False) -> ModelSpec:
    """The route's model, built from `base` (default: the bundled model) on first use, verified on every use."""
    spec_route = route(name)
    name = spec_route.name
    base = base or resolve_model()
    if name == "pytorch":
        return base
    _require(spec_route)
    folder = route_folder(name, base, root)
    manifest = _read_manifest(folder)
    if rebuild or manifest is None or manifest.get("recipe") != RECIPE_VERSION:
        try:
            _build(spec_route, base, folder)
        except OSError as exc:
            raise ModelError(f"{folder}: cannot build the {name} route there ({exc.strerror or exc}); "
                             "set SYNTH_CACHE_DIR to a folder synth can write to") from exc
        manifest = _read_manifest(folder)
        assert manifest is not None
    if manifest.get("route") != name or manifest.get("base_model_id") != base.model_id:
        raise ModelError(f"{folder}: built for {manifest.get('route')!r} from {manifest.get('base_model_id')!r}, "
                         f"not {name!r} from {base.model_id!r}; delete the folder and synth rebuilds it")
    for relative, expected in manifest["sha256"].items():
        path = folder / relative
        if not path.exists() or file_sha256(path) != expected:
            raise ModelError(f"{path}: missing or changed since synth built it; delete {folder} and synth rebuilds it")
    artifact_sum = manifest["sha256"][spec_route.artifact]
    return ModelSpec(f"{base.name}+{name}", folder, f"{base.model_id}+{name}@{artifact_sum[:16]}")


def embedder_for(name: str = "pytorch", model_dir: str | Path | None = None, *, batch_size: int | None = None,
                 root: Path | None = None) -> Embedder | OnnxEmbedder | StaticEmbedder:
    """An encoder for the route with `Embedder`'s contract: `.spec` and `.encode(texts, progress)`.

    The route is built on first use (about 10 s for onnx and onnx-int8, about a minute for static); after
    that this only checks the built files' checksums.
    """
    name = route(name).name
    base = resolve_model(model_dir)
    if name == "pytorch":
        return Embedder(base) if batch_size is None else Embedder(base, batch_size=batch_size)
    spec = prepare_route(name, base, root=root)
    if name in ("onnx", "onnx-int8"):
        return OnnxEmbedder(spec) if batch_size is None else OnnxEmbedder(spec, batch_size=batch_size)
    return StaticEmbedder(spec)


class OnnxEmbedder:
    """Runs an onnx or onnx-int8 route: tokenise everything, sort by length, run padded batches, restore order."""

    def __init__(self, spec: ModelSpec, *, batch_size: int = 64, threads: int | None = None) -> None:
        self.spec = spec
        self.batch_size = batch_size
        self.threads = threads
        self._session = None
        self._tokenizer = None

    def _load(self) -> None:
        if self._session is not None:
            return
        import onnxruntime as ort
        from tokenizers import Tokenizer

        config = json.loads((self.spec.folder / MANIFEST).read_text(encoding="utf-8"))
        tokenizer = Tokenizer.from_file(str(self.spec.folder / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(int(config["max_seq_length"]))
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads or _usable_cores()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(self.spec.folder / "model.onnx"), options,
                                                 providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for unreadable models
            raise ModelError(f"{self.spec.folder / 'model.onnx'}: ONNX Runtime cannot load it ({exc}); "
                             f"delete {self.spec.folder} and synth rebuilds it") from exc
        self._tokenizer = tokenizer

    def encode(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        self._load()
        ids = self._token_ids(texts)
        # One global sort by length: batches of similar length waste almost nothing on padding.
        order = np.argsort(np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids)), kind="stable")
        out: np.ndarray | None = None
        step = self.batch_size
        report_every = max(1, len(texts) // 200)
        last_reported = 0
        for start in range(0, len(order), step):
            rows = order[start:start + step]
            width = max(len(ids[i]) for i in rows)
            input_ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                input_ids[r, :len(ids[i])] = ids[i]
                mask[r, :len(ids[i])] = 1
            vectors = self._session.run(None, {"input_ids": input_ids, "attention_mask": mask,
                                               "token_type_ids": np.zeros_like(input_ids)})[0]
            if out is None:
                out = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
            out[rows] = vectors
            done = min(start + step, len(texts))
            if progress and (done - last_reported >= report_every or done == len(texts)):
                progress(done, len(texts))
                last_reported = done
        assert out is not None
        return unit(out).astype(np.float32, copy=False)

    def _token_ids(self, texts: Sequence[str]) -> list[np.ndarray]:
        # Token ids only, as small arrays: the tokenizer's full Encoding objects for 100,000 passages
        # would take hundreds of megabytes.
        ids: list[np.ndarray] = []
        for start in range(0, len(texts), 4096):
            batch = self._tokenizer.encode_batch(list(texts[start:start + 4096]))
            ids.extend(np.asarray(e.ids, dtype=np.int64) for e in batch)
        return ids


class StaticEmbedder:
    """Runs a static route: the mean of the passage's token vectors (model2vec), L2-normalised."""

    def __init__(self, spec: ModelSpec, *, batch_size: int = 2048) -> None:
        self.spec = spec
        self.batch_size = batch_size
        self._model = None

    def encode(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        if self._model is None:
            from model2vec import StaticModel

            self._model = StaticModel.from_pretrained(str(self.spec.folder))
        parts = []
        for start in range(0, len(texts), self.batch_size):
            part = self._model.encode(list(texts[start:start + self.batch_size]), batch_size=self.batch_size,
                                      use_multiprocessing=False)
            parts.append(np.asarray(part, dtype=np.float32))
            if progress:
                progress(min(start + self.batch_size, len(texts)), len(texts))
        return unit(np.vstack(parts)).astype(np.float32, copy=False)


def _build(spec_route: Route, base: ModelSpec, folder: Path) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.building-", dir=folder.parent))
    try:
        extra = _BUILDERS[spec_route.name](base, work)
        sums = {p.relative_to(work).as_posix(): file_sha256(p) for p in sorted(work.rglob("*")) if p.is_file()}
        manifest = {"route": spec_route.name, "recipe": RECIPE_VERSION, "base_model_id": base.model_id,
                    "base_folder": str(base.folder), "sha256": sums, **extra}
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        try:
            os.replace(work, folder)
        except OSError:
            if _read_manifest(folder) is None:  # not another process finishing the same build first
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _build_onnx(base: ModelSpec, out: Path, *, int8: bool = False) -> dict:
    import torch
    from transformers import AutoModel

    max_seq_length = _check_mean_pooling_model(base)
    model = AutoModel.from_pretrained(str(base.folder))
    model.eval()
    fp32 = out / "model-fp32.onnx"
    dummy = torch.ones((2, 16), dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the tracer's notes about Python control flow in the model
        torch.onnx.export(_mean_pooled(model), (dummy, dummy, torch.zeros_like(dummy)), str(fp32), dynamo=False,
                          input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["embedding"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                                        "embedding": {0: "batch"}},
                          opset_version=17)
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # Per-channel int8 weights of the matrix multiplications only: about 0.99 cosine to the
        # full-precision vectors; per-tensor quantisation of every op drops that to about 0.96.
        with _quiet_root_logger():
            quantize_dynamic(str(fp32), str(out / "model.onnx"), weight_type=QuantType.QInt8, per_channel=True,
                             op_types_to_quantize=["MatMul"])
        fp32.unlink()
    else:
        fp32.rename(out / "model.onnx")
    shutil.copyfile(base.folder / "tokenizer.json", out / "tokenizer.json")
    return {"max_seq_length": max_seq_length}


def _build_static(base: ModelSpec, out: Path) -> dict:
    from model2vec.distill import distill

    _check_mean_pooling_model(base)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = distill(str(base.folder), pca_dims=256, device="cpu")
    model.save_pretrained(str(out))
    return {"pca_dims": 256}


_BUILDERS = {"onnx": _build_onnx, "onnx-int8": functools.partial(_build_onnx, int8=True), "static": _build_static}


def _mean_pooled(model):
    """The transformer plus sentence-transformers' mean pooling and normalisation, as one exportable module."""
    import torch

    class MeanPooled(torch.nn.Module):
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    return MeanPooled(model)


def _check_mean_pooling_model(base: ModelSpec) -> int:
    """The routes re-create Transformer → mean Pooling (→ Normalize); refuse any other module stack."""
    try:
        modules = json.loads((base.folder / "modules.json").read_text(encoding="utf-8"))
        pooling = json.loads((base.folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        config = json.loads((base.folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{base.folder}: cannot read its sentence-transformers configuration ({exc})") from exc
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    # sentence-transformers 5+ writes {"pooling_mode": "mean"} where older versions wrote
    # {"pooling_mode_mean_tokens": true}; a model a user fine-tuned and saved lately has the new form.
    mean = pooling.get("pooling_mode_mean_tokens") or pooling.get("pooling_mode") == "mean"
    if kinds[:2] != ["Transformer", "Pooling"] or any(k != "Normalize" for k in kinds[2:]) or not mean:
        raise ModelError(f"{base.folder}: modules {kinds} with pooling {pooling}; the faster routes support only "
                         "Transformer + mean Pooling (+ Normalize) models; use --embedder pytorch")
    if "max_seq_length" in config:
        return int(config["max_seq_length"])
    try:  # the new form keeps the limit with the tokenizer
        return int(json.loads((base.folder / "tokenizer_config.json").read_text(encoding="utf-8"))["model_max_length"])
    except (OSError, ValueError, KeyError):
        return 256


def _missing_modules(spec_route: Route) -> list[str]:
    import importlib.util

    return [m for m in spec_route.modules if importlib.util.find_spec(m) is None]


def _installed(spec_route: Route) -> bool:
    return not _missing_modules(spec_route)


def _require(spec_route: Route) -> None:
    missing = _missing_modules(spec_route)
    if missing:
        raise ModelError(f"embedding route {spec_route.name!r} needs the Python package(s) {', '.join(missing)}; "
                         f"install them (pip install {spec_route.pip}) or use --embedder pytorch")


def _gpu_present() -> bool:
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        return False
    import torch  # already imported by spaCy's thinc in a synth process, so this costs nothing there

    return bool(torch.cuda.is_available())


def _read_manifest(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def _quiet_root_logger() -> Iterator[None]:
    # onnxruntime's quantiser advises pre-processing through the root logger; that advice is for image models.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)
