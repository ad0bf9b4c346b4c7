"""Serve: the FastAPI app, its JSON API and its server-rendered page."""
