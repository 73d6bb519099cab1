"""The faster embedding routes: built locally from the verified bundled model, checked on every use,
named apart in the cache, and close to the default model's vectors."""

import importlib.util
import os

import numpy as np
import pytest

from synth import fast_embed
from synth.embed import Embedder, embed_with_cache, resolve_model, text_sha256
from synth.errors import ModelError
from synth.fast_embed import RouteChoice, choose_route, embedder_for, prepare_route, route_folder, route_of_model_id

needs_onnx = pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("onnx") is None,
                                reason="the onnx-int8 route needs onnx and onnxruntime (pip install onnx onnxruntime)")

TEXTS = [
    "Childcare costs stopped her taking the job.",
    "The nursery fees were more than she would earn in a month.",
    "Employers ignored overseas qualifications.",
    "Her engineering degree from abroad counted for nothing with recruiters.",
    "Outreach in community centres built trust with families.",
    "Meeting people where they already gather made them willing to talk.",
    "The adviser spoke Urdu.",
    "Requirements kept changing after the contract was signed, and nobody owned the backlog.",
]


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory):
    return tmp_path_factory.mktemp("synth-cache")


@pytest.fixture(scope="module")
def onnx_embedder(cache_root):
    return embedder_for("onnx-int8", root=cache_root)


@pytest.fixture(scope="module")
def default_vectors():
    return Embedder(resolve_model()).encode(TEXTS)


def test_an_unknown_route_names_the_ones_that_exist():
    with pytest.raises(ModelError, match="'gpu-magic' does not exist; choose one of: auto, pytorch, onnx, onnx-int8, static"):
        embedder_for("gpu-magic")


def test_the_pytorch_route_is_the_plain_embedder_and_keeps_its_old_name():
    for name in ("pytorch", "default"):
        embedder = embedder_for(name)
        assert isinstance(embedder, Embedder)
        assert embedder.spec == resolve_model()


def test_a_named_route_is_taken_as_asked():
    assert choose_route("pytorch", previous="onnx").name == "pytorch"
    assert choose_route("default").name == "pytorch"
    assert choose_route("static", previous="pytorch") == RouteChoice("static", "asked for with --embedder")


def test_auto_keeps_the_route_of_the_latest_run_so_its_cached_vectors_are_used():
    choice = choose_route("auto", previous="pytorch")
    assert choice.name == "pytorch" and "latest run" in choice.reason
    assert choose_route("auto", previous="default").name == "pytorch"  # runs made before the rename


def test_the_route_of_a_run_is_read_from_its_model_id():
    base = resolve_model().model_id
    assert route_of_model_id(base) == "pytorch"
    assert route_of_model_id(f"{base}+onnx@0123456789abcdef") == "onnx"
    assert route_of_model_id(f"{base}+onnx-int8@0123456789abcdef") == "onnx-int8"
    assert route_of_model_id("my+model@12ab") == "pytorch"  # a user's model name, not a route


def test_auto_falls_back_to_pytorch_without_onnx_runtime(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("onnx", "onnxruntime") else real_find_spec(name, *a))
    choice = choose_route("auto")
    assert choice.name == "pytorch" and "ONNX Runtime is not installed" in choice.reason
    assert choose_route("auto", previous="onnx").name == "pytorch"


@needs_onnx
@pytest.mark.skipif(fast_embed._gpu_present(), reason="with a GPU, auto takes PyTorch")
def test_auto_takes_onnx_on_a_cpu_and_never_keeps_static(cache_root):
    for previous in (None, "static"):
        choice = choose_route("auto", previous=previous, root=cache_root)
        assert choice.name == "onnx", choice
    assert choose_route("auto", previous="onnx-int8", root=cache_root).name == "onnx-int8"


@needs_onnx
def test_auto_falls_back_to_pytorch_for_a_model_onnx_cannot_rebuild(tmp_path, cache_root):
    import shutil

    base = resolve_model()
    copy = tmp_path / "model"
    shutil.copytree(base.folder, copy)
    (copy / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}')
    choice = choose_route("auto", copy, root=cache_root)
    assert choice.name == "pytorch" and "support only Transformer + mean Pooling" in choice.reason


def test_cache_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SYNTH_CACHE_DIR", str(tmp_path / "here"))
    assert fast_embed.cache_root() == tmp_path / "here"
    monkeypatch.delenv("SYNTH_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert fast_embed.cache_root() == tmp_path / "xdg" / "synth"


@needs_onnx
def test_onnx_route_has_its_own_model_id_so_cached_vectors_never_mix(onnx_embedder, tmp_path):
    from synth.store import Project

    base = resolve_model()
    assert onnx_embedder.spec.model_id.startswith(base.model_id + "+onnx-int8@")
    texts = TEXTS[:2]
    hashes = [text_sha256(t) for t in texts]
    with Project.open(tmp_path / "p.synth") as project:
        with project.transaction():
            project.store_embeddings(base.model_id, dict(zip(hashes, Embedder(base).encode(texts))))
        assert len(project.cached_embeddings(base.model_id, hashes)) == 2
        cached = project.cached_embeddings(onnx_embedder.spec.model_id, hashes)
    assert cached == {}
    assert embed_with_cache(texts, hashes, cached, onnx_embedder).computed == 2


@needs_onnx
def test_onnx_vectors_are_close_to_the_default_models(onnx_embedder, default_vectors):
    vectors = onnx_embedder.encode(TEXTS)
    assert vectors.shape == default_vectors.shape == (len(TEXTS), 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(vectors * default_vectors, axis=1)
    assert cosines.min() > 0.95, cosines
    # Neighbours agree up to what int8 rounding can move (cosine ~0.99 moves a similarity by a few
    # hundredths; BLAS and CPU features move it too): each text's nearest other text under one
    # model is, under the other, within 0.05 of the best; and where the default model's nearest
    # is clear (0.1 ahead of the runner-up: the pairs in TEXTS), both models pick it. An exact
    # argmax comparison failed on another machine for text 7, whose two best are 0.01 apart.
    def similarities(v):
        sims = v @ v.T
        np.fill_diagonal(sims, -np.inf)
        return sims
    fast, base = similarities(vectors), similarities(default_vectors)
    for one, other in ((fast, base), (base, fast)):
        picked = other[np.arange(len(TEXTS)), one.argmax(axis=1)]
        assert np.all(picked >= other.max(axis=1) - 0.05), (picked, other.max(axis=1))
    ranked = np.sort(base, axis=1)
    clear = ranked[:, -1] - ranked[:, -2] > 0.1
    assert clear.sum() >= 4  # the test keeps its teeth: the two clear pairs
    assert list(fast.argmax(axis=1)[clear]) == list(base.argmax(axis=1)[clear])


@needs_onnx
def test_full_precision_onnx_gives_the_default_models_vectors(cache_root, default_vectors):
    embedder = embedder_for("onnx", root=cache_root)
    assert "+onnx@" in embedder.spec.model_id
    vectors = embedder.encode(TEXTS)
    assert np.allclose(vectors, default_vectors, atol=1e-4)


@needs_onnx
def test_onnx_keeps_input_order_across_length_sorted_batches(cache_root):
    embedder = fast_embed.OnnxEmbedder(prepare_route("onnx-int8", root=cache_root), batch_size=3)
    together = embedder.encode(TEXTS)
    assert np.array_equal(together, embedder.encode(TEXTS))  # same texts, same batches: same vectors
    alone = np.vstack([embedder.encode([t]) for t in TEXTS])
    # int8 activations are scaled per batch, so a text's vector moves a little with its batch-mates
    # (cosine about 0.99), but each stays far closer to itself than to any other text.
    assert np.all(np.sum(together * alone, axis=1) > 0.98)
    assert list((together @ alone.T).argmax(axis=1)) == list(range(len(TEXTS)))


@needs_onnx
def test_onnx_reports_progress_and_handles_no_texts(onnx_embedder):
    seen = []
    onnx_embedder.encode(TEXTS, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (len(TEXTS), len(TEXTS))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert onnx_embedder.encode([]).shape == (0, 0)


@needs_onnx
def test_a_built_route_is_reused_not_rebuilt(cache_root, onnx_embedder):
    model = onnx_embedder.spec.folder / "model.onnx"
    before = model.stat().st_mtime_ns
    again = prepare_route("onnx-int8", root=cache_root)
    assert again == onnx_embedder.spec
    assert model.stat().st_mtime_ns == before


@needs_onnx
def test_a_changed_build_is_refused(tmp_path, cache_root, onnx_embedder):
    import shutil

    root = tmp_path / "cache"
    folder = route_folder("onnx-int8", resolve_model(), root)
    shutil.copytree(onnx_embedder.spec.folder, folder)
    assert prepare_route("onnx-int8", root=root) == fast_embed.ModelSpec(
        onnx_embedder.spec.name, folder, onnx_embedder.spec.model_id)
    with (folder / "model.onnx").open("r+b") as fh:
        fh.seek(-16, os.SEEK_END)
        fh.write(b"\0" * 16)
    with pytest.raises(ModelError, match=r"model\.onnx: missing or changed since synth built it; delete"):
        prepare_route("onnx-int8", root=root)


def test_an_interrupted_build_leaves_nothing_behind(tmp_path, monkeypatch):
    def interrupted(base, out):
        (out / "model.onnx").write_bytes(b"half written")
        raise KeyboardInterrupt

    monkeypatch.setitem(fast_embed._BUILDERS, "onnx-int8", interrupted)
    monkeypatch.setattr(fast_embed, "_require", lambda route: None)
    with pytest.raises(KeyboardInterrupt):
        prepare_route("onnx-int8", root=tmp_path)
    folder = route_folder("onnx-int8", resolve_model(), tmp_path)
    assert not folder.exists()
    assert list(folder.parent.iterdir()) == []


def test_a_model_the_routes_cannot_rebuild_is_refused(tmp_path):
    import shutil

    base = resolve_model()
    copy = tmp_path / "model"
    shutil.copytree(base.folder, copy, ignore=shutil.ignore_patterns("model.safetensors"))
    (copy / "model.safetensors").symlink_to(base.folder / "model.safetensors")
    (copy / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}')
    with pytest.raises(ModelError, match="support only Transformer \\+ mean Pooling"):
        fast_embed._check_mean_pooling_model(resolve_model(copy))
    # sentence-transformers 5+ writes the pooling as one field (a model saved by it lately is so):
    # mean pooling is accepted in that form too, any other refused.
    (copy / "1_Pooling" / "config.json").write_text('{"embedding_dimension": 384, "pooling_mode": "cls"}')
    with pytest.raises(ModelError, match="support only Transformer \\+ mean Pooling"):
        fast_embed._check_mean_pooling_model(resolve_model(copy))
    (copy / "1_Pooling" / "config.json").write_text('{"embedding_dimension": 384, "pooling_mode": "mean", '
                                                     '"include_prompt": true}')
    assert fast_embed._check_mean_pooling_model(resolve_model(copy)) == fast_embed._check_mean_pooling_model(base)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("model2vec") is None or importlib.util.find_spec("skeletoken") is None,
                    reason="the static route needs model2vec and skeletoken (pip install model2vec skeletoken)")
def test_static_route_is_its_own_space_and_keeps_neighbours(cache_root, default_vectors):
    embedder = embedder_for("static", root=cache_root)  # distils once: about a minute on two cores
    assert "+static@" in embedder.spec.model_id
    vectors = embedder.encode(TEXTS)
    assert vectors.shape == (len(TEXTS), 256)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Coarser than the transformer, but related texts still come out closer than unrelated ones.
    sims = vectors @ vectors.T
    assert sims[0, 1] > sims[0, 2] and sims[2, 3] > sims[2, 6]


@needs_onnx
@pytest.mark.skipif(fast_embed._gpu_present(), reason="with a GPU, auto takes PyTorch")
def test_auto_falls_back_to_pytorch_when_the_cache_folder_cannot_be_written(tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would go")
    choice = choose_route("auto", root=blocked)
    assert choice.name == "pytorch" and "cannot build the onnx route there" in choice.reason
    assert str(blocked) in choice.reason and "SYNTH_CACHE_DIR" in choice.reason


@needs_onnx
def test_a_named_route_that_cannot_be_built_is_a_clear_error(tmp_path, synth, monkeypatch):
    from conftest import DEMO, file_digest

    project = tmp_path / "review.synth"
    synth.ok("ingest", project, DEMO)
    before = file_digest(project)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would go")
    monkeypatch.setenv("SYNTH_CACHE_DIR", str(blocked))
    result = synth("discover", project, "--embedder", "onnx-int8")
    assert result.exit_code != 0
    assert "cannot build the onnx-int8 route there" in result.output and str(blocked) in result.output
    assert file_digest(project) == before
