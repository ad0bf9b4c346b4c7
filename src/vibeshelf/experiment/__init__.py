"""Online experiments: model versions served side by side, traffic split, feedback and the bandit."""
