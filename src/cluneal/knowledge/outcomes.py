"""Loader for ``outcomes.toml``: the counts the pathway simulation draws from.

Each parameter is a count from a named, cited case series, with its rule id:
a response is ``successes`` of ``trials`` (posterior Beta(1 + s, 1 + n - s),
a uniform prior); a relapse hazard is ``events`` over a time at risk built from
the series' mean durations (posterior Gamma(1 + events, time at risk), a flat
prior on the hazard). A procedure with no count here is refused by the
simulation, never given an invented figure.

Example:
    >>> from cluneal.knowledge.outcomes import outcome_parameters
    >>> rfa = outcome_parameters().response_for("radiofrequency_ablation")
    >>> rfa.successes, rfa.trials, rfa.citation
    (46, 51, 'scn_rfa_series')
"""

from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any, Final, Self

from pydantic import Field, ValidationError, model_validator

from cluneal._base import FrozenModel
from cluneal.errors import KnowledgeBaseError
from cluneal.knowledge import read_toml
from cluneal.knowledge.texts import checked, own_values
from cluneal.units import Duration, Kind, magnitude_in

__all__ = [
    "OutcomeParameters",
    "RelapseCount",
    "ResponseCount",
    "outcome_parameters",
    "parse_outcome_parameters",
]

_SOURCE = "outcomes.toml"


class _Count(FrozenModel):
    rule_id: Annotated[str, Field(min_length=1)]
    procedure: Annotated[str, Field(min_length=1)]
    series: Annotated[str, Field(min_length=1)]
    citation: Annotated[str, Field(min_length=1)]
    outcome: Annotated[str, Field(min_length=1)]


class ResponseCount(_Count):
    """How many of a series responded to a procedure.

    Attributes:
        successes: Patients who responded.
        trials: Patients treated (at least one).
        threshold_percent: The relief that counted as a response in the series.
    """

    successes: Annotated[int, Field(ge=0)]
    trials: Annotated[int, Field(ge=1)]
    threshold_percent: Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)]

    @model_validator(mode="after")
    def _at_most_trials(self) -> Self:
        if self.successes > self.trials:
            msg = f"successes ({self.successes}) exceed trials ({self.trials})"
            raise ValueError(msg)
        return self

    @property
    def beta(self) -> tuple[float, float]:
        """The posterior Beta(1 + successes, 1 + trials - successes) (uniform prior)."""
        return 1.0 + self.successes, 1.0 + self.trials - self.successes


class RelapseCount(_Count):
    """How often relief from a procedure ended, and over how much time at risk.

    Attributes:
        events: Relapses (the pain returned).
        event_mean: Mean time to those relapses; ``None`` when not reported (the
            events then add no time at risk: the conservative reading).
        censored: Patients still in relief at their last follow-up.
        censored_mean: Their mean follow-up.
    """

    events: Annotated[int, Field(ge=0)]
    event_mean: Duration | None = None
    censored: Annotated[int, Field(ge=0)] = 0
    censored_mean: Duration | None = None

    @model_validator(mode="after")
    def _has_time_at_risk(self) -> Self:
        if self.censored and self.censored_mean is None:
            msg = "censored patients need their mean follow-up (censored_mean)"
            raise ValueError(msg)
        if self.exposure_days <= 0:
            msg = "no time at risk: give event_mean or censored with censored_mean"
            raise ValueError(msg)
        return self

    @property
    def exposure_days(self) -> float:
        """The time at risk, in days: events x their mean plus censored x theirs."""
        days = 0.0
        if self.event_mean is not None:
            days += self.events * magnitude_in(self.event_mean, Kind.DURATION)
        if self.censored_mean is not None:
            days += self.censored * magnitude_in(self.censored_mean, Kind.DURATION)
        return days

    @property
    def gamma(self) -> tuple[float, float]:
        """The posterior Gamma(shape 1 + events, rate time at risk in days) (flat prior)."""
        return 1.0 + self.events, self.exposure_days


class OutcomeParameters(FrozenModel):
    """Every count of ``outcomes.toml``.

    Attributes:
        response: Response counts, one per procedure.
        relapse: Relapse counts, one per procedure.
    """

    response: tuple[ResponseCount, ...]
    relapse: tuple[RelapseCount, ...]

    @model_validator(mode="after")
    def _one_per_procedure(self) -> Self:
        for name in ("response", "relapse"):
            procedures = [c.procedure for c in getattr(self, name)]
            if len(procedures) != len(set(procedures)):
                msg = f"{name}: more than one count for a procedure"
                raise ValueError(msg)
        return self

    def response_for(self, procedure: str) -> ResponseCount | None:
        """The response count of a procedure, or ``None`` when there is none."""
        return next((c for c in self.response if c.procedure == procedure), None)

    def relapse_for(self, procedure: str) -> RelapseCount | None:
        """The relapse count of a procedure, or ``None`` when there is none."""
        return next((c for c in self.relapse if c.procedure == procedure), None)


def parse_outcome_parameters(raw: Mapping[str, Any]) -> OutcomeParameters:
    """Validate parsed ``outcomes.toml`` data.

    The texts (``series``, ``outcome``) name the counts they state (``{successes}
    of {trials}``, ``{censored_mean}``, ``{non_responders}``, ``{followed}``) and
    are filled in here.

    Args:
        raw: The parsed TOML.

    Returns:
        The parameters.

    Raises:
        KnowledgeBaseError: A count is malformed, or a text does not fill in or
            writes one of its count's numbers literally.

    Example:
        >>> from cluneal.knowledge import read_toml
        >>> len(parse_outcome_parameters(read_toml("outcomes.toml")).response)
        4
    """
    try:
        filled = _filled(raw)
        return OutcomeParameters(response=filled["response"], relapse=filled["relapse"])
    except ValidationError as exc:
        raise KnowledgeBaseError(_SOURCE, str(exc)) from exc


# What a count's texts (series, outcome) may name besides its own numbers: its durations
# as written and the derived counts. Another count's figures stay quoted: a count may be
# replaced or left out on its own (the simulation then refuses the procedure).
_TEXTS: Final = ("series", "outcome")


def _filled(raw: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The counts with their texts filled from their numbers (refusing a restated one)."""
    out: dict[str, list[Any]] = {}
    for kind in ("response", "relapse"):
        out[kind] = []
        for row in raw.get(kind, ()):
            if not isinstance(row, dict):
                out[kind].append(row)  # the model reports what is wrong
                continue
            own = own_values(row)
            # Derived counts and durations fill the texts; only the row's own numbers are
            # checked for a literal repeat (a sum may equal a quoted figure by chance).
            more = {k: v for k, v in row.items() if isinstance(v, str)}
            if kind == "response" and {"successes", "trials"} <= own.keys():
                more["non_responders"] = own["trials"] - own["successes"]
            if kind == "relapse":
                more["followed"] = own.get("events", 0) + own.get("censored", 0)
            filled = dict(row)
            for field in _TEXTS:
                if isinstance(row.get(field), str):
                    where = f"{row.get('rule_id')}.{field}"
                    filled[field] = checked(
                        row[field], own, more=more, later=(), source=_SOURCE, where=where
                    )
            out[kind].append(filled)
    return out


@cache
def outcome_parameters() -> OutcomeParameters:
    """The built-in outcome counts (read and validated once).

    Returns:
        The parameters of ``outcomes.toml``.

    Example:
        >>> outcome_parameters().response_for("peripheral_nerve_stimulation").beta
        (6.0, 2.0)
    """
    return parse_outcome_parameters(read_toml(_SOURCE))
