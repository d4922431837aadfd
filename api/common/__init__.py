"""Shared by every service: settings base, domain errors, logging, metrics, HTTP client, storage."""
