"""Pruning old recommender models keeps every one a registered or active experiment version uses."""

from __future__ import annotations

from pathlib import Path

from tests.unit.test_recs_artifacts import tiny_model
from vibeshelf.experiment.registry import ModelVersion, RegistryFile, now
from vibeshelf.recommend.artifacts import versions, write_model

NAMES = [f"2024010{d}T000000000000-aaaa" for d in range(1, 7)]


def register(data_dir: Path, name: str, recs_version: str) -> ModelVersion:
    version = ModelVersion(name=name, surface="recommend", created=now(), data_checksum="x",
                           target={"recs_version": recs_version})
    with RegistryFile(data_dir / "experiments").edit("add") as registry:
        registry.add(version)
    return version


def test_pruning_spares_the_models_of_registered_and_active_versions(tmp_path: Path) -> None:
    root = tmp_path / "models" / "recs"
    for name in NAMES[:3]:
        write_model(root, tiny_model(name), keep=5)
    register(tmp_path, "r-active", NAMES[0])
    register(tmp_path, "r-registered", NAMES[1])
    register(tmp_path, "r-retired", NAMES[2])
    with RegistryFile(tmp_path / "experiments").edit("activate") as registry:
        registry.activate("r-active", 1.0, 99.0)
        registry.activate("r-retired", 1.0, 99.0)
        registry.retire("r-retired", 1.0, 99.0)
    held = RegistryFile(tmp_path / "experiments").read().recs_versions_in_use()
    assert held == {NAMES[0], NAMES[1]}
    for name in NAMES[3:]:
        write_model(root, tiny_model(name), keep=2, held=held)
    assert versions(root) == [NAMES[0], NAMES[1], NAMES[4], NAMES[5]]


def test_without_a_registry_only_the_newest_are_kept(tmp_path: Path) -> None:
    root = tmp_path / "models" / "recs"
    for name in NAMES:
        write_model(root, tiny_model(name), keep=2)
    assert versions(root) == NAMES[-2:]
