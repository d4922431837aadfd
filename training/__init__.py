"""Training package for spamops: features, datasets from Feast, models, evaluation and artifacts."""
