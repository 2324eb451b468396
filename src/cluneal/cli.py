"""The ``cluneal`` command line (also ``python -m cluneal``).

Commands: ``demo``, ``plan CASE.json [--json]``, ``schedule DRUG ...``,
``schema``, ``serve``,
``cohort INPUT OUTPUT``. Bad input or a missing file exits with status 2 and a message on
stderr (one line per problem), never a traceback; every other run exits 0. A
case file is checked before it is read: a regular file of at most 1 MB. The
safety statement is printed with every human-readable result.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from typing import TYPE_CHECKING, Any, NoReturn

from pydantic import ValidationError

from cluneal.errors import ClunealError, problems, show

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]

_SAFETY = "cluneal supports clinical decisions; it does not make them."
_MAX_CASE_BYTES = 1_000_000
_TITRATION_WORDS = frozenset({"standard", "start_low"})
_PROTOCOL_HELP = (
    "a local protocol file (TOML, or JSON when the name ends in .json): the clinic's "
    "stocked strengths, caps, exclusions and thresholds"
)

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


class _UsageError(Exception):
    """Raised by the parser instead of exiting, so main() owns the exit status."""


class _Exit(Exception):  # noqa: N818 - a request to exit, not an error
    """Raised by the parser after --help or --version, so main() returns the status."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message} (see --help)")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            self._print_message(message, sys.stderr)
        raise _Exit(status)


def _version() -> str:
    import cluneal

    return str(cluneal.__version__)


def _message(exc: BaseException) -> str:
    """The error for stderr: one line, or a count and one indented line per problem."""
    lines = problems(exc)
    if len(lines) == 1:
        return f"cluneal: error: {lines[0]}"
    what = f"invalid {exc.title}" if isinstance(exc, ValidationError) else "invalid input"
    listed = "".join(f"\n  {line}" for line in lines)
    return f"cluneal: error: {what}, {len(lines)} problems:{listed}"


def _read_bytes(path: str) -> bytes:
    """Read a case file, checking what it is and its size before reading it."""
    if path == "-":
        return sys.stdin.buffer.read(_MAX_CASE_BYTES + 1)
    shown = show(path)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer before the check.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "invalid path"
        raise ClunealError(f"cannot read case file {shown}: {reason}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ClunealError(f"case file {shown} is not a regular file")
        if info.st_size > _MAX_CASE_BYTES:
            raise ClunealError(f"case file {shown} is larger than {_MAX_CASE_BYTES} bytes")
        with os.fdopen(os.dup(fd), "rb") as file:
            return file.read(_MAX_CASE_BYTES + 1)
    except OSError as exc:
        raise ClunealError(f"cannot read case file {shown}: {exc.strerror}") from None
    finally:
        os.close(fd)


def _read_case(path: str) -> Any:
    from cluneal.case import Case

    raw = _read_bytes(path)
    if len(raw) > _MAX_CASE_BYTES:
        raise ClunealError(f"case file {show(path)} is larger than {_MAX_CASE_BYTES} bytes")
    return Case.model_validate_json(raw)


def _cmd_demo(_: argparse.Namespace) -> int:
    from cluneal.case import Case

    case = Case.model_validate(_DEMO_CASE)
    print(f"cluneal {_version()} - built-in example case")
    print(
        "A 72-year-old woman, 68 kg, creatinine 1.3 mg/dL, on sertraline and apixaban, with"
        " left-sided low back pain, a tender point on the iliac crest and 3 weeks of relief"
        " from an ultrasound-guided block."
    )
    print()
    print(case.plan())
    return 0


def _knowledge(path: str | None) -> Any:
    """The built-in knowledge base, with the local protocol file applied when one is given."""
    if path is None:
        return None
    from cluneal.knowledge.base import knowledge_base
    from cluneal.protocol import LocalProtocol

    read = LocalProtocol.from_json if path.lower().endswith(".json") else LocalProtocol.from_toml
    return knowledge_base().with_protocol(read(path))


def _cmd_plan(args: argparse.Namespace) -> int:
    knowledge = _knowledge(args.protocol)
    case = _read_case(args.case)
    plan = case.plan(
        block_threshold=args.block_threshold,
        lasting_relief=args.lasting_relief,
        knowledge=knowledge,
    )
    if args.json:
        print(plan.model_dump_json(indent=2))
    else:
        print(plan)
    return 0


def _cmd_schedule(args: argparse.Namespace) -> int:
    from cluneal.patient import Patient
    from cluneal.titration import titration_schedule

    titration, local = args.titration, args.protocol
    if local in _TITRATION_WORDS and titration is None:
        # Before local protocols, --protocol named the titration protocol: still read so.
        titration, local = local, None
    knowledge = _knowledge(local)

    optional = {"weight": args.weight, "height": args.height, "serum_creatinine": args.creatinine}
    fields: dict[str, Any] = {"age": args.age, "sex": args.sex}
    fields.update({k: v for k, v in optional.items() if v is not None})
    fields.update(
        on_dialysis=args.dialysis,
        hepatic_impairment=args.hepatic,
        conditions=args.condition,
        medications=args.medication,
    )
    if args.hla_b_1502 is not None:
        fields["hla_b_1502"] = args.hla_b_1502 == "positive"
    patient = Patient.model_validate(fields)
    schedule = titration_schedule(
        args.drug,
        patient,
        args.target,
        start_date=args.start_date,
        protocol=titration,
        weight_basis=args.weight_basis,
        knowledge=knowledge,
    )
    if args.json:
        print(schedule.model_dump_json(indent=2))
    else:
        from cluneal.report import format_schedule

        print(_SAFETY)
        print(format_schedule(schedule))
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    from cluneal.case import case_json_schema, tidy_json_schema

    if args.output:
        from cluneal.plan import CarePlan

        schema = tidy_json_schema(CarePlan.model_json_schema(mode="serialization"))
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["title"] = "cluneal care plan"
    else:
        schema = case_json_schema()
    print(json.dumps(schema, indent=2))
    return 0


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        msg = f"got {text!r}; expected a TCP port 0-65535"
        raise argparse.ArgumentTypeError(msg)
    return port


def _trust(text: str) -> tuple[str, str]:
    issuer, sep, jwks = text.partition("=")
    if not sep or not issuer.strip() or not jwks.strip():
        msg = f"--trust takes ISSUER=JWKS (a JWK Set URL or file), got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return issuer.strip(), jwks.strip()


def _cmd_serve(args: argparse.Namespace) -> int:
    """Serve the CDS Hooks service with uvicorn until interrupted."""
    import json

    from cluneal.errors import MissingExtraError
    from cluneal.service import create_app

    try:
        import uvicorn
    except ImportError as exc:
        raise MissingExtraError("service", "cluneal serve") from exc
    trusted = dict(args.trust or [])
    local = args.host in {"127.0.0.1", "::1", "localhost"}
    if not trusted and not local and not args.allow_unauthenticated:
        print(
            f"cluneal serve: listening on {args.host} needs --trust ISSUER=JWKS (the EHRs whose "
            "signed JWTs the service accepts); --allow-unauthenticated serves without any check",
            file=sys.stderr,
        )
        return 2
    options = {
        "cors_origins": args.cors_origin or None,
        "trusted_issuers": trusted or None,
        "public_url": args.public_url,
    }
    app = create_app(**options)  # checks the options before any worker starts
    where = f"http://{args.host}:{args.port}/cds-services"
    print(f"cluneal: CDS Hooks discovery at {where}. {_SAFETY}", file=sys.stderr)
    if trusted:
        print(f"cluneal: trusted issuers: {', '.join(trusted)}", file=sys.stderr)
    else:
        print(
            "cluneal: WARNING: no trusted issuers (--trust): requests are NOT authenticated; "
            "use this only for a local sandbox on 127.0.0.1",
            file=sys.stderr,
        )
    if args.workers > 1:
        from cluneal.service.app import CONFIG_ENV

        os.environ[CONFIG_ENV] = json.dumps(options)
        uvicorn.run(
            "cluneal.service.app:app_from_environment",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="info",
        )
    else:
        uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 64:
        msg = f"--workers takes a whole number from 1 to 64, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _cmd_cohort(args: argparse.Namespace) -> int:
    """Stream a Parquet or CSV cohort through care plans (or one drug's schedules)."""
    from cluneal.errors import MissingExtraError

    try:
        from cluneal.cohort._files import run
    except ImportError as exc:
        raise MissingExtraError("cohort", "cluneal cohort") from exc
    from cluneal.knowledge.drugs import parse_drug

    drug = None if args.drug is None else parse_drug(args.drug)
    summary = run(
        args.input,
        args.output,
        drug=drug,
        knowledge=_knowledge(args.protocol),
        quiet=args.quiet,
    )
    for line in summary.lines():
        print(line)
    print(_SAFETY)
    return 0


def _age(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"age must be a number of years, got {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cluneal",
        description=(
            "Cluneal neuralgia care as a computable, explainable model: diagnosis, pathway, "
            f"dosing and safety. {_SAFETY}"
        ),
        epilog=(
            "examples:\n"
            "  cluneal demo\n"
            "  cluneal plan examples/case.json\n"
            "  cluneal plan case.json --json > plan.json\n"
            "  cluneal schedule gabapentin --age 78 --sex female --weight '60 kg' "
            "--creatinine '1.4 mg/dL'\n"
            "  cluneal schema > case.schema.json"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"cluneal {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    demo = commands.add_parser("demo", help="run a built-in example case end to end")
    demo.set_defaults(handler=_cmd_demo)

    plan = commands.add_parser(
        "plan",
        help="print the care plan of a case file (JSON: patient, findings, history)",
        description="Print the care plan of a case file; 'cluneal schema' prints its format.",
    )
    plan.add_argument("case", help="path to the case JSON file ('-' reads standard input)")
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    plan.add_argument(
        "--block-threshold",
        type=float,
        default=None,
        help="relief (percent) at or above which a block responds (default: the knowledge base's)",
    )
    plan.add_argument(
        "--lasting-relief",
        default=None,
        help="relief lasting at least this long is lasting (default: the knowledge base's)",
    )
    plan.add_argument("--protocol", metavar="FILE", help=_PROTOCOL_HELP)
    plan.set_defaults(handler=_cmd_plan)

    schedule = commands.add_parser(
        "schedule",
        help="print a titration schedule for one drug and one patient",
        description="Every quantity needs its unit: --weight '70 kg', --creatinine '97 umol/L'.",
    )
    schedule.add_argument(
        "drug",
        help="nortriptyline, carbamazepine, gabapentin, pregabalin, naltrexone or tramadol",
    )
    schedule.add_argument("--age", required=True, type=_age, help="age in years (18-120)")
    schedule.add_argument("--sex", required=True, help="female or male")
    schedule.add_argument("--weight", help="body weight with unit, e.g. '70 kg' or '154 lb'")
    schedule.add_argument("--height", help="height with unit, e.g. '175 cm'")
    schedule.add_argument(
        "--creatinine", help="serum creatinine with unit, e.g. '1.1 mg/dL' or '97 umol/L'"
    )
    schedule.add_argument("--dialysis", action="store_true", help="on haemodialysis")
    schedule.add_argument(
        "--hepatic", default="none", help="hepatic impairment: none, mild, moderate, severe"
    )
    schedule.add_argument(
        "--condition", action="append", default=[], help="a condition (repeatable)"
    )
    schedule.add_argument(
        "--medication", action="append", default=[], help="a current medication (repeatable)"
    )
    schedule.add_argument(
        "--hla-b-1502", choices=["positive", "negative"], help="HLA-B*15:02 result, if tested"
    )
    schedule.add_argument("--target", help="target daily dose with unit, e.g. '1800 mg/d'")
    schedule.add_argument("--start-date", help="day 0 as YYYY-MM-DD, for calendar dates")
    schedule.add_argument(
        "--titration", help="titration protocol: standard or start_low (default: by the rules)"
    )
    schedule.add_argument("--protocol", metavar="FILE", help=_PROTOCOL_HELP)
    schedule.add_argument(
        "--weight-basis",
        default=None,
        help="Cockcroft-Gault weight: actual, ideal, adjusted (default: package rule)",
    )
    schedule.add_argument("--json", action="store_true", help="print the schedule as JSON")
    schedule.set_defaults(handler=_cmd_schedule)

    schema = commands.add_parser("schema", help="print the JSON Schema of a case file")
    schema.add_argument(
        "--output",
        action="store_true",
        help="print the schema of the plan that 'plan --json' writes instead",
    )
    schema.set_defaults(handler=_cmd_schema)

    serve = commands.add_parser(
        "serve", help="serve the CDS Hooks service (needs the 'service' extra)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=_port, default=8000, help="TCP port (default 8000)")
    serve.add_argument(
        "--cors-origin",
        action="append",
        metavar="ORIGIN",
        help="allow browser calls only from this origin (repeatable; default: any origin)",
    )
    serve.add_argument(
        "--trust",
        action="append",
        type=_trust,
        metavar="ISSUER=JWKS",
        help="accept JWTs signed by this issuer, with its JWK Set at a URL or in a file "
        "(repeatable); without any, requests are not authenticated (127.0.0.1 only)",
    )
    serve.add_argument(
        "--public-url",
        metavar="URL",
        help="the base URL EHRs call (e.g. https://cds.example.org), which a JWT's aud names",
    )
    serve.add_argument(
        "--allow-unauthenticated",
        action="store_true",
        help="serve on an address other than 127.0.0.1 without --trust (no checks at all)",
    )
    serve.add_argument(
        "--workers",
        type=_workers,
        default=1,
        help="worker processes (default 1; each keeps its own replay cache)",
    )
    serve.set_defaults(handler=_cmd_serve)

    cohort = commands.add_parser(
        "cohort",
        help="care plans (or one drug's schedules) for a Parquet or CSV cohort "
        "(needs the 'cohort' extra)",
    )
    cohort.add_argument("input", help="the cohort: .parquet, .pq or .csv")
    cohort.add_argument("output", help="where to write the result: .parquet, .pq or .csv")
    cohort.add_argument("--drug", help="schedules of this drug instead of care plans")
    cohort.add_argument("--protocol", metavar="FILE", help=_PROTOCOL_HELP)
    cohort.add_argument("--quiet", action="store_true", help="no progress bar")
    cohort.set_defaults(handler=_cmd_cohort)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        0 on success (and after ``--help``), 2 on bad input (with one line per
        problem on stderr).

    Example:
        >>> main(["plan", "no-such-case.json"])  # the one-line error goes to stderr
        2
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(f"cluneal: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except _Exit as request:
        return request.status
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        status: int = handler(args)
    except (ClunealError, ValidationError) as exc:
        print(_message(exc), file=sys.stderr)
        return 2
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        return 0
    return status
