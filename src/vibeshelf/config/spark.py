"""Spark settings for `vibeshelf train recs --engine spark`: the master, memory and MLlib's regularisation."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, Field, field_validator

# local, local[4], local[*], spark://host:port, yarn, k8s://https://host:port, mesos://host:port
MASTER = re.compile(r"^(local(\[(\*|[1-9][0-9]*)\])?|yarn|(spark|mesos)://\S+|k8s://\S+)$")


class SparkSettings(BaseModel):
    """Where MLlib's ALS runs. Spark never downloads anything: MLlib ships inside pyspark.

    MLlib multiplies `reg_param` by each reader's (and each book's) interaction count, where the
    single-node solver uses `recommend.regularization` as it is; `reg_param` None derives it as
    regularization / the mean readers per book of the training data.
    """

    master: str = "local[*]"
    driver_memory: Annotated[str, Field(pattern=r"^[0-9]+[kmgt]$")] = "4g"
    executor_memory: Annotated[str, Field(pattern=r"^[0-9]+[kmgt]$")] = "4g"
    reg_param: Annotated[float | None, Field(ge=0.0, le=10_000.0)] = None
    # Partitions of the interactions and of MLlib's user and item blocks (None: Spark's default).
    blocks: Annotated[int | None, Field(ge=1, le=10_000)] = None
    checkpoint_interval: Annotated[int, Field(ge=1, le=100)] = 5

    @field_validator("master")
    @classmethod
    def _known_master(cls, master: str) -> str:
        if not MASTER.match(master):
            raise ValueError(
                f"unsupported Spark master {master!r}: expected local[*], local[N], "
                "spark://host:port, yarn or k8s://..."
            )
        return master
