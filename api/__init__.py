"""spamops HTTP services: one FastAPI app per package, plus `common` shared by all of them."""
