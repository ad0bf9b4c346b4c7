// k6 load for GET /api/search: each virtual user loops over the queries, one keep-alive connection each.
// Env: BASE_URL, QUERIES_FILE (JSON list of query strings), MODE (hybrid|vector|lexical).
import { check } from "k6";
import http from "k6/http";
import exec from "k6/execution";

const queries = JSON.parse(open(__ENV.QUERIES_FILE));
const base = __ENV.BASE_URL;
const mode = __ENV.MODE || "hybrid";

export default function () {
  const i = (exec.vu.idInTest * 7919 + exec.vu.iterationInScenario) % queries.length;
  const res = http.get(`${base}/api/search?q=${encodeURIComponent(queries[i])}&mode=${mode}`);
  check(res, { "status 200": (r) => r.status === 200 });
}
