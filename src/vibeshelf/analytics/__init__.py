"""Analytics off the request path: served lists and feedback, written in batches, rolled up daily."""
