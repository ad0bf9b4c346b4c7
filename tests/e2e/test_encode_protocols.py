"""The embedding service under the protocols its clients speak: the openai SDK, LangChain's
OpenAIEmbeddings and TEI's /embed against a real `serve --only encode`, each vector equal to
/v1/encode's for the same text."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from collections.abc import Iterator

import httpx
import numpy as np
import openai
import pytest
import tiktoken
from langchain_openai import OpenAIEmbeddings

from tests.e2e.encode_server import (
    API_KEY,
    KEYS_JSON,
    LIMITED_ENV,
    LIMITS,
    READ_ONLY_KEY,
    THROTTLED_KEY,
    EncodeServer,
)
from vibeshelf.config.core import ModelSettings
from vibeshelf.embed.encoder import OnnxEncoder, load_encoder
from vibeshelf.serve.openai_api import INPUT_KINDS

MODEL = "all-MiniLM-L6-v2"
TEXTS = ["cozy small-town mystery with a cat", "sprawling family saga", "funny sci-fi road trip"]
AUTH = {"Authorization": f"Bearer {API_KEY}"}
LONG_TEXT = " ".join(f"word{i}" for i in range(150))  # 1089 characters, over 256 tokens


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EncodeServer]:
    yield from EncodeServer(tmp_path_factory.mktemp("empty-data"), LIMITED_ENV).running()


@pytest.fixture(scope="module")
def api(server: EncodeServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def client(server: EncodeServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=API_KEY, max_retries=0)


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> OnnxEncoder:
    return load_encoder(ModelSettings(), tmp_path_factory.mktemp("models"))


def encoded(api: httpx.Client, texts: list[str]) -> np.ndarray:
    """What /v1/encode answers for `texts`: the reference every protocol must match."""
    resp = api.post("/v1/encode", json={"texts": texts}, headers=AUTH)
    assert resp.status_code == 200, resp.text
    return np.array(resp.json()["vectors"], dtype=np.float32)


def openai_error(resp: httpx.Response, status: int) -> dict[str, str | None]:
    """The OpenAI-shaped error, after checking its status and shape."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


def tei_error(resp: httpx.Response, status: int) -> dict[str, str]:
    """The TEI-shaped error, after checking its status and shape."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error", "error_type"}
    return body


def test_openai_sdk_floats_base64_and_its_default_match_v1_encode(
    client: openai.OpenAI, api: httpx.Client, encoder: OnnxEncoder
) -> None:
    expected = encoded(api, TEXTS)
    floats = client.embeddings.create(model=MODEL, input=TEXTS, encoding_format="float")
    default = client.embeddings.create(model=MODEL, input=TEXTS)  # the SDK asks for base64, decodes
    raw = client.embeddings.create(model=MODEL, input=TEXTS, encoding_format="base64")
    as_b64 = [np.frombuffer(base64.b64decode(str(d.embedding)), dtype="<f4") for d in raw.data]
    for response, vectors in (
        (floats, [d.embedding for d in floats.data]),
        (default, [d.embedding for d in default.data]),
        (raw, as_b64),
    ):
        assert [d.index for d in response.data] == [0, 1, 2] and response.model == MODEL
        np.testing.assert_allclose(np.array(vectors, dtype=np.float32), expected, atol=1e-6)
    tokens = sum(len(e.ids) for e in encoder.tokenize(TEXTS))
    assert floats.usage.prompt_tokens == floats.usage.total_tokens == tokens


def test_openai_sdk_one_text_and_token_arrays(
    client: openai.OpenAI, api: httpx.Client, encoder: OnnxEncoder
) -> None:
    expected = encoded(api, TEXTS)
    one = client.embeddings.create(model=MODEL, input=TEXTS[0], encoding_format="float")
    np.testing.assert_allclose(one.data[0].embedding, expected[0], atol=1e-6)
    ids = [e.ids for e in encoder.tokenize(TEXTS)]
    rows = client.embeddings.create(model=MODEL, input=ids, encoding_format="float")
    np.testing.assert_allclose([d.embedding for d in rows.data], expected, atol=1e-6)
    single = client.embeddings.create(model=MODEL, input=ids[1], encoding_format="float")
    np.testing.assert_allclose(single.data[0].embedding, expected[1], atol=1e-6)


def test_openai_sdk_raises_its_own_errors(server: EncodeServer, client: openai.OpenAI) -> None:
    bad_key = openai.OpenAI(base_url=f"{server.url}/v1", api_key=API_KEY + "x", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as denied:
        bad_key.embeddings.create(model=MODEL, input="x")
    assert denied.value.code == "invalid_api_key" and denied.value.type == "invalid_request_error"
    with pytest.raises(openai.NotFoundError) as unknown:
        client.embeddings.create(model="text-embedding-3-small", input="x")
    assert unknown.value.code == "model_not_found" and unknown.value.param == "model"
    with pytest.raises(openai.BadRequestError) as shortened:
        client.embeddings.create(model=MODEL, input="x", dimensions=128)
    assert shortened.value.param == "dimensions" and "does not support shortening" in str(shortened.value)
    same = client.embeddings.create(model=MODEL, input="x", dimensions=384, encoding_format="float")
    assert len(same.data[0].embedding) == 384
    reader = openai.OpenAI(base_url=f"{server.url}/v1", api_key=READ_ONLY_KEY, max_retries=0)
    with pytest.raises(openai.PermissionDeniedError):
        reader.embeddings.create(model=MODEL, input="x")


def test_openai_models_list_keeps_the_own_shape_beside_openais(
    client: openai.OpenAI, api: httpx.Client, encoder: OnnxEncoder
) -> None:
    listed = client.models.list()
    assert [(m.id, m.object, m.owned_by) for m in listed.data] == [(MODEL, "model", "vibeshelf")]
    assert listed.data[0].created > 1_700_000_000
    body = api.get("/v1/models", headers={"X-API-Key": READ_ONLY_KEY}).json()
    assert body["object"] == "list" and body["models"][0]["version"] == encoder.version


@pytest.mark.parametrize(
    ("body", "param", "needle"),
    [
        ({"model": MODEL, "input": []}, "input", INPUT_KINDS),
        ({"model": MODEL, "input": ""}, "input", INPUT_KINDS),
        ({"model": MODEL, "input": [1, "a"]}, "input", INPUT_KINDS),
        ({"model": MODEL, "input": ["fine", "lone \ud800"]}, "input", INPUT_KINDS),
        ({"model": MODEL, "input": [[101, 99_999_999]]}, "input", "token id 99999999 is not in"),
        ({"model": MODEL, "input": [-1]}, "input", INPUT_KINDS),
        ({"model": MODEL, "input": "x", "encoding_format": "int8"}, "encoding_format", ""),
        ({"input": "x"}, "model", "Field required"),
        ({"model": MODEL, "input": "x", "temperature": 1}, "temperature", "Extra inputs"),
        ({"model": MODEL, "input": "x", "dimensions": "384"}, "dimensions", "valid integer"),
    ],
    ids=["empty-list", "empty-text", "mixed", "surrogate", "unknown-token", "negative-token", "format",
         "no-model", "extra-field", "dimensions-not-int"],
)
def test_openai_bad_input_is_400_in_openais_shape(
    api: httpx.Client, body: dict[str, object], param: str, needle: str
) -> None:
    content = json.dumps(body).encode()  # ASCII: a lone surrogate travels as its \u escape
    headers = {**AUTH, "Content-Type": "application/json"}
    err = openai_error(api.post("/v1/embeddings", content=content, headers=headers), 400)
    assert err["type"] == "invalid_request_error" and err["param"] == param
    assert needle in str(err["message"])


def test_openai_limits_are_413_and_429_in_openais_shape(api: httpx.Client) -> None:
    for many in (["x"] * (LIMITS.texts + 1), [[101, 102]] * (LIMITS.texts + 1)):
        resp = api.post("/v1/embeddings", json={"model": MODEL, "input": many}, headers=AUTH)
        assert f"at most {LIMITS.texts} per request" in str(openai_error(resp, 413)["message"])
    big = b'{"model": "m", "input": "' + b"x" * LIMITS.body + b'"}'
    declared = api.post("/v1/embeddings", content=big, headers={**AUTH, "Content-Type": "application/json"})
    assert openai_error(declared, 413)["code"] == "request_too_large"
    throttled = {"Authorization": f"Bearer {THROTTLED_KEY}"}
    texts = [f"throttled text {i}" for i in range(LIMITS.texts)]  # burst 40, 0.5 more a second
    for _ in range(2):
        resp = api.post("/v1/embeddings", json={"model": MODEL, "input": texts}, headers=throttled)
    err = openai_error(resp, 429)
    assert (err["type"], err["code"]) == ("requests", "rate_limit_exceeded")
    assert int(resp.headers["Retry-After"]) >= 1
    missing = openai_error(api.post("/v1/embeddings", json={"model": MODEL, "input": "x"}), 401)
    assert missing["code"] == "invalid_api_key" and "missing credentials" in str(missing["message"])


def test_langchain_openai_embeddings_match_v1_encode(
    server: EncodeServer, api: httpx.Client
) -> None:
    embedder = OpenAIEmbeddings(
        model=MODEL, base_url=f"{server.url}/v1", api_key=API_KEY,  # type: ignore[arg-type]
        check_embedding_ctx_length=False,  # send text, not tiktoken's token ids
        chunk_size=LIMITS.texts, max_retries=0,
    )
    expected = encoded(api, TEXTS)
    np.testing.assert_allclose(embedder.embed_documents(TEXTS), expected, atol=1e-6)
    np.testing.assert_allclose(embedder.embed_query(TEXTS[1]), expected[1], atol=1e-6)
    assert not tiktoken.registry.ENCODINGS, "tiktoken loaded an encoding (it would download it)"


def test_tei_embed_matches_v1_encode_one_text_or_a_list(api: httpx.Client) -> None:
    expected = encoded(api, TEXTS)
    batch = api.post("/embed", json={"inputs": TEXTS}, headers=AUTH)
    assert batch.status_code == 200, batch.text
    np.testing.assert_allclose(batch.json(), expected, atol=1e-6)
    one = api.post("/embed", json={"inputs": TEXTS[2], "normalize": True}, headers=AUTH).json()
    np.testing.assert_allclose(one, expected[2:], atol=1e-6)


def test_tei_truncation_as_tei_does(api: httpx.Client) -> None:
    refused = api.post("/embed", json={"inputs": ["short", LONG_TEXT]}, headers=AUTH)
    err = tei_error(refused, 413)
    assert err["error_type"] == "validation" and "inputs[1] is longer than the model's 256 tokens" in err["error"]
    cut = api.post("/embed", json={"inputs": [LONG_TEXT], "truncate": True}, headers=AUTH)
    assert cut.status_code == 200, cut.text
    np.testing.assert_allclose(cut.json(), encoded(api, [LONG_TEXT]), atol=1e-6)


@pytest.mark.parametrize(
    ("body", "status", "error_type", "needle"),
    [
        ({"inputs": []}, 400, "empty", "cannot be empty"),
        ({"inputs": "x", "normalize": False}, 422, "validation", "normalises its vectors itself"),
        ({"inputs": "x", "truncate": 0}, 422, "validation", "valid boolean"),
        ({"inputs": ["x"] * (LIMITS.texts + 1)}, 413, "validation", f"at most {LIMITS.texts} per request"),
        ({"inputs": ["x" * (LIMITS.chars + 1)]}, 413, "validation", f"at most {LIMITS.chars} per text"),
        ({"inputs": [1]}, 422, "validation", "inputs must be a text or a list of texts"),
        ({"inputs": {"a": 1}}, 422, "validation", "inputs must be a text or a list of texts"),
        ({"texts": "x"}, 422, "validation", "Field required"),
    ],
    ids=["empty", "normalize-false", "truncate-not-bool", "too-many", "too-long", "not-text",
         "an-object", "wrong-field"],
)
def test_tei_refusals_in_teis_shape(
    api: httpx.Client, body: dict[str, object], status: int, error_type: str, needle: str
) -> None:
    err = tei_error(api.post("/embed", json=body, headers=AUTH), status)
    assert err["error_type"] == error_type and needle in err["error"]


def test_tei_auth_and_info(api: httpx.Client, encoder: OnnxEncoder) -> None:
    assert tei_error(api.post("/embed", json={"inputs": "x"}), 401)["error_type"] == "unauthorized"
    denied = api.post("/embed", json={"inputs": "x"}, headers={"X-API-Key": READ_ONLY_KEY})
    assert tei_error(denied, 403)["error_type"] == "forbidden"
    tei_error(api.get("/info"), 401)
    info = api.get("/info", headers={"X-API-Key": READ_ONLY_KEY}).json()
    assert (info["model_id"], info["model_version"], info["dimension"]) == (MODEL, encoder.version, 384)
    assert (info["max_input_length"], info["max_client_batch_size"]) == (256, LIMITS.texts)
    assert info["max_input_chars"] == LIMITS.chars and info["auto_truncate"] is False


def test_metrics_count_each_protocol(api: httpx.Client, client: openai.OpenAI) -> None:
    def counted() -> dict[str, float]:
        text = api.get("/metrics").text
        found = re.findall(r'^vibeshelf_encode_texts_total\{protocol="(\w+)"\} (\S+)$', text, re.MULTILINE)
        return {protocol: float(value) for protocol, value in found}

    before = counted()
    encoded(api, TEXTS)
    client.embeddings.create(model=MODEL, input=TEXTS[:2])
    assert api.post("/embed", json={"inputs": TEXTS[0]}, headers=AUTH).status_code == 200
    after = counted()
    gained = {p: after[p] - before.get(p, 0.0) for p in ("encode", "openai", "tei")}
    assert gained == {"encode": 3, "openai": 2, "tei": 1}
    assert 'route="/v1/embeddings"' in api.get("/metrics").text


def test_schemathesis_finds_nothing_on_the_protocol_routes(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Every check, seeded and bounded, on a server with the default limits (a schema-valid text
    or list never passes them: they stay out of the schema, see openai_api.document_model)."""
    srv = EncodeServer(tmp_path_factory.mktemp("schema-data"), {
        "VIBESHELF_AUTH__API_KEYS": KEYS_JSON, "VIBESHELF_ENCODE__RATE_LIMIT_PER_S": "0",
    })
    try:
        srv.wait_ready()
        run = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "run", f"{srv.url}/openapi.json",
             "-H", f"Authorization: Bearer {API_KEY}", "--checks", "all", "--seed", "25",
             "--max-examples", "40", "--workers", "1", "--generation-database", "none",
             "--include-path-regex", "^/(v1/embeddings|v1/models|embed|info)$",
             "--no-color"],  # run where its reports and crash cache may stay: a temp dir
            check=False, capture_output=True, text=True, timeout=300,
            cwd=tmp_path_factory.mktemp("schemathesis"),
        )
    finally:
        srv.stop()
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert re.search(r"\d+ generated, \d+ passed", run.stdout), run.stdout[-2000:]


def test_log_lines_name_the_protocol_and_hold_no_text(server: EncodeServer) -> None:
    """Last in this module: stops the server to read all it logged."""
    records = [json.loads(line) for line in server.stop() if line.startswith("{")]
    encoded_lines = [r for r in records if r["msg"].startswith("encoded ")]
    assert {r["protocol"] for r in encoded_lines} == {"encode", "openai", "tei"}
    assert all(r["caller"] == "key:tests" for r in encoded_lines if r["protocol"] == "tei")
    assert not [r for r in records if any(text in json.dumps(r) for text in TEXTS)]
