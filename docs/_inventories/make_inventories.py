"""Write the small intersphinx inventories the docs link against, offline.

The docs build must work without network access (CI reaches only package
registries), so instead of fetching python/pint/pydantic inventories at build
time the docs ship these: only the objects cluneal's docs mention, each with
its real address in the upstream documentation. Run this script after adding
a reference; it rewrites the three ``*.inv`` files beside it.
"""

from __future__ import annotations

import pathlib
import zlib

HERE = pathlib.Path(__file__).parent

INVENTORIES: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "python": (
        "Python",
        [
            ("ValueError", "py:exception", "library/exceptions.html#$"),
            ("ImportError", "py:exception", "library/exceptions.html#$"),
            ("TypeError", "py:exception", "library/exceptions.html#$"),
            ("KeyError", "py:exception", "library/exceptions.html#$"),
            ("float", "py:class", "library/functions.html#$"),
            ("int", "py:class", "library/functions.html#$"),
            ("str", "py:class", "library/stdtypes.html#$"),
            ("bool", "py:class", "library/functions.html#$"),
            ("tuple", "py:class", "library/stdtypes.html#$"),
            ("dict", "py:class", "library/stdtypes.html#$"),
            ("frozenset", "py:class", "library/stdtypes.html#$"),
            ("datetime.date", "py:class", "library/datetime.html#$"),
            ("pathlib.Path", "py:class", "library/pathlib.html#$"),
            ("enum.StrEnum", "py:class", "library/enum.html#$"),
            ("typing.Annotated", "py:data", "library/typing.html#$"),
            ("collections.abc.Mapping", "py:class", "library/collections.abc.html#$"),
            ("functools.cache", "py:function", "library/functools.html#$"),
        ],
    ),
    "pint": (
        "pint",
        [
            ("pint.UnitRegistry", "py:class", "api/base.html#$"),
            ("pint.Quantity", "py:class", "api/base.html#$"),
            ("pint.Unit", "py:class", "api/base.html#$"),
        ],
    ),
    "pydantic": (
        "pydantic",
        [
            ("pydantic.BaseModel", "py:class", "api/base_model/#pydantic.BaseModel"),
            ("pydantic.main.BaseModel", "py:class", "api/base_model/#pydantic.BaseModel"),
            (
                "pydantic.ValidationError",
                "py:exception",
                "api/pydantic_core/#pydantic_core.ValidationError",
            ),
            ("pydantic_core.ValidationError", "py:exception", "api/pydantic_core/#$"),
            (
                "pydantic.TypeAdapter",
                "py:class",
                "api/type_adapter/#pydantic.type_adapter.TypeAdapter",
            ),
        ],
    ),
}


def main() -> None:
    for key, (project, objects) in INVENTORIES.items():
        header = (
            "# Sphinx inventory version 2\n"
            f"# Project: {project}\n"
            "# Version: stable\n"
            "# The remainder of this file is compressed using zlib.\n"
        ).encode()
        body = "".join(f"{name} {role} 1 {uri} -\n" for name, role, uri in objects).encode()
        (HERE / f"{key}.inv").write_bytes(header + zlib.compress(body))


if __name__ == "__main__":
    main()
