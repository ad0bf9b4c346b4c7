"""ASGI entry point for uvicorn and gunicorn: `vibeshelf.serve.asgi:app`."""

from vibeshelf.serve.app import create_app

app = create_app()
