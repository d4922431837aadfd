"""Batch jobs: scoring whole files or offline-store slices with the models serving uses, and the backfill."""
