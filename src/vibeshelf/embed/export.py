"""One-time export of a sentence-transformers model to a fused fp32 or int8 ONNX graph."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from vibeshelf.embed.encoder import (
    EXPORT_INSTALL_HINT,
    META_FILE,
    MODEL_FILE,
    TOKENIZER_FILE,
    OnnxEncoder,
    l2_normalize,
    pad_batch,
)
from vibeshelf.embed.registry import ModelNotFoundError, ModelSpec, get_spec
from vibeshelf.storage.files import file_sha256

log = logging.getLogger(__name__)

VARIANTS = ("fp32", "int8")
MEAN_COSINE_GATE = {"fp32": 0.999, "int8": 0.99}
OPSET = 17
PARITY_REFERENCE = "torch fp32 transformer, mean pooling + L2, same tokens"
OUTPUT_NAME = "sentence_embedding"
INT8_METHOD = "onnxruntime quantize_dynamic: QInt8 weights per channel, dynamic uint8 activations"

_QUERIES = (
    "cosy mystery with a cat",
    "a slow-burn romance set in a bookshop",
    "space opera with found family",
    "grimdark fantasy, morally grey heroes",
    "books like The Secret History",
    "southern gothic family secrets",
    "hopeful climate fiction",
    "funny fantasy with footnotes",
    "WWII historical fiction about sisters",
    "cyberpunk heist",
    "magical realism in a small town",
    "true crime podcast vibes",
    "something to make me cry on a train",
    "enemies to lovers, academic rivals",
    "quiet literary novel about grief and gardening",
    "hard sci-fi first contact",
    "ya dystopia",
    "haunted house",
    "a thriller I can't put down!!",
    "self-help about habits",
)
_BLURBS = (
    ("When the vicar of Little Haddon is found face down in the church flower display, retired "
    "schoolteacher Agatha Pim and her disreputable ginger cat are the only ones who notice that "
    "the lilies are the wrong colour. Between jam-making contests and village gossip, Agatha "
    "follows a trail of poisoned scones to the manor house, where everyone has a secret and "
    "nobody has an alibi."),
    ("The colony ship Meridian has drifted for three hundred years. Its crew of misfits, a "
    "disgraced pilot, an android who writes poetry and a smuggler with a price on her head, "
    "must outrun an empire that wants the ship's cargo: the last seed vault of a dead Earth. "
    "A sweeping space opera about loyalty, rebellion and the families we choose."),
    ("In the summer of 1962, two sisters return to their grandmother's crumbling house on the "
    "Mississippi delta to bury her. Among the heat, the kudzu and the whispers of their "
    "neighbours, they uncover letters that reveal a crime the town has spent forty years "
    "pretending never happened."),
    ("Nadia has never believed in love at first sight, which is why she is horrified to find "
    "herself falling for the insufferable new owner of the bookshop across the street. A "
    "warm, witty romantic comedy about second chances, rival book clubs and the stories we "
    "tell ourselves about who we are."),
    ("The Emperor is dead, the throne is empty, and the three heirs would rather burn the "
    "realm than share it. Told through the eyes of a mercenary, a court poisoner and a "
    "priest who has lost his god, this is brutal, morally grey epic fantasy where every "
    "victory has a price paid in blood."),
    ("A rigorously researched account of how small changes compound into remarkable results. "
    "Drawing on psychology and neuroscience, the author shows how to design your environment, "
    "build routines that stick and break the bad habits that hold you back."),
    ("Oslo, winter. A detective with a drinking problem and nothing left to lose is assigned a "
    "case no one else wants: a string of disappearances linked only by a snowman left in "
    "each victim's garden. A relentless Nordic noir thriller with a twist you will not see "
    "coming."),
    ("After her husband's death, seventy-year-old Edith plants a garden in the abandoned lot "
    "behind her apartment. Over one year of seeds, weeds and unexpected visitors, a quiet, "
    "luminous novel unfolds about grief, community and the slow work of beginning again."),
    ("Sixteen-year-old Kira lives in a walled city where every citizen is assigned a colour at "
    "birth that decides their job, their partner and their death. When her colour fades "
    "overnight, she must run before the Wardens find her, and discovers the city is not the "
    "last place on Earth."),
    ("Welcome to Ankh-Morpork, where the Watch is understaffed, the dragons are small and "
    "explosive, and a secret society is plotting to summon a much bigger one. A gloriously "
    "silly fantasy full of puns, footnotes and sharp satire of everything from bureaucracy to "
    "heroism."),
    ("A team of linguists is flown to a remote research station after a signal arrives from "
    "beyond Neptune. The message is mathematics, then music, then something no one can "
    "translate. Hard science fiction about language, time and what it means to understand an "
    "alien mind."),
    ("Twenty-three chapters, forty-one recipes and one family feud: the Rossi sisters inherit "
    "their mother's trattoria in Naples and must keep it open for a year to keep the building. "
    "Food, sun and heartbreak in equal measure."),
)


class ExportError(RuntimeError):
    """The model could not be exported, or the export failed its parity gate."""


@dataclass
class Parity:
    """Cosine of the ONNX embeddings against torch fp32 sentence embeddings."""

    texts: int
    cosine_mean: float
    cosine_min: float


@dataclass
class ExportReport:
    """What an export wrote and how well it agrees with torch."""

    name: str
    variant: str
    path: str
    onnx_sha256: str
    onnx_bytes: int
    fused_attention: int
    parity: Parity
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_parity_texts() -> list[str]:
    """64 varied texts: short queries, book blurbs, and long (truncated) runs of blurbs."""
    blurbs = list(_BLURBS)
    long_texts = [" ".join(blurbs[i:] + blurbs[:i]) for i in range(0, len(blurbs), 2)]
    shouted = [b.upper() for b in blurbs[:6]]
    first_sentences = [b.split(". ")[0] + "." for b in blurbs]
    mixed = [f"{q}: {b}" for q, b in zip(_QUERIES[:8], blurbs[4:], strict=False)]
    texts = [*_QUERIES, *blurbs, *long_texts, *shouted, *first_sentences, *mixed]
    return texts[:64]


def export_model(
    spec_name: str,
    out_dir: Path,
    variant: str = "int8",
    parity_texts: Sequence[str] | None = None,
) -> ExportReport:
    """Export -> fuse -> (int8 quantise) a known model into `out_dir`, swapped in atomically.

    Raises ExportError if the mean cosine against torch fp32 is under MEAN_COSINE_GATE[variant];
    an int8 failure means: export fp32 instead.
    """
    if variant not in VARIANTS:
        raise ExportError(f"unknown variant {variant!r}: expected one of {', '.join(VARIANTS)}")
    try:
        spec = get_spec(spec_name)
    except ModelNotFoundError as exc:
        raise ExportError(str(exc)) from exc
    _import_torch()
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out_dir.name}.export-", dir=out_dir.parent) as tmp:
        scratch = Path(tmp)
        try:
            hf_dir = spec.locate(scratch / "source")
        except ModelNotFoundError as exc:
            raise ExportError(str(exc)) from exc
        module = _sentence_module(hf_dir)
        build = scratch / "model"
        build.mkdir()
        fused = scratch / "fused.onnx"
        attention = _export_fused(module, hf_dir, scratch / "raw.onnx", fused)
        if variant == "int8":
            _quantize(fused, build / MODEL_FILE, spec.int8_keep_fp32)
        else:
            shutil.move(fused, build / MODEL_FILE)
        shutil.copyfile(hf_dir / TOKENIZER_FILE, build / TOKENIZER_FILE)
        _write_meta(build, spec, variant, attention, parity=None)
        parity = measure_parity(module, build, list(parity_texts or default_parity_texts()))
        _check_gate(spec.name, variant, parity)
        meta = _write_meta(build, spec, variant, attention, parity)
        _swap_in(build, out_dir)
    report = ExportReport(
        name=spec.name,
        variant=variant,
        path=str(out_dir),
        onnx_sha256=meta["onnx_sha256"],
        onnx_bytes=meta["onnx_bytes"],
        fused_attention=attention,
        parity=parity,
        seconds=round(time.perf_counter() - started, 1),
    )
    log.info("exported %s/%s to %s: %s", spec.name, variant, out_dir, report.parity)
    return report


def torch_embeddings(module: Any, encoder: OnnxEncoder, texts: Sequence[str]) -> np.ndarray:
    """Reference sentence embeddings: the torch module, fed the encoder's own tokens."""
    torch = _import_torch()
    encodings = encoder.tokenize(texts)
    names = module.input_names
    rows = []
    with torch.inference_mode():
        for start in range(0, len(encodings), 16):
            feeds = pad_batch(encodings[start : start + 16], encoder.pad_id, names)
            rows.append(module(*(torch.from_numpy(feeds[n]) for n in names)).numpy())
    return l2_normalize(np.concatenate(rows).astype(np.float32))


def measure_parity(module: Any, model_dir: Path, texts: Sequence[str]) -> Parity:
    """Cosine between the ONNX model in `model_dir` and the torch module on `texts`."""
    encoder = OnnxEncoder(model_dir, threads=max(1, _import_torch().get_num_threads()))
    cosines = np.sum(encoder.encode(texts) * torch_embeddings(module, encoder, texts), axis=1)
    return Parity(
        texts=len(texts),
        cosine_mean=round(float(cosines.mean()), 5),
        cosine_min=round(float(cosines.min()), 5),
    )


def load_torch_module(hf_dir: Path) -> Any:
    """The fp32 torch sentence-embedding module (mean pooling + L2) of a Hugging Face dir."""
    _import_torch()
    return _sentence_module(hf_dir)


def _import_torch() -> ModuleType:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import onnx  # noqa: F401
        import torch
        import transformers  # noqa: F401
    except ImportError as exc:
        raise ExportError(
            f"exporting a model needs torch, transformers and onnx: {EXPORT_INSTALL_HINT}"
        ) from exc
    return torch


def _sentence_module(hf_dir: Path) -> Any:
    """transformer -> mean pooling over the attention mask -> L2 normalisation, in eval mode."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(hf_dir, attn_implementation="eager", local_files_only=True)
    takes_types = getattr(model.config, "type_vocab_size", 0) > 1

    class SentenceEmbedding(torch.nn.Module):
        input_names = ("input_ids", "attention_mask") + (("token_type_ids",) if takes_types else ())

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, *types: Any) -> Any:
            extra = {"token_type_ids": types[0]} if types else {}
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, **extra)
            mask = attention_mask.unsqueeze(-1).to(out.last_hidden_state.dtype)
            mean = (out.last_hidden_state * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    return SentenceEmbedding().eval()


def _export_fused(module: Any, hf_dir: Path, raw: Path, fused: Path) -> int:
    """Trace to ONNX (dynamic batch and sequence), fuse for BERT; returns the Attention count."""
    import torch
    from onnxruntime.transformers.optimizer import optimize_model

    names = list(module.input_names)
    example = tuple(torch.ones((2, 16), dtype=torch.int64) for _ in names)
    axes = {n: {0: "batch", 1: "sequence"} for n in names} | {OUTPUT_NAME: {0: "batch"}}
    # The tracer warns about shape-dependent Python branches in transformers' masking code; the
    # parity check on texts of many lengths is what guards the traced graph.
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            example,
            str(raw),
            input_names=names,
            output_names=[OUTPUT_NAME],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
    config = json.loads((hf_dir / "config.json").read_text())
    optimized = optimize_model(
        str(raw),
        model_type="bert",
        num_heads=config["num_attention_heads"],
        hidden_size=config["hidden_size"],
    )
    optimized.save_model_to_file(str(fused))
    attention = int(optimized.get_fused_operator_statistics().get("Attention", 0))
    if attention == 0:
        log.warning("no Attention node was fused: attention runs as plain ONNX ops (slower)")
    return attention


def _quantize(src: Path, dst: Path, keep_fp32: str | None) -> None:
    """Dynamic int8, per-channel weights; nodes matching `keep_fp32` stay fp32."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    exclude = []
    if keep_fp32:
        pattern = re.compile(keep_fp32)
        exclude = [n.name for n in onnx.load(str(src)).graph.node if pattern.search(n.name)]
    quantize_dynamic(
        src,
        dst,
        weight_type=QuantType.QInt8,
        per_channel=True,
        nodes_to_exclude=exclude,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def _check_gate(name: str, variant: str, parity: Parity) -> None:
    gate = MEAN_COSINE_GATE[variant]
    if parity.cosine_mean < gate:
        hint = ": export --variant fp32 instead" if variant == "int8" else ""
        raise ExportError(
            f"{name} {variant} agrees with torch fp32 at mean cosine {parity.cosine_mean:.4f} "
            f"(min {parity.cosine_min:.4f}), under the {gate} gate{hint}"
        )


def _write_meta(
    build: Path, spec: ModelSpec, variant: str, attention: int, parity: Parity | None
) -> dict[str, Any]:
    """model.json: what the model is, where it came from and how close it is to torch."""
    model_path = build / MODEL_FILE
    meta: dict[str, Any] = {
        "name": spec.name,
        "variant": variant,
        "dim": spec.dim,
        "max_tokens": spec.max_tokens,
        "pooling": "mean",
        "normalization": "l2",
        "source": spec.source_version(),
        "onnx_sha256": file_sha256(model_path),
        "onnx_bytes": model_path.stat().st_size,
        "opset": OPSET,
        "fused_attention": attention,
        "quantization": _quantization_note(spec, variant),
        "parity": None if parity is None else {"reference": PARITY_REFERENCE, **asdict(parity)},
        "exported_with": {p: version(p) for p in ("torch", "transformers", "onnx", "onnxruntime")},
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    (build / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def _quantization_note(spec: ModelSpec, variant: str) -> str:
    if variant == "fp32":
        return "none"
    kept = f"; nodes matching {spec.int8_keep_fp32} kept fp32" if spec.int8_keep_fp32 else ""
    return INT8_METHOD + kept


def _swap_in(build: Path, out_dir: Path) -> None:
    """Replace `out_dir` with `build` (same filesystem): old dir aside, new one in, old removed."""
    old = out_dir.with_name(out_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out_dir.exists():
        os.replace(out_dir, old)
    os.replace(build, out_dir)
    shutil.rmtree(old, ignore_errors=True)
