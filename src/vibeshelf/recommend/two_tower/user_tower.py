"""The exported user tower, run with onnxruntime: history weights over every item -> unit vector."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

HISTORY_INPUT = "history"
USER_OUTPUT = "user_vector"


class OnnxUserTower:
    """One onnxruntime session over `user_tower.onnx`; thread-safe, single-threaded per call."""

    def __init__(self, path: Path) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def vectors(self, history: np.ndarray) -> np.ndarray:
        """Unit user vectors for history weights (batch x items)."""
        batch = np.ascontiguousarray(np.atleast_2d(history), np.float32)
        return self.session.run([USER_OUTPUT], {HISTORY_INPUT: batch})[0]
