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
from typing import Any

from vibeshelf.embed.encoder import META_FILE, MODEL_FILE, TOKENIZER_FILE
from vibeshelf.embed.model_specs import ModelNotFoundError, ModelSpec, get_spec
from vibeshelf.embed.torch_reference import (
    PARITY_REFERENCE,
    ExportError,
    Parity,
    check_gate,
    default_parity_texts,
    import_torch,
    load_torch_module,
    measure_parity,
)
from vibeshelf.storage.files import file_sha256

log = logging.getLogger(__name__)

VARIANTS = ("fp32", "int8")
OPSET = 17
OUTPUT_NAME = "sentence_embedding"
INT8_METHOD = "onnxruntime quantize_dynamic: QInt8 weights per channel, dynamic uint8 activations"


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
    import_torch()
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out_dir.name}.export-", dir=out_dir.parent) as tmp:
        scratch = Path(tmp)
        try:
            hf_dir = spec.locate(scratch / "source")
        except ModelNotFoundError as exc:
            raise ExportError(str(exc)) from exc
        module = load_torch_module(hf_dir)
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
        check_gate(spec.name, variant, parity)
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
