"""The two ways a CDS Hooks request is refused: malformed (400) or data missing (412)."""

from __future__ import annotations

from cluneal.errors import ClunealError

__all__ = ["BadRequestError", "DataUnavailableError", "ServiceRequestError"]


class ServiceRequestError(ClunealError):
    """A request the service refuses; ``status`` is the HTTP status it answers with."""

    status = 400
    error = "bad_request"


class BadRequestError(ServiceRequestError):
    """A malformed CDS Hooks request (HTTP 400)."""


class DataUnavailableError(ServiceRequestError):
    """Data the service needs was neither sent nor could be fetched (HTTP 412, CDS Hooks 2.0)."""

    status = 412
    error = "data_unavailable"
