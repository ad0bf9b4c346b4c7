"""Embed: sentence-embedding models served with ONNX Runtime."""
