"""The cluneal knowledge base: versioned, validated clinical data.

Every dose rule, renal band, age rule, warning, interaction and pathway
transition lives here as data with a stable ``rule_id`` and a citation id that
resolves in ``citations.toml``. Code elsewhere in the package reads these
tables; it does not restate them.
"""

import tomllib
from importlib import resources
from typing import Any, Final

from cluneal.errors import KnowledgeBaseError

KNOWLEDGE_BASE_VERSION: Final = "2026.12.0"
"""The version of the knowledge base; every result reports it.

Bump it whenever a clinical rule, number or citation changes, and say what
changed under a "Clinical" heading in CHANGELOG.md.
"""

__all__ = ["KNOWLEDGE_BASE_VERSION", "read_toml"]


def read_toml(path: str) -> dict[str, Any]:
    """Read one knowledge-base file, relative to this package ("renal.toml", "monographs/x.toml").

    The one reader every table loader uses; each loader then validates the
    result into its own frozen models.

    Args:
        path: The file, with ``/`` between folders.

    Returns:
        The parsed TOML.

    Raises:
        KnowledgeBaseError: The file is missing or is not valid TOML.

    Example:
        >>> from cluneal.knowledge import read_toml
        >>> read_toml("renal.toml")["unknown"]["band"]
        'end_stage'
    """
    resource = resources.files("cluneal.knowledge").joinpath(*path.split("/"))
    try:
        return tomllib.loads(resource.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise KnowledgeBaseError(path, str(exc)) from exc
