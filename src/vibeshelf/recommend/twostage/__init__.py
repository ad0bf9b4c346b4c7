"""Two-stage recommendations' second stage: features, the learned ranker, business rules and boosts."""
