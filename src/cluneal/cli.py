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

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]

_SAFETY = "cluneal supports clinical decisions; it does not make them."


_DEMO_CASE: dict[str, object] = {
    "patient": {
        "age": 72,
        "sex": "female",
        "weight": "68 kg",
        "height": "163 cm",
        "serum_creatinine": "1.3 mg/dL",
        "medications": ["sertraline", "apixaban"],
    },
    "findings": {
        "pain": {"low_back_pain": True, "deep_aching_poorly_localized": True, "buttock": True},
        "tender_points": [{"site": "iliac_crest", "reproduces_pain": True, "side": "left"}],
        "block": {
            "branches": ["superior"],
            "relief_percent": 80,
            "relief_duration": "3 weeks",
            "guidance": "ultrasound",
        },
        "neuro": {
            "motor_weakness": False,
            "dermatomal_sensory_loss": False,
            "straight_leg_raise": False,
            "bladder_bowel_dysfunction": False,
        },
    },
    "history": {"outcomes": []},
}


def _cmd_demo(_: argparse.Namespace) -> int:
    from cluneal.plan import care_plan
    from cluneal.report import format_plan

    case = _DEMO_CASE
    print(f"cluneal {__version__} - built-in example case")
    print(
        "A 72-year-old woman, 68 kg, creatinine 1.3 mg/dL, on sertraline and apixaban, with"
        " left-sided low back pain, a tender point on the iliac crest and 3 weeks of relief"
        " from an ultrasound-guided block."
    )
    print()
    plan = care_plan(case["patient"], case["findings"], case["history"])  # type: ignore[arg-type]
    print(format_plan(plan))
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
        cluneal ... - built-in example case
        ...
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
