"""The ``cluneal`` command line: ``cluneal demo`` and friends.

Bad input exits with status 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from pydantic import ValidationError

from cluneal import __version__
from cluneal.errors import ClunealError
from cluneal.knowledge import KNOWLEDGE_BASE_VERSION

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]

_SAFETY = "cluneal supports clinical decisions; it does not make them."


def _demo_patient() -> object:
    from cluneal.patient import Patient

    return Patient(
        age=72,
        sex="female",
        weight="68 kg",
        height="163 cm",
        serum_creatinine="1.3 mg/dL",
        medications=["sertraline"],
    )


def _render_renal(patient: object) -> str:
    from cluneal.patient import Patient
    from cluneal.renal import assess_renal_function

    assert isinstance(patient, Patient)  # noqa: S101 - built just above
    renal = assess_renal_function(patient)
    lines = [
        "Renal function",
        f"  CrCl (Cockcroft-Gault): {renal.crcl_ml_min:.1f} mL/min"
        if renal.crcl_ml_min is not None
        else "  CrCl: unknown",
        f"  eGFR (CKD-EPI 2021):    {renal.egfr.magnitude:.0f} mL/min/1.73 m2"
        f" ({renal.gfr_category})"
        if renal.egfr is not None and renal.gfr_category is not None
        else "  eGFR: unknown",
        f"  Dosing band:            {renal.band.value} [{renal.rule_id}; {renal.citation}]",
        f"  Why: {renal.reason}",
    ]
    return "\n".join(lines)


def _cmd_demo(_: argparse.Namespace) -> int:
    patient = _demo_patient()
    print(f"cluneal {__version__} - knowledge base {KNOWLEDGE_BASE_VERSION}")
    print(_SAFETY)
    print()
    print("Example patient: 72-year-old woman, 68 kg, 163 cm, creatinine 1.3 mg/dL, on sertraline")
    print()
    print(_render_renal(patient))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cluneal",
        description=f"Cluneal neuralgia care as a computable, explainable model. {_SAFETY}",
    )
    parser.add_argument("--version", action="version", version=f"cluneal {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser("demo", help="run a built-in example case end to end")
    demo.set_defaults(handler=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        0 on success, 2 on bad input.

    Example:
        >>> main(["demo"])
        cluneal ... - knowledge base ...
        0
    """
    parser = _parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        status: int = handler(args)
    except (ClunealError, ValidationError) as exc:
        message = " ".join(str(exc).split())
        print(f"cluneal: error: {message}", file=sys.stderr)
        return 2
    return status
