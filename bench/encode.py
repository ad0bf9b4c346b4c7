"""Embedding-service benchmark: vibeshelf `serve --only encode` against a naive Flask + torch server.

Starts both servers on 127.0.0.1, then drives each with k6 (bench/k6/encode.js; or Locust,
bench/locustfile_encode.py, with --load locust) at 10 and 40 closed-loop clients for a bounded time,
interleaving the servers round by round. Every request carries texts never sent before, so no
answer comes from a cache. Also measures the int8 model alone in this process (batches of the
service's batch size, the same cores) before and after the servers' rounds. Prints throughput
(texts a second) and p95 latency per server and client count (medians over the rounds), the CPU
(in cores) that the load generator and the server used, their ratios to each other and to the
model alone, both on all the cores and on the cores the load generator left, and the machine and
settings.

    pip install torch==2.13.0 '.[bench]'
    python bench/encode.py                        # 3 rounds x 15 s per server and client count
    python bench/encode.py --rounds 1 --seconds 10 --texts 4
    python bench/encode.py --servers vibeshelf    # this service alone (no torch needed)
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from benchlib import cpu_seconds, free_port, k6_binary, run_k6, wait_healthy
from benchlib import machine as machine_line

REPO = Path(__file__).resolve().parents[1]
LOCUSTFILE = REPO / "bench" / "locustfile_encode.py"
K6_SCRIPT = REPO / "bench" / "k6" / "encode.js"
NAIVE = REPO / "bench" / "naive_encode_server.py"
FLOOR_ROUTE = "/health"
log = logging.getLogger("bench.encode")


@contextmanager
def server(argv: list[str], env: dict[str, str], port: int) -> Iterator[tuple[str, int]]:
    """A server process on 127.0.0.1:`port`, ready: its URL and pid; stopped on exit."""
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(argv, env={**os.environ, **env}, cwd=REPO, stdout=subprocess.DEVNULL)
    try:
        wait_healthy(proc, port, timeout_s=180)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def drive_k6(url: str, pid: int, clients: int, seconds: int, texts: int, key: str,
             seed: str) -> dict[str, float]:
    """One k6 run; returns texts/s, requests/s, p50/p95 ms, failures and the cores k6 and the
    server kept busy."""
    env = {"BASE_URL": url, "API_KEY": key, "TEXTS": str(texts), "SEED": seed}
    run = run_k6(K6_SCRIPT, env, clients, seconds, server_pid=pid)
    return {"texts_per_s": run["qps"] * texts, "req_per_s": run["qps"], "p50_ms": run["p50_ms"],
            "p95_ms": run["p95_ms"], "failures": run["errors"], "load_cores": run["load_cores"],
            "server_cores": run["server_cores"]}


# The words of bench/k6/encode.js, which this file's `load_texts` mirrors.
WORDS = ["cozy", "mystery", "village", "dragon", "heist", "lighthouse", "war", "love",
         "ghost", "space", "family", "secret", "journey", "winter", "island", "crown"]


def load_texts(seed: str, n: int, per_request: int) -> list[str]:
    """The texts of the load's `n`-th request, as bench/k6/encode.js writes them."""
    return [f"{WORDS[n % 16]} {WORDS[(n >> 4) % 16]} {WORDS[k % 16]} book {seed}-{n}-{k}"
            for k in range(per_request)]


def model_alone(batch: int, per_request: int, seed: str, seconds: float = 10.0) -> tuple[float, float]:
    """Texts a second of the served int8 model alone in this process, and the mean tokens of its
    last batch: the texts the load sends (same words, seed shape and numbering, so the same
    lengths), in batches of `batch` spread over one single-threaded run per core, for `seconds`."""
    from vibeshelf.embed.encoder import load_encoder
    from vibeshelf.settings import Settings

    settings = Settings()
    cores = os.cpu_count() or 1
    encoder = load_encoder(settings.model.model_copy(update={"threads": cores}), settings.models_dir, bulk=True)
    encoder.encode([f"warm-up {w}" for w in WORDS])
    requests = max(1, batch // per_request)
    done, n, texts = 0, 0, []
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        texts = [t for i in range(n, n + requests) for t in load_texts(seed, i, per_request)]
        encoder.encode(texts)
        done += len(texts)
        n += requests
    rate = done / (time.perf_counter() - started)
    return rate, statistics.mean(len(e.ids) for e in encoder.tokenize(texts))


def drive(url: str, pid: int, clients: int, seconds: int, texts: int, key: str,
          seed: str) -> dict[str, float]:
    """One Locust run; returns texts/s, requests/s, p50/p95 ms, the failure count and the cores the
    server kept busy (Locust's own share is not measured)."""
    server_before, started = cpu_seconds(pid), time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp) / "run"
        env = {**os.environ, "ENCODE_API_KEY": key, "ENCODE_TEXTS": str(texts), "ENCODE_SEED": seed}
        done = subprocess.run(
            ["locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary", "--host", url,
             "-u", str(clients), "-r", str(clients), "-t", f"{seconds}s", "--stop-timeout", "10",
             "--csv", str(prefix), "--loglevel", "ERROR"],
            env=env, capture_output=True, text=True, cwd=REPO, check=False,
        )
        if not Path(f"{prefix}_stats.csv").is_file():  # locust exits 1 on failures, still writing it
            raise SystemExit(f"locust failed:\n{done.stderr[-2000:]}")
        with open(f"{prefix}_stats.csv", newline="") as fh:
            row = next(r for r in csv.DictReader(fh) if r["Name"] == "Aggregated")
    server_cores = (cpu_seconds(pid) - server_before) / (time.perf_counter() - started)
    rps = float(row["Requests/s"])
    return {"texts_per_s": rps * texts, "req_per_s": rps, "p50_ms": float(row["50%"]),
            "p95_ms": float(row["95%"]), "failures": float(row["Failure Count"]),
            "load_cores": float("nan"), "server_cores": server_cores}


def machine(args: argparse.Namespace, env: dict[str, str]) -> dict[str, object]:
    """The machine, the run and the settings the vibeshelf server gets."""
    from vibeshelf.settings import Settings

    encode = Settings().encode
    return {"machine": machine_line(), "seconds_per_run": args.seconds,
            "rounds": args.rounds, "texts_per_request": args.texts,
            "vibeshelf": {"workers": encode.workers, "batch_max_texts": encode.batch_max_texts,
                          "batch_wait_ms": encode.batch_wait_ms,
                          "gil_switch_ms": encode.gil_switch_ms, "model_threads": os.environ.get(
                              "VIBESHELF_MODEL__THREADS", "1 (serve default for /v1)"),
                          "env": {k: v for k, v in env.items() if "API_KEYS" not in k}},
            "naive": "Flask threaded=False, torch default threads, one model.encode per text",
            "load": f"{args.load} runs on the same cores as the servers"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 40])
    parser.add_argument("--texts", type=int, default=1, help="texts per request")
    parser.add_argument("--servers", nargs="+", choices=["vibeshelf", "naive"],
                        default=["vibeshelf", "naive"], help="servers to drive (naive needs torch)")
    parser.add_argument("--load", choices=["k6", "locust"], default="k6" if k6_binary() else "locust",
                        help="load generator: k6 (compiled; default when installed) or Locust")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    key = secrets.token_urlsafe(24)
    vibeshelf_env = {
        "VIBESHELF_AUTH__API_KEYS": json.dumps({"bench": {"key": key}}),
        "VIBESHELF_ENCODE__RATE_LIMIT_PER_S": "0",
        "VIBESHELF_LOG_LEVEL": "WARNING",
    }
    with ExitStack() as stack:
        vibeshelf_env["VIBESHELF_DATA_DIR"] = stack.enter_context(tempfile.TemporaryDirectory())
        commands = {
            "vibeshelf": ([sys.executable, "-m", "vibeshelf", "serve", "--only", "encode", "--port"], vibeshelf_env),
            "naive": ([sys.executable, str(NAIVE), "--port"], {}),
        }
        urls = {
            name: stack.enter_context(server([*argv, str(port := free_port())], env, port))
            for name, (argv, env) in commands.items() if name in args.servers
        }
        log.info("machine before: %s", json.dumps(machine(args, vibeshelf_env)))
        from vibeshelf.settings import Settings

        encode = Settings().encode
        most = max(args.clients)
        rate, tokens = model_alone(encode.batch_max_texts, args.texts, f"0vibeshelf{most}")
        alone = [rate]
        log.info("int8 model alone on the load's texts (%.1f tokens each), batches of %d, one run "
                 "per core: %.1f texts/s", tokens, encode.batch_max_texts, alone[0])
        drive_one = drive_k6 if args.load == "k6" else drive
        runs: dict[tuple[str, int], list[dict[str, float]]] = {}
        for round_ in range(args.rounds):
            for clients in args.clients:
                for name, (url, pid) in urls.items():
                    result = drive_one(url, pid, clients, args.seconds, args.texts, key,
                                       f"{round_}{name}{clients}")
                    runs.setdefault((name, clients), []).append(result)
                    log.info("round %d %-9s %2d clients: %7.1f texts/s  p95 %6.0f ms  failures %d",
                             round_ + 1, name, clients, result["texts_per_s"], result["p95_ms"],
                             result["failures"])
        alone.append(model_alone(encode.batch_max_texts, args.texts, f"1vibeshelf{most}")[0])
        log.info("int8 model alone again: %.1f texts/s", alone[1])
        floor = None
        if args.load == "k6" and "vibeshelf" in urls:  # the service's cheapest route, same stack
            url, pid = urls["vibeshelf"]
            floor = run_k6(K6_SCRIPT, {"BASE_URL": url, "ROUTE": FLOOR_ROUTE}, 10, args.seconds, pid)
    report(runs, args, statistics.mean(alone), floor)
    log.info("machine after: load average %s", os.getloadavg())


def report(runs: dict[tuple[str, int], list[dict[str, float]]], args: argparse.Namespace,
           alone: float, floor: dict[str, float] | None) -> None:
    median = {key: {m: statistics.median(r[m] for r in rs) for m in rs[0]} for key, rs in runs.items()}
    log.info("\nmedians over %d round(s), %g s each, %d text(s) per request:", args.rounds,
             args.seconds, args.texts)
    log.info("%-9s %7s %12s %10s %9s %11s %13s", "server", "clients", "texts/s", "p95 ms",
             "failures", "load cores", "server cores")
    for (name, clients), m in sorted(median.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        log.info("%-9s %7d %12.1f %10.0f %9d %11.2f %13.2f", name, clients, m["texts_per_s"],
                 m["p95_ms"], m["failures"], m["load_cores"], m["server_cores"])
    log.info("int8 model alone (mean of before and after): %.1f texts/s", alone)
    cores = os.cpu_count() or 1
    for clients in args.clients:
        if ("vibeshelf", clients) not in median:
            continue
        ours = median[("vibeshelf", clients)]
        # What the model alone would do on the cores the load generator left to the server.
        left = alone * max(cores - ours["load_cores"], 0.0) / cores
        log.info("%2d clients: vibeshelf/model alone %.2fx (on the %.2f cores the load generator "
                 "left: %.2fx)", clients, ours["texts_per_s"] / alone,
                 cores - ours["load_cores"], ours["texts_per_s"] / max(left, 1e-9))
        if ("naive", clients) in median:
            naive = median[("naive", clients)]
            log.info("%2d clients: vibeshelf/naive throughput %.1fx, p95 naive/vibeshelf %.1fx",
                     clients, ours["texts_per_s"] / max(naive["texts_per_s"], 1e-9),
                     naive["p95_ms"] / max(ours["p95_ms"], 1e-9))
    if floor is not None:
        log_ceiling(floor, alone, cores, args.texts)


def log_ceiling(floor: dict[str, float], alone: float, cores: int, texts: int) -> None:
    """The service's CPU ceiling: a request costs at least the floor's CPU (server and load
    generator) plus its texts' share of the model alone, which keeps every core busy."""
    floor_ms = 1000 * (floor["server_cores"] + floor["load_cores"]) / floor["qps"]
    text_ms = 1000 * cores / alone
    ceiling = texts / (floor_ms / text_ms + texts)
    log.info("floor: GET %s at 10 clients %.0f req/s, %.2f ms CPU a request; model alone "
             "%.2f ms CPU a text: at %d text(s) a request the service reaches at most %.2fx the "
             "model alone", FLOOR_ROUTE, floor["qps"], floor_ms, text_ms, texts, ceiling)


if __name__ == "__main__":
    main()
