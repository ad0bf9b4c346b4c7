// k6 load for GET /api/search: each virtual user loops over the queries, one keep-alive connection each.
// Env: BASE_URL, QUERIES_FILE (JSON list of query strings), MODE (hybrid|vector|lexical);
// ROUTE (e.g. /health) loads that route instead: the server's floor, what HTTP alone costs.
import { check } from "k6";
import http from "k6/http";
import exec from "k6/execution";

const queries = JSON.parse(open(__ENV.QUERIES_FILE));
const base = __ENV.BASE_URL;
const mode = __ENV.MODE || "hybrid";
const route = __ENV.ROUTE;

export default function () {
  const i = (exec.vu.idInTest * 7919 + exec.vu.iterationInScenario) % queries.length;
  const res = http.get(route ? `${base}${route}`
    : `${base}/api/search?q=${encodeURIComponent(queries[i])}&mode=${mode}`);
  check(res, { "status 200": (r) => r.status === 200 });
}
