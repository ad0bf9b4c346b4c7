"""ASGI entry point for uvicorn and gunicorn: `vibeshelf.serve.asgi:app`, with the settings
`vibeshelf serve` handed down."""

from vibeshelf.serve.app import create_app
from vibeshelf.serve.handoff import inherited_settings

app = create_app(inherited_settings())
