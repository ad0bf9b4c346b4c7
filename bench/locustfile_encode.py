"""Locust load for POST /v1/encode: closed-loop clients, each request with texts never sent before.

    locust -f bench/locustfile_encode.py --headless -u 10 -r 10 -t 20s --host http://127.0.0.1:8000

Environment: ENCODE_API_KEY (sent as X-API-Key), ENCODE_TEXTS (texts per request, default 1),
ENCODE_SEED (makes the texts of separate runs differ, so no run is answered from a cache).
"""

from __future__ import annotations

import itertools
import os
import random

from locust import FastHttpUser, constant, task

MOODS = ["cozy", "dark", "funny", "heartbreaking", "sprawling", "slow-burn", "atmospheric",
         "hopeful", "creepy", "quirky", "bittersweet", "fast-paced"]
SUBJECTS = ["mystery", "family saga", "space adventure", "love story", "ghost story", "heist",
            "coming-of-age novel", "war novel", "fairy tale retelling", "road trip", "satire"]
PLACES = ["in a small town", "at sea", "in Victorian London", "on Mars", "in a boarding school",
          "in the desert", "after the apocalypse", "in 1920s Paris", "with a cat", "in a lighthouse"]
API_KEY = os.environ.get("ENCODE_API_KEY", "")
TEXTS_PER_REQUEST = int(os.environ.get("ENCODE_TEXTS", "1"))
SEED = os.environ.get("ENCODE_SEED", "0")
_serial = itertools.count()


def vibe(rng: random.Random) -> str:
    """A distinct vibe query: a random phrasing plus a serial number."""
    return f"{rng.choice(MOODS)} {rng.choice(SUBJECTS)} {rng.choice(PLACES)}, take {SEED}-{next(_serial)}"


class EncodeUser(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        self.rng = random.Random()
        self.headers = {"X-API-Key": API_KEY} if API_KEY else {}

    @task
    def encode(self) -> None:
        body = {"texts": [vibe(self.rng) for _ in range(TEXTS_PER_REQUEST)]}
        with self.client.post("/v1/encode", json=body, headers=self.headers, catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(f"HTTP {resp.status_code}")
            elif len(resp.json()["vectors"]) != TEXTS_PER_REQUEST:
                resp.failure("wrong number of vectors")
