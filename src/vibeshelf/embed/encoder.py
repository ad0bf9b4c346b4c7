"""Sentence encoder: an exported ONNX graph run by ONNX Runtime, tokenised by `tokenizers`."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import onnxruntime as ort
from tokenizers import Encoding, Tokenizer
from tqdm import tqdm

from vibeshelf.config.core import ModelSettings
from vibeshelf.embed.model_specs import ModelNotFoundError
from vibeshelf.storage.files import file_sha256

log = logging.getLogger(__name__)

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "model.json"
SHIPPED_DIR = Path(__file__).resolve().parent / "models"
EXPORT_INSTALL_HINT = "pip install torch==2.13.0 'vibeshelf[export]'"


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text, in input order."""

    name: str
    version: str
    dim: int
    normalization: str

    def encode(
        self, texts: Sequence[str], *, batch_size: int | None = None, progress: bool = False
    ) -> np.ndarray: ...


@runtime_checkable
class TokenizingEncoder(Encoder, Protocol):
    """An Encoder that also shows its tokenizer: token counts, truncation, and ids back to text."""

    max_tokens: int
    vocab_size: int

    def tokenize(self, texts: Sequence[str]) -> list[Encoding]: ...

    def decode(self, ids: Sequence[int]) -> str: ...


@dataclass(frozen=True)
class ModelMeta:
    """The parts of `model.json` the encoder needs."""

    name: str
    variant: str
    dim: int
    max_tokens: int

    @classmethod
    def read(cls, model_dir: Path) -> ModelMeta:
        raw = json.loads((model_dir / META_FILE).read_text())
        return cls(raw["name"], raw["variant"], int(raw["dim"]), int(raw["max_tokens"]))


class OnnxEncoder:
    """A model directory (model.onnx, tokenizer.json, model.json) served on the CPU.

    `encode` is safe to call from many threads: the ORT session is, and the tokenizer is
    configured once here and only read afterwards.

    int8 graphs quantise activations per tensor at run time, so a text's vector would depend on
    the other texts in its batch (cosine down to ~0.98); they run one text per ORT call, which
    keeps vectors deterministic and, with no padding, is no slower on a few cores.

    `streams` > 1 runs that many ORT calls at once from one `encode` (each with `threads`
    intra-op threads): for bulk encoding, where independent one-text runs on separate cores
    finish more texts per second than one run split over them. Vectors are the same either way.
    """

    normalization = "l2"

    def __init__(
        self,
        model_dir: Path,
        *,
        threads: int = 1,
        streams: int = 1,
        batch_size: int = 32,
        max_tokens: int | None = None,
    ) -> None:
        meta = ModelMeta.read(model_dir)
        model_path = model_dir / MODEL_FILE
        self.model_dir = model_dir
        self.name = meta.name
        self.variant = meta.variant
        self.dim = meta.dim
        self.batch_size = batch_size
        self.streams = streams
        self._pool = ThreadPoolExecutor(streams, thread_name_prefix="encode") if streams > 1 else None
        self._rows_per_run = 1 if meta.variant == "int8" else None
        self.max_tokens = min(max_tokens or meta.max_tokens, meta.max_tokens)
        self.version = f"{meta.name}/{meta.variant}/{file_sha256(model_path)[:12]}"
        self._session = ort.InferenceSession(
            str(model_path), _session_options(threads), providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._output = self._session.get_outputs()[0].name
        self._tokenizer, self._pad_id = _load_tokenizer(model_dir / TOKENIZER_FILE, self.max_tokens)
        log.info("loaded %s from %s (%d threads x %d streams)", self.version, model_dir, threads, streams)

    def encode(
        self, texts: Sequence[str], *, batch_size: int | None = None, progress: bool = False
    ) -> np.ndarray:
        """Unit vectors (n, dim) float32 in input order; batches texts of similar token length."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenize(texts)
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")
        size = self._rows_per_run or batch_size or self.batch_size
        batches = [order[start : start + size] for start in range(0, len(order), size)]

        def run(rows: np.ndarray) -> np.ndarray:
            return self._run([encodings[i] for i in rows])

        runs = self._pool.map(run, batches) if self._pool and len(batches) > 1 else map(run, batches)
        with tqdm(
            total=len(texts), desc="embed", unit="doc", disable=not progress, mininterval=1.0
        ) as bar:
            for rows, vectors in zip(batches, runs, strict=True):
                out[rows] = vectors
                bar.update(len(rows))
        return out

    def spread(self, streams: int) -> OnnxEncoder:
        """This encoder (the same ORT session and tokenizer) running up to `streams` ORT calls at
        once from one `encode` call; itself when it already does."""
        if streams <= self.streams:
            return self
        twin = copy.copy(self)
        twin.streams = streams
        twin._pool = ThreadPoolExecutor(streams, thread_name_prefix="encode")
        return twin

    def _run(self, encodings: list[Encoding]) -> np.ndarray:
        """One ORT call on a batch padded to its longest member."""
        feeds = pad_batch(encodings, self._pad_id, self._inputs)
        (vectors,) = self._session.run([self._output], feeds)
        return l2_normalize(vectors.astype(np.float32, copy=False))

    def tokenize(self, texts: Sequence[str]) -> list[Encoding]:
        """Token ids as this encoder feeds them (truncated, not padded; the cut-off part in
        each Encoding's `overflowing`)."""
        return self._tokenizer.encode_batch(list(texts))

    def decode(self, ids: Sequence[int]) -> str:
        """The text of token ids (special tokens dropped); ids must be below `vocab_size`."""
        return self._tokenizer.decode(list(ids))

    @property
    def vocab_size(self) -> int:
        return self._tokenizer.get_vocab_size()

    @property
    def pad_id(self) -> int:
        return self._pad_id


def pad_batch(
    encodings: Sequence[Encoding], pad_id: int, names: Collection[str]
) -> dict[str, np.ndarray]:
    """int64 model inputs (those in `names`) for a batch padded to its longest member."""
    length = max(len(e.ids) for e in encodings)
    ids = np.full((len(encodings), length), pad_id, dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for row, enc in enumerate(encodings):
        n = len(enc.ids)
        ids[row, :n] = enc.ids
        mask[row, :n] = 1
        types[row, :n] = enc.type_ids
    feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    return {name: value for name, value in feeds.items() if name in names}


def load_encoder(settings: ModelSettings, models_dir: Path, *, bulk: bool = False) -> OnnxEncoder:
    """The encoder the settings name, from the model directory resolve_model_dir finds.

    `bulk` spends the `threads` on concurrent single-threaded runs (throughput over many texts)
    instead of on each run (one query's latency)."""
    return OnnxEncoder(
        resolve_model_dir(settings, models_dir),
        threads=1 if bulk else settings.threads,
        streams=settings.threads if bulk else 1,
        batch_size=settings.batch_size,
        max_tokens=settings.max_tokens,
    )


def resolve_model_dir(settings: ModelSettings, models_dir: Path) -> Path:
    """`settings.path`; else `models_dir/<name>/<variant>/`; else the model in the package."""
    export = (
        f"export one with `vibeshelf model export --model {settings.name} "
        f"--variant {settings.variant}` (needs `{EXPORT_INSTALL_HINT}`)"
    )
    if settings.path is not None:
        if not _is_model_dir(settings.path):
            raise ModelNotFoundError(
                f"model.path {settings.path} is not a model directory (it needs {MODEL_FILE}, "
                f"{TOKENIZER_FILE} and {META_FILE}): {export} and point model.path at it, "
                "or unset model.path"
            )
        return settings.path
    exported = models_dir / settings.name / settings.variant
    if _is_model_dir(exported):
        return exported
    shipped = SHIPPED_DIR / settings.name.lower()
    if _is_model_dir(shipped) and ModelMeta.read(shipped).variant == settings.variant:
        return shipped
    raise ModelNotFoundError(
        f"no {settings.variant} ONNX model for {settings.name} in {exported} "
        f"or in the package: {export}"
    )


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _is_model_dir(path: Path) -> bool:
    return all((path / f).is_file() for f in (MODEL_FILE, TOKENIZER_FILE, META_FILE))


def _session_options(threads: int) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options


def _load_tokenizer(path: Path, max_tokens: int) -> tuple[Tokenizer, int]:
    """The tokenizer truncating to `max_tokens`, with padding off (batches are padded here)."""
    tokenizer = Tokenizer.from_file(str(path))
    pad_id = (tokenizer.padding or {}).get("pad_id")
    if pad_id is None:
        found = (tokenizer.token_to_id(token) for token in ("[PAD]", "<pad>"))
        pad_id = next((i for i in found if i is not None), 0)
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_tokens)
    return tokenizer, int(pad_id)
