"""Read an HTTP response body with a size cap: the JWK Set download and the FHIR fetch."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

__all__ = ["read_capped"]


async def read_capped(response: httpx.Response, limit: int) -> bytes | None:
    """The body of a streamed response, or ``None`` once it passes ``limit`` bytes.

    Reading stops at the first chunk past the limit, so a server cannot make the
    service hold more than about ``limit`` bytes.

    Args:
        response: A response opened with ``client.stream(...)``.
        limit: The most bytes accepted.

    Returns:
        The body, or ``None`` when it is longer than ``limit``.

    Example:
        >>> import asyncio, httpx
        >>> async def body(size: int) -> bytes | None:
        ...     reply = httpx.Response(200, content=b"x" * size)
        ...     transport = httpx.MockTransport(lambda request: reply)
        ...     async with httpx.AsyncClient(transport=transport) as client:
        ...         async with client.stream("GET", "http://127.0.0.1/") as response:
        ...             return await read_capped(response, 4)
        >>> asyncio.run(body(3)), asyncio.run(body(5))
        (b'xxx', None)
    """
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body.extend(chunk)
        if len(body) > limit:
            return None
    return bytes(body)
