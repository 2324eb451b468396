"""Seeded randomness that does not depend on how the cohort is split.

The seed's entropy is the root of every stream (:class:`numpy.random.SeedSequence`):

* each procedure's parameters come from their own stream, drawn once per draw
  (probabilistic sensitivity analysis): a response probability from the Beta
  posterior of its count and a monthly relapse hazard from the Gamma posterior
  of its relapses;
* each patient's chance outcomes come from one stream per month and purpose
  (response, relief duration, the duration of a block given before the
  simulation), laid out patient after patient, ``draws`` numbers each. The
  ``i``-th patient of the cohort reads numbers ``i * draws`` onwards, reached
  by jumping ahead (``PCG64.advance``) rather than by drawing the patients
  before it.

So the numbers a patient gets depend on the seed, the number of draws and the
patient's position in the cohort only: a cohort split into any partitions, or
walked in any chunks, gets exactly the numbers it gets in one piece.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

from cluneal.simulation._states import DAYS_PER_MONTH, PROCEDURES

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from cluneal.simulation._counts import Counts

__all__ = ["DURATION", "INITIAL", "RESPONSE", "Parameters", "draw_parameters", "entropy_of"]

_PARAMETERS: Final = 0
_PATIENTS: Final = 1
# The purposes of a patient's numbers.
RESPONSE: Final = 0
DURATION: Final = 1
INITIAL: Final = 2


def entropy_of(seed: int | None) -> int:
    """The root entropy of a run: the seed itself, or fresh entropy when there is none."""
    entropy = np.random.SeedSequence(seed).entropy
    assert isinstance(entropy, int)  # noqa: S101 - an int seed or None gives an int
    return entropy


@dataclass(frozen=True)
class Parameters:
    """Each procedure's parameters in each draw, ``procedures x draws``.

    Attributes:
        response: The probability of a response.
        hazard: The relapse hazard per month (1 where the procedure is not reached).
    """

    response: NDArray[np.float64]
    hazard: NDArray[np.float64]


def draw_parameters(counts: Counts, draws: int, entropy: int) -> Parameters:
    """Every reached procedure's parameters, once per draw, each from its own stream."""
    response = np.zeros((len(PROCEDURES), draws))
    hazard = np.ones((len(PROCEDURES), draws))
    for k, (success, relapse) in enumerate(zip(counts.response, counts.relapse, strict=True)):
        if success is None or relapse is None:
            continue
        rng = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(entropy, spawn_key=(_PARAMETERS, k)))
        )
        a, b = success.beta
        response[k] = rng.beta(a, b, size=draws)
        shape, rate_days = relapse.gamma
        hazard[k] = rng.gamma(shape, 1.0 / rate_days, size=draws) * DAYS_PER_MONTH
    return Parameters(response=response, hazard=hazard)


def uniforms(
    entropy: int, purpose: int, month: int, *, first: int, shape: tuple[int, int]
) -> NDArray[np.float64]:
    """Uniform numbers in [0, 1) for ``shape = (patients, draws)`` from patient ``first`` on."""
    bits = np.random.PCG64(np.random.SeedSequence(entropy, spawn_key=(_PATIENTS, purpose, month)))
    # One 64-bit output per double: jumping ahead skips exactly the patients before.
    bits.advance(first * shape[1])
    values: NDArray[np.float64] = np.random.Generator(bits).random(shape)
    return values


def exponentials(
    entropy: int, purpose: int, month: int, *, first: int, shape: tuple[int, int]
) -> NDArray[np.float64]:
    """Standard exponential numbers for the same patients (by inversion of the uniforms)."""
    values: NDArray[np.float64] = -np.log1p(
        -uniforms(entropy, purpose, month, first=first, shape=shape)
    )
    return values
