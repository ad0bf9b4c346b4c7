"""Recommendations: interactions ingest, collaborative filtering, cold start, serving and evaluation."""
