// k6 load for POST /v1/encode: every request carries texts never sent before (no cache hits).
// Env: BASE_URL, API_KEY, TEXTS (texts per request), SEED (makes texts differ between runs);
// ROUTE (e.g. /health) loads that route with GET instead: the server's floor, what HTTP alone costs.
// bench/encode.py's load_texts writes the same texts for the model alone: change both together.
import { check } from "k6";
import http from "k6/http";
import exec from "k6/execution";

const base = __ENV.BASE_URL;
const perRequest = parseInt(__ENV.TEXTS || "1", 10);
const seed = __ENV.SEED || "0";
const headers = { "Content-Type": "application/json", "X-API-Key": __ENV.API_KEY };
const WORDS = ["cozy", "mystery", "village", "dragon", "heist", "lighthouse", "war", "love",
  "ghost", "space", "family", "secret", "journey", "winter", "island", "crown"];

export default function () {
  if (__ENV.ROUTE) {
    check(http.get(`${base}${__ENV.ROUTE}`), { "status 200": (r) => r.status === 200 });
    return;
  }
  const n = exec.scenario.iterationInTest;
  const texts = [];
  for (let k = 0; k < perRequest; k++) {
    const id = `${seed}-${n}-${k}`;
    texts.push(`${WORDS[n % 16]} ${WORDS[(n >> 4) % 16]} ${WORDS[k % 16]} book ${id}`);
  }
  const res = http.post(`${base}/v1/encode`, JSON.stringify({ texts }), { headers });
  check(res, { "status 200": (r) => r.status === 200 });
}
