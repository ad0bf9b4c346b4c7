"""Two-tower retrieval: item and user towers trained on interactions, served without torch."""
