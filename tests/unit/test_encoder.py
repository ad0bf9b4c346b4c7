"""The shipped int8 ONNX sentence encoder, run for real (no torch needed)."""

from __future__ import annotations

import re
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Encoding

from vibeshelf.config.core import ModelSettings
from vibeshelf.embed.encoder import (
    SHIPPED_DIR,
    Encoder,
    ModelNotFoundError,
    OnnxEncoder,
    load_encoder,
    resolve_model_dir,
)

COSY = (
    "Retired schoolteacher Agatha Pim and her ginger cat investigate a poisoning at the village "
    "fete, sharing tea and gossip with the vicar while the tea shop hides a killer."
)
SPACE = (
    "A disgraced starship pilot leads a crew of rebels across the galaxy, fighting an empire's "
    "fleet of dreadnoughts in a sweeping interstellar war for the last habitable planet."
)
MIXED = [
    "hi",
    COSY,
    "a grumpy wizard and a sunshine baker fall in love " * 12,
    "murder",
    SPACE,
    "books about grief",
    " ".join([COSY, SPACE] * 3),
]


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> OnnxEncoder:
    """The default model, loaded from the package (the data dir's models folder is empty)."""
    return load_encoder(ModelSettings(), tmp_path_factory.mktemp("models"))


def test_shape_dtype_and_unit_norms(encoder: OnnxEncoder) -> None:
    vectors = encoder.encode(MIXED)
    assert isinstance(encoder, Encoder)
    assert vectors.shape == (len(MIXED), encoder.dim) == (7, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encoder.normalization == "l2"
    assert re.fullmatch(r"all-MiniLM-L6-v2/int8/[0-9a-f]{12}", encoder.version)


def test_order_is_preserved_with_mixed_lengths(encoder: OnnxEncoder) -> None:
    forward = encoder.encode(MIXED, batch_size=3)
    backward = encoder.encode(MIXED[::-1], batch_size=3)[::-1]
    np.testing.assert_allclose(forward, backward, atol=1e-4)
    assert not np.allclose(forward[0], forward[1], atol=1e-2)


def test_batch_equals_one_by_one(encoder: OnnxEncoder) -> None:
    batched = encoder.encode(MIXED, batch_size=32)
    single = np.vstack([encoder.encode([text]) for text in MIXED])
    np.testing.assert_allclose(batched, single, atol=1e-4)


def test_long_text_is_truncated(encoder: OnnxEncoder) -> None:
    long = " ".join([COSY] * 60)
    assert len(encoder.tokenize([long])[0].ids) == encoder.max_tokens == 256
    head, with_tail = encoder.encode([long, long + " then a spaceship explodes"])
    np.testing.assert_allclose(head, with_tail, atol=1e-6)


def test_empty_input_gives_empty_matrix(encoder: OnnxEncoder) -> None:
    vectors = encoder.encode([])
    assert vectors.shape == (0, 384)
    assert vectors.dtype == np.float32


def test_semantic_sanity(encoder: OnnxEncoder) -> None:
    query, cosy, space = encoder.encode(
        ["a cosy village mystery with an amateur sleuth and a cat", COSY, SPACE]
    )
    assert query @ cosy > query @ space + 0.1


def test_progress_bar_is_labelled(encoder: OnnxEncoder, capsys: pytest.CaptureFixture[str]) -> None:
    encoder.encode(MIXED, progress=True)
    assert "embed" in capsys.readouterr().err


def test_concurrent_callers_get_their_own_vectors(encoder: OnnxEncoder) -> None:
    jobs = [[f"{text} (reader {i})" for text in MIXED[i % 3 :]] for i in range(8)]
    expected = [encoder.encode(texts) for texts in jobs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            results = list(pool.map(lambda texts: encoder.encode(texts, batch_size=2), jobs))
            for got, want in zip(results, expected, strict=True):
                np.testing.assert_allclose(got, want, atol=1e-5)


def test_missing_path_says_how_to_export(tmp_path: Path) -> None:
    settings = ModelSettings(path=tmp_path / "nowhere")
    with pytest.raises(ModelNotFoundError, match="vibeshelf model export --model all-MiniLM-L6-v2"):
        load_encoder(settings, tmp_path)


def test_missing_variant_says_how_to_export(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="--variant fp32"):
        load_encoder(ModelSettings(variant="fp32"), tmp_path)


def test_resolution_order(tmp_path: Path) -> None:
    shipped = SHIPPED_DIR / "all-minilm-l6-v2"
    assert resolve_model_dir(ModelSettings(), tmp_path) == shipped
    exported = tmp_path / "all-MiniLM-L6-v2" / "int8"
    exported.mkdir(parents=True)
    for item in shipped.iterdir():
        (exported / item.name).symlink_to(item)
    assert resolve_model_dir(ModelSettings(), tmp_path) == exported
    chosen = tmp_path / "elsewhere"
    shutil.copytree(exported, chosen, symlinks=True)
    assert resolve_model_dir(ModelSettings(path=chosen), tmp_path) == chosen


def test_bulk_streams_give_the_same_vectors_in_order(
    encoder: OnnxEncoder, tmp_path_factory: pytest.TempPathFactory
) -> None:
    bulk = load_encoder(ModelSettings(threads=3), tmp_path_factory.mktemp("models"), bulk=True)
    assert (bulk.streams, encoder.streams) == (3, 1)
    texts = [f"{text} (copy {i})" for i in range(4) for text in MIXED]
    np.testing.assert_array_equal(bulk.encode(texts, progress=True), encoder.encode(texts))


def test_spread_runs_one_call_on_several_threads_with_the_same_vectors(
    encoder: OnnxEncoder,
) -> None:
    assert encoder.spread(1) is encoder
    spread = encoder.spread(2)
    assert (spread.streams, encoder.streams) == (2, 1)
    threads: set[str] = set()
    run = spread._run

    def noting_thread(encodings: list[Encoding]) -> np.ndarray:
        threads.add(threading.current_thread().name)
        return run(encodings)

    spread._run = noting_thread  # type: ignore[method-assign]
    texts = [f"{text} (copy {i})" for i in range(3) for text in MIXED]
    np.testing.assert_array_equal(spread.encode(texts), encoder.encode(texts))
    assert len(threads) == 2, threads
