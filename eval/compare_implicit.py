"""Compare the hand-written ALS with the `implicit` library's ALS on the `eval recs` split (report only).

Both fit the same confidence matrix (c = 1 + alpha * s) with the same factors, regularisation,
iterations, CG steps and seed on the split's training part, and are scored by `eval recs`' own
scorer on its held-out part: plain ALS factors on both sides (the served model adds the shelf
cold-start blend on top of the hand-written factors). Needs `pip install implicit`.

  python eval/compare_implicit.py --data-dir DIR --source goodbooks
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from implicit.cpu.als import AlternatingLeastSquares

from vibeshelf.config.recommend import RecommendSettings
from vibeshelf.recommend.confidence import confidence_matrix
from vibeshelf.recommend.dataset import load_training_data
from vibeshelf.recommend.evaluation import factor_scores, holdout_split, score_ranker
from vibeshelf.recommend.models.als import AlsParams, fit_als
from vibeshelf.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    settings = Settings(data_dir=args.data_dir)
    rec: RecommendSettings = settings.recommend
    data = load_training_data(settings, rec, args.source)
    train, test = holdout_split(data.interactions, rec)
    conf = confidence_matrix(train.strengths, rec.alpha, rec.keep_implicit, rec.implicit_weight)
    rows = {}

    started = time.perf_counter()
    params = AlsParams(rec.factors, rec.regularization, rec.iterations, rec.cg_steps, rec.seed)
    users, items = fit_als(conf, params)
    rows["hand-written ALS"] = (time.perf_counter() - started, users, items)

    model = AlternatingLeastSquares(  # alpha 1: the matrix already holds c = 1 + alpha * s
        factors=rec.factors,
        regularization=rec.regularization,
        iterations=rec.iterations,
        random_state=rec.seed,
        num_threads=args.threads,
        calculate_training_loss=False,
    )
    started = time.perf_counter()
    model.cg_steps = rec.cg_steps  # an attribute, not a constructor argument
    model.fit(conf.astype(np.float32), show_progress=False)
    rows["implicit ALS"] = (time.perf_counter() - started, model.user_factors, model.item_factors)

    report = {
        "source": args.source,
        "params": {
            k: getattr(rec, k)
            for k in ("factors", "regularization", "alpha", "iterations", "cg_steps", "seed")
        },
        "rows": {},
    }
    for label, (seconds, u, i) in rows.items():
        scores = score_ranker(factor_scores(np.asarray(u), np.asarray(i)), train, test).to_dict()
        report["rows"][label] = {**scores, "fit_seconds": round(seconds, 1)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
