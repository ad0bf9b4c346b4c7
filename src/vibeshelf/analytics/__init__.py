"""Analytics off the request path: served lists and feedback, queued, written in batches, rolled up daily."""
