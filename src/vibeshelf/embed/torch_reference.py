"""The torch reference an ONNX export is checked against: the fp32 sentence module and parity."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from vibeshelf.embed.encoder import EXPORT_INSTALL_HINT, OnnxEncoder, l2_normalize, pad_batch

PARITY_REFERENCE = "torch fp32 transformer, mean pooling + L2, same tokens"
MEAN_COSINE_GATE = {"fp32": 0.999, "int8": 0.99}

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


def default_parity_texts() -> list[str]:
    """64 varied texts: short queries, book blurbs, and long (truncated) runs of blurbs."""
    blurbs = list(_BLURBS)
    long_texts = [" ".join(blurbs[i:] + blurbs[:i]) for i in range(0, len(blurbs), 2)]
    shouted = [b.upper() for b in blurbs[:6]]
    first_sentences = [b.split(". ")[0] + "." for b in blurbs]
    mixed = [f"{q}: {b}" for q, b in zip(_QUERIES[:8], blurbs[4:], strict=False)]
    texts = [*_QUERIES, *blurbs, *long_texts, *shouted, *first_sentences, *mixed]
    return texts[:64]


def torch_embeddings(module: Any, encoder: OnnxEncoder, texts: Sequence[str]) -> np.ndarray:
    """Reference sentence embeddings: the torch module, fed the encoder's own tokens."""
    torch = import_torch()
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
    encoder = OnnxEncoder(model_dir, threads=max(1, import_torch().get_num_threads()))
    cosines = np.sum(encoder.encode(texts) * torch_embeddings(module, encoder, texts), axis=1)
    return Parity(
        texts=len(texts),
        cosine_mean=round(float(cosines.mean()), 5),
        cosine_min=round(float(cosines.min()), 5),
    )


def import_torch() -> ModuleType:
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


def load_torch_module(hf_dir: Path) -> Any:
    """The fp32 torch sentence module of a Hugging Face dir: transformer -> mean pooling over the
    attention mask -> L2 normalisation, in eval mode."""
    torch = import_torch()
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


def check_gate(name: str, variant: str, parity: Parity) -> None:
    """Raise ExportError when `parity` is under the variant's mean-cosine gate."""
    gate = MEAN_COSINE_GATE[variant]
    if parity.cosine_mean < gate:
        hint = ": export --variant fp32 instead" if variant == "int8" else ""
        raise ExportError(
            f"{name} {variant} agrees with torch fp32 at mean cosine {parity.cosine_mean:.4f} "
            f"(min {parity.cosine_min:.4f}), under the {gate} gate{hint}"
        )
