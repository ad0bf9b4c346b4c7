"""Recommender models: implicit-feedback ALS and the shelf regression that gives cold items factors."""
