"""Two-stage movie recommender: splits, metrics and baselines (pure logic, no Dagster)."""
