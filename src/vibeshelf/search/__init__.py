"""Search: sanitize, encode, KNN, filter, dedupe and rank."""
