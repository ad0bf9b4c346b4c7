"""ONNX exports agree with the torch fp32 sentence embeddings they were made from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import require
from vibeshelf.embed.encoder import SHIPPED_DIR, OnnxEncoder
from vibeshelf.embed.model_specs import get_spec
from vibeshelf.storage.files import file_sha256

pytestmark = pytest.mark.torch

QUERIES = [
    "cosy mystery in a seaside village",
    "sad books about friendship",
    "epic fantasy with dragons and politics",
    "a feel-good romance for the beach",
    "dark academia",
    "military science fiction with AI",
    "memoir about growing up poor",
    "books like Gone Girl",
    "whimsical children's adventure",
    "philosophy for beginners",
]
BLURBS = [
    ("A young widow opens a tea shop in a Cornish harbour town and finds a body in the storeroom "
    "on her first morning. With help from a nosy neighbour and a one-eyed cat, she has a week to "
    "clear her name."),
    ("Four friends meet every summer at a lake house for thirty years. This is the story of the "
    "summer one of them does not come, and the secrets the others must finally tell."),
    ("The dragon queens are dying, and the seven houses of the empire circle the throne. A "
    "scribe who can read the old tongue becomes the most dangerous person at court."),
    ("On a remote Greek island, a burnt-out lawyer agrees to a fake engagement with the hotel's "
    "charming owner. What could go wrong in one summer of sun, sea and family weddings?"),
    ("At an elite New England college, a circle of classics students grows obsessed with a "
    "charismatic professor, until one of them is found dead in the snow."),
    ("The warship Resolute's new commanding officer is an artificial intelligence, and her "
    "human crew does not trust her. Then the enemy fleet arrives early."),
    ("Raised in a trailer park by a grandmother who swore like a sailor, the author recounts a "
    "childhood of hunger, humour and stubborn love, and the long road to a scholarship."),
    ("On the morning of their fifth anniversary, Amy disappears. Her husband's lies pile up as "
    "the police search the house, and the diary she left behind tells a different story."),
    ("A girl, a talking fox and a flying bathtub set out to find the moon, which has gone "
    "missing from the sky above the village of Little Puddle."),
    ("From Socrates to Simone de Beauvoir, a lively, jargon-free tour of the big questions: how "
    "should we live, what can we know, and is there anything after death?"),
]
TEXTS = QUERIES + BLURBS + [" ".join(BLURBS[i:] + BLURBS[:i]) for i in range(10)]


@pytest.fixture(autouse=True, scope="module")
def _needs_torch() -> None:
    require("torch", "transformers", "onnx")


@pytest.fixture(scope="module")
def torch_module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from vibeshelf.embed.torch_reference import load_torch_module

    return load_torch_module(get_spec("all-MiniLM-L6-v2").locate(tmp_path_factory.mktemp("src")))


def _cosines(torch_module: Any, encoder: OnnxEncoder, texts: list[str]) -> np.ndarray:
    from vibeshelf.embed.torch_reference import torch_embeddings

    return np.sum(encoder.encode(texts) * torch_embeddings(torch_module, encoder, texts), axis=1)


def test_shipped_int8_model_matches_torch(torch_module: Any) -> None:
    shipped = SHIPPED_DIR / "all-minilm-l6-v2"
    encoder = OnnxEncoder(shipped, threads=2)
    cosines = _cosines(torch_module, encoder, TEXTS)
    assert len(cosines) == 30
    assert cosines.mean() >= 0.99
    assert cosines.min() >= 0.97
    meta = json.loads((shipped / "model.json").read_text())
    assert meta["onnx_sha256"] == file_sha256(shipped / "model.onnx")
    assert meta["parity"]["cosine_mean"] >= 0.99


def test_fresh_fp32_export_matches_torch(torch_module: Any, tmp_path: Path) -> None:
    from vibeshelf.embed.export import export_model

    out_dir = tmp_path / "models" / "all-MiniLM-L6-v2" / "fp32"
    report = export_model("all-MiniLM-L6-v2", out_dir, variant="fp32", parity_texts=TEXTS)
    assert report.parity.cosine_mean >= 0.9999
    assert report.fused_attention == 6
    assert sorted(p.name for p in out_dir.parent.iterdir()) == ["fp32"]
    encoder = OnnxEncoder(out_dir, threads=2)
    assert encoder.version.startswith("all-MiniLM-L6-v2/fp32/")
    assert _cosines(torch_module, encoder, TEXTS).mean() >= 0.9999
    batched = encoder.encode(TEXTS, batch_size=8)
    single = np.vstack([encoder.encode([text]) for text in TEXTS])
    np.testing.assert_allclose(batched, single, atol=1e-4)


def test_int8_under_the_gate_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vibeshelf.embed import torch_reference
    from vibeshelf.embed.export import export_model

    monkeypatch.setitem(torch_reference.MEAN_COSINE_GATE, "int8", 0.9999)
    out_dir = tmp_path / "all-MiniLM-L6-v2" / "int8"
    with pytest.raises(torch_reference.ExportError, match="export --variant fp32 instead"):
        export_model("all-MiniLM-L6-v2", out_dir, parity_texts=QUERIES)
    assert list(tmp_path.rglob("*")) == [out_dir.parent]


def test_unknown_variant_is_refused(tmp_path: Path) -> None:
    from vibeshelf.embed.export import ExportError, export_model

    with pytest.raises(ExportError, match="unknown variant"):
        export_model("all-MiniLM-L6-v2", tmp_path / "x", variant="int4")
