"""Batch embedding on a Ray cluster: snappy Parquet shards, each written once, resumed after a crash."""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from vibeshelf.config.core import ModelSettings
from vibeshelf.embed.encoder import load_encoder

log = logging.getLogger(__name__)

SHARD_GLOB = "part-*.parquet"


class RayEngineError(RuntimeError):
    """Ray is missing, the cluster is unreachable, or a shard failed."""


@dataclass
class ShardStats:
    """How a distributed run went: shards in all, reused from an earlier run, encoded now."""

    total: int = 0
    reused: int = 0
    encoded: int = 0


class RayEncoder:
    """The Encoder contract, with `encode` spread over Ray actors one shard at a time.

    Each shard of `shard_size` texts is written to `shards_dir` as `part-<key>.parquet` (snappy),
    where the key hashes the model version and the shard's texts; a shard already on disk is read
    back instead of encoded, so a rerun after a crash only encodes the shards that are missing.
    Each actor loads the model once and runs it single-threaded; the int8 model encodes one text
    per call, so vectors are bit-identical to the single-process path.
    """

    normalization = "l2"

    def __init__(
        self,
        model: ModelSettings,
        models_dir: Path,
        shards_dir: Path,
        *,
        shard_size: int = 1000,
        address: str | None = None,
        actors: int | None = None,
    ) -> None:
        try:
            import ray
        except ImportError as exc:
            raise RayEngineError("the ray engine needs Ray: pip install 'vibeshelf[ray]'") from exc
        self._ray = ray
        local = load_encoder(model, models_dir)  # fails fast, here, on a missing model
        self.name, self.version, self.dim = local.name, local.version, local.dim
        self.model = model.model_copy(update={"threads": 1})
        self.models_dir = models_dir
        self.shards_dir = shards_dir
        self.shard_size = shard_size
        self.address = address
        self.actors = actors
        self.stats = ShardStats()

    def encode(
        self, texts: Sequence[str], *, batch_size: int | None = None, progress: bool = False
    ) -> np.ndarray:
        """Unit vectors (n, dim) in input order; finished shards on disk are reused."""
        shards = [list(texts[i : i + self.shard_size]) for i in range(0, len(texts), self.shard_size)]
        paths = [self.shards_dir / f"part-{self._shard_key(shard)}.parquet" for shard in shards]
        todo = [i for i, path in enumerate(paths) if self._read(path, len(shards[i])) is None]
        self.stats = ShardStats(total=len(shards), reused=len(shards) - len(todo))
        if todo:
            self.shards_dir.mkdir(parents=True, exist_ok=True)
            self._run([(shards[i], paths[i]) for i in todo], progress)
            self.stats.encoded = len(todo)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, path in enumerate(paths):
            vectors = self._read(path, len(shards[i]))
            if vectors is None:
                raise RayEngineError(f"shard {path} is missing or unreadable after the run")
            out[i * self.shard_size : i * self.shard_size + len(vectors)] = vectors
        self._remove_stale(set(paths))
        log.info(
            "ray: %d shards, %d reused, %d encoded", self.stats.total, self.stats.reused, self.stats.encoded
        )
        return out

    def _run(self, work: list[tuple[list[str], Path]], progress: bool) -> None:
        ray = self._ray
        started_here = not ray.is_initialized()
        if started_here:
            _check_reachable(self.address)
            try:
                ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise RayEngineError(f"cannot reach the Ray cluster {self.address or 'local'}: {exc}") from exc
        try:
            n_actors = max(1, min(len(work), self.actors or int(ray.cluster_resources().get("CPU", 1))))
            worker = ray.remote(num_cpus=1)(ShardWorker)
            pool = ray.util.ActorPool(
                [worker.remote(self.model, self.models_dir, self.version) for _ in range(n_actors)]
            )
            results = pool.map_unordered(
                lambda actor, job: actor.encode_shard.remote(job[0], str(job[1])), work
            )
            with tqdm(total=len(work), desc="embed (ray)", unit="shard", disable=not progress) as bar:
                for _ in results:
                    bar.update()
        except ray.exceptions.RayError as exc:
            raise RayEngineError(f"a Ray shard failed: {exc}") from exc
        finally:
            if started_here:
                ray.shutdown()

    def _shard_key(self, texts: list[str]) -> str:
        digest = hashlib.blake2b(self.version.encode(), digest_size=10)
        for text in texts:
            digest.update(hashlib.blake2b(text.encode(), digest_size=16).digest())
        return digest.hexdigest()

    def _read(self, path: Path, rows: int) -> np.ndarray | None:
        """The shard's vectors, or None when it is absent, torn or of another shape."""
        try:
            column = pq.read_table(path, columns=["vector"]).column("vector").combine_chunks()
        except (OSError, pa.ArrowException, KeyError):
            return None
        vectors = column.flatten().to_numpy(zero_copy_only=False).reshape(-1, self.dim)
        return vectors.astype(np.float32, copy=False) if len(vectors) == rows else None

    def _remove_stale(self, keep: set[Path]) -> None:
        """Shards of earlier catalogs or models: every vector they hold is in the embedding set."""
        for path in self.shards_dir.glob(SHARD_GLOB):
            if path not in keep:
                path.unlink(missing_ok=True)


def _check_reachable(address: str | None, timeout_s: float = 5.0) -> None:
    """Fail fast on a `host:port` or `ray://host:port` nobody answers (Ray itself retries for minutes)."""
    if address is None or address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout_s):
            return
    except (OSError, ValueError) as exc:
        raise RayEngineError(f"cannot reach the Ray cluster {address}: {exc}") from exc


class ShardWorker:
    """A Ray actor: one encoder, single-threaded, that writes each shard it is given."""

    def __init__(self, model: ModelSettings, models_dir: Path, version: str) -> None:
        self.encoder = load_encoder(model, models_dir)  # the package must be on every node
        if self.encoder.version != version:
            raise RayEngineError(
                f"this node serves {self.encoder.version}, the run needs {version}: "
                "install the same vibeshelf and model on every node"
            )

    def encode_shard(self, texts: list[str], path: str) -> str:
        """Encode, then write the shard to a temp file and rename it into place."""
        vectors = self.encoder.encode(texts)
        dim = vectors.shape[1]
        table = pa.table(
            {"vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), dim)}
        )
        tmp = f"{path}.{os.getpid()}.tmp"
        pq.write_table(table, tmp, compression="snappy")
        os.replace(tmp, path)
        return path

