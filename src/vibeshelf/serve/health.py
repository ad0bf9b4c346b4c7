"""What /health reports: the model, index and BM25 build, the recommender and every experiment
version; and whether all of it serves (/health/ready, for a proxy's or orchestrator's check)."""

from __future__ import annotations

from typing import Any

from vibeshelf import __version__
from vibeshelf.experiment.router import ExperimentRouter
from vibeshelf.recommend.service import RecommendService
from vibeshelf.serve.runtime import Runtime


def health_report(
    rt: Runtime, recommender: RecommendService | None, experiments: ExperimentRouter | None
) -> dict[str, Any]:
    """The served parts; `status` is "degraded" when the vector store reports a fault or an active
    experiment version failed to load in this process."""
    manifest = rt.store.manifest
    store = rt.store.health()
    lexical = rt.search.lexical
    versions = experiments.versions() if experiments is not None else []
    broken = [v["name"] for v in versions if v["status"] == "active" and not v["loaded"]]
    return {
        "status": "ok" if store["ok"] and not broken else "degraded",
        "version": __version__,
        "model": {"name": rt.encoder.name, "version": rt.encoder.version, "dim": rt.encoder.dim},
        "index": {
            "backend": store["backend"],
            "build_id": manifest.build_id,
            "latest_build_id": store.get("latest_build_id", manifest.build_id),
            "built_at": manifest.built_at,
            "count": store["count"],
            "catalog_checksum": manifest.catalog_checksum,
        },
        "lexical": {
            "build_id": lexical.manifest.build_id,
            "built_at": lexical.manifest.built_at,
            "count": lexical.manifest.count,
        } if lexical is not None else None,
        "catalog": {"books": len(rt.catalog)},
        "recommender": recommender.health() if recommender else None,
        "versions": versions,
        "broken_versions": broken,
    }
