"""The JSON shapes of the CDS Hooks 2.0 API, as pydantic models (they make the OpenAPI).

Requests are checked only as far as CDS Hooks defines them; hook-specific
context and prefetch contents are checked by :mod:`cluneal.service.hooks`.
Unknown members are allowed, as CDS Hooks extensions require.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CdsRequest",
    "CdsResponse",
    "Discovery",
    "ErrorBody",
    "Feedback",
    "FeedbackItem",
    "FhirAuthorization",
]

_Text = Annotated[str, Field(min_length=1, max_length=4096)]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class FhirAuthorization(_Open):
    """The OAuth 2.0 bearer token the service may use on ``fhirServer``."""

    access_token: _Text
    token_type: Literal["Bearer"]
    expires_in: int | None = None
    scope: str | None = None
    subject: str | None = None


class CdsRequest(_Open):
    """A CDS Hooks 2.0 service request."""

    hook: _Text
    hookInstance: _Text  # noqa: N815 - CDS Hooks' member name
    fhirServer: Annotated[str, Field(max_length=2048)] | None = None  # noqa: N815
    fhirAuthorization: FhirAuthorization | None = None  # noqa: N815
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None


class OverrideReason(_Open):
    """Why a clinician overrode a card."""

    reason: dict[str, Any] | None = None
    userComment: str | None = None  # noqa: N815


class FeedbackItem(_Open):
    """What happened to one card."""

    card: _Text
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[dict[str, Any]] | None = None  # noqa: N815
    overrideReason: OverrideReason | None = None  # noqa: N815
    outcomeTimestamp: _Text  # noqa: N815


class Feedback(_Open):
    """The body of ``POST /cds-services/{id}/feedback``."""

    feedback: Annotated[list[FeedbackItem], Field(min_length=1, max_length=100)]


class CdsResponse(_Open):
    """A CDS Hooks response: cards, most urgent first."""

    cards: list[dict[str, Any]]
    extension: dict[str, Any] | None = None


class Discovery(_Open):
    """The discovery document."""

    services: list[dict[str, Any]]


class ErrorBody(_Open):
    """Every refusal: a machine-readable error, a message naming what is wrong."""

    error: str
    message: str
    safetyStatement: str  # noqa: N815
