"""The bundled model is verified before use, and embeddings are computed once per distinct text."""

import shutil

import numpy as np
import pytest

from synth.embed import Embedder, default_model_manifest, embed_with_cache, resolve_model, text_sha256, verify_model_files
from synth.errors import ModelError


@pytest.fixture(scope="module")
def embedder():
    return Embedder(resolve_model())


def test_default_model_is_verified_and_identified_by_its_weights():
    spec = resolve_model()
    assert spec.name == "all-MiniLM-L6-v2"
    assert spec.model_id.endswith("53aa51172d142c89")


def test_a_tampered_model_is_refused(tmp_path):
    spec = resolve_model()
    copy = tmp_path / "model"
    shutil.copytree(spec.folder, copy, ignore=shutil.ignore_patterns("model.safetensors"))
    (copy / "model.safetensors").symlink_to(spec.folder / "model.safetensors")
    sums = default_model_manifest()["sha256"]
    verify_model_files(copy, sums)  # an exact copy passes
    (copy / "config.json").write_text((copy / "config.json").read_text().replace("384", "385"))
    with pytest.raises(ModelError, match="config.json: SHA-256 .* does not match"):
        verify_model_files(copy, sums)


def test_a_folder_that_is_not_a_model_is_refused(tmp_path):
    with pytest.raises(ModelError, match="not a sentence-transformers model folder"):
        resolve_model(tmp_path)


def test_embeds_each_distinct_text_once_and_reuses_the_cache(embedder):
    texts = ["Childcare costs stopped her taking the job.", "The adviser spoke Urdu.",
             "Childcare costs stopped her taking the job."]
    hashes = [text_sha256(t) for t in texts]
    first = embed_with_cache(texts, hashes, {}, embedder)
    assert (first.computed, first.reused) == (2, 0)
    assert first.vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(first.vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(first.vectors[0], first.vectors[2])
    second = embed_with_cache(texts, hashes, first.new_vectors, embedder)
    assert (second.computed, second.reused) == (0, 2)
    assert np.array_equal(second.vectors, first.vectors)


def test_vectors_match_a_bare_encode(embedder):
    texts = ["Outreach in community centres built trust.", "Employers ignored overseas qualifications."]
    ours = embed_with_cache(texts, [text_sha256(t) for t in texts], {}, embedder).vectors
    bare = embedder.model.encode(texts, normalize_embeddings=True)
    assert np.allclose(ours, bare, atol=1e-5)
