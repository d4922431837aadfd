"""The proxy's own domain errors; `api.common.errors.register_error_handlers` maps them by status code."""

from api.common.errors import DomainError, UpstreamTimeout


class FeatureServiceRefused(DomainError):
    """The request names something the proxy does not serve (a label service, raw features)."""

    status_code = 403


class FeatureServerTimeout(UpstreamTimeout):
    """The feature server did not connect or answer within the budget: a gateway timeout, not a 503."""

    status_code = 504


class UpstreamRejected(DomainError):
    """The feature server answered 4xx: its status is passed through, with its message as the detail."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
