"""The embedding service app: its GIL switch interval while it serves, its credentials in OpenAPI."""

from __future__ import annotations

import asyncio
import sys

import httpx
import pytest

from vibeshelf.config.core import ModelSettings
from vibeshelf.embed.encoder import OnnxEncoder, load_encoder
from vibeshelf.serve.app import create_app
from vibeshelf.settings import Settings

KEY = "in-process-key-0123456789"
ENCODE_ROUTES = ["/v1/encode", "/v1/similarity", "/v1/embeddings", "/embed"]


def encode_settings(**encode: object) -> Settings:
    return Settings.model_validate({
        "serve": {"apis": "encode"}, "auth": {"api_keys": {"t": {"key": KEY}}}, "encode": encode,
    })


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> OnnxEncoder:
    return load_encoder(ModelSettings(threads=1), tmp_path_factory.mktemp("models"))


async def interval_while_serving(encoder: OnnxEncoder, settings: Settings) -> float:
    """The switch interval seen while the app answers POST /v1/encode."""
    app = create_app(settings, encoder=encoder)
    transport = httpx.ASGITransport(app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test",
                          headers={"X-API-Key": KEY}) as client,
    ):
        response = await client.post("/v1/encode", json={"texts": "a cozy mystery"})
        assert response.status_code == 200, response.text
        return sys.getswitchinterval()


@pytest.mark.parametrize("switch_ms", [0.25, 2.0])
def test_the_gil_switch_interval_is_the_setting_while_serving_and_restored_after(
    encoder: OnnxEncoder, switch_ms: float
) -> None:
    before = sys.getswitchinterval()
    settings = encode_settings(gil_switch_ms=switch_ms)
    assert asyncio.run(interval_while_serving(encoder, settings)) == pytest.approx(switch_ms / 1000)
    assert sys.getswitchinterval() == before


def test_openapi_names_both_credentials_on_every_encode_route() -> None:
    schema = create_app(encode_settings()).openapi()
    assert set(schema["components"]["securitySchemes"]) == {"HTTPBearer", "APIKeyHeader"}
    for path in ENCODE_ROUTES:
        security = schema["paths"][path]["post"]["security"]
        assert security == [{"HTTPBearer": []}, {"APIKeyHeader": []}], path
