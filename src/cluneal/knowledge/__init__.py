"""The cluneal knowledge base: versioned, validated clinical data.

Every dose rule, renal band, age rule, warning, interaction and pathway
transition lives here as data with a stable ``rule_id`` and a citation id that
resolves in ``citations.toml``. Code elsewhere in the package reads these
tables; it does not restate them.
"""

from typing import Final

KNOWLEDGE_BASE_VERSION: Final = "2026.11.0"
"""The version of the knowledge base; every result reports it.

Bump it whenever a clinical rule, number or citation changes, and say what
changed under a "Clinical" heading in CHANGELOG.md.
"""

__all__ = ["KNOWLEDGE_BASE_VERSION"]
