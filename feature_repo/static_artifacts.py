"""Feast's one hook into `feast serve`'s app: its lifespan execs this file and calls `load_artifacts(app)`
before serving. It gives `/docs` the offline Swagger UI every spamops service has (api/common/docs.py).

Listed in .feastignore: `feast apply` imports every other .py file here, and this one imports `api`.
"""

from fastapi import FastAPI


def load_artifacts(app: FastAPI) -> None:
    # Feast logs any Exception from the hook as a mere warning and serves on with its CDN page. SystemExit is
    # no Exception, so a broken hook fails the worker's start-up: gunicorn exits, with the traceback logged.
    try:
        from api.common.docs import add_docs  # here, so that an import error is not swallowed either

        add_docs(app)
    except Exception as error:
        raise SystemExit(f"feature_repo/static_artifacts.py could not install /docs: {error!r}") from error
