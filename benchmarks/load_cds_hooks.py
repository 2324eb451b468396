"""Load and hostile-request run of the CDS Hooks service (``nox -s load``).

Starts ``cluneal serve --workers N`` in its own process on a free 127.0.0.1
port, then:

1. sends patient-view requests with the full FHIR prefetch of the demo patient,
   varied by age, weight and creatinine so that ``--patients`` distinct records
   come in turn (default: every request a different record, so no cache of the
   engine is hit twice), ``--concurrency`` at a time, and reports p50/p99 latency, throughput, the
   server's CPU time per request (robust on a shared machine, unlike latency)
   and its resident memory (before, after, peak; all worker processes);
2. sends seeded hostile requests (``tests/hostile.py``) and counts the answers.

The client is a minimal HTTP/1.1 keep-alive client on asyncio streams (one
connection per concurrent caller, requests pre-encoded), so that the load
generator, which shares the machine's cores with the server, spends as little
CPU as it can: the figures are the service's, not an HTTP library's.

Exits 1 if any request got an HTTP 5xx, a transport error, or a load request
was not 200. Latency is a report, never a pass/fail: speed is measured here,
not in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import pathlib
import random
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

import httpx  # only to wait for the server to start

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fhir_records import patient_view  # noqa: E402
from tests.hostile import hostile_request  # noqa: E402

PV = "/cds-services/cluneal-patient-view"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _processes(pid: int) -> list[int]:
    """The server and its worker processes."""
    children = pathlib.Path(f"/proc/{pid}/task/{pid}/children")
    found = [pid]
    if children.exists():
        for child in children.read_text().split():
            found += _processes(int(child))
    return found


def _memory_kib(pid: int) -> dict[str, int]:
    fields = {"VmRSS": 0, "VmHWM": 0}
    for proc in _processes(pid):
        for line in pathlib.Path(f"/proc/{proc}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in fields:
                fields[key] += int(value.split()[0])
    return fields


def _cpu_seconds(pid: int) -> float:
    total = 0
    for proc in _processes(pid):
        stat = pathlib.Path(f"/proc/{proc}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(stat[11]) + int(stat[12])  # utime + stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


class _Connection:
    """One HTTP/1.1 keep-alive connection: send a pre-encoded request, read the answer."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self.reader, self.writer

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def send(self, request: bytes) -> int:
        """Return the HTTP status, or 0 for a transport error (the connection is reopened)."""
        try:
            reader, writer = await self._open()
            writer.write(request)
            await writer.drain()
            status = int((await reader.readline()).split()[1])
            length, chunked, close = 0, False, False
            while (line := await reader.readline()) not in {b"\r\n", b""}:
                name, _, value = line.decode("latin-1").partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "transfer-encoding":
                    chunked = "chunked" in value.lower()
                elif name == "connection":
                    close = value.strip().lower() == "close"
            if chunked:
                while size := int((await reader.readline()).split(b";")[0], 16):
                    await reader.readexactly(size + 2)
                await reader.readline()
            else:
                await reader.readexactly(length)
        except (OSError, IndexError, ValueError, asyncio.IncompleteReadError):
            self.close()
            return 0
        if close:
            self.close()
        return status


def _encode(port: int, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _run(
    port: int, requests: list[bytes], concurrency: int
) -> tuple[list[float], collections.Counter[int], float]:
    latencies: list[float] = []
    statuses: collections.Counter[int] = collections.Counter()
    queue = iter(requests)

    async def worker() -> None:
        connection = _Connection("127.0.0.1", port)
        for request in queue:
            start = time.perf_counter()
            status = await connection.send(request)
            latencies.append(time.perf_counter() - start)
            statuses[status] += 1
        connection.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, statuses, time.perf_counter() - began


def _record(index: int, *, warm: bool = False) -> dict[str, Any]:
    """The demo patient's full prefetch, its numbers varied by ``index``: 200,000 distinct
    records (ages 41-90, 45-124 kg, creatinine 0.6-3.05 mg/dL; warm-up ones 3.5 mg/dL)."""
    request: dict[str, Any] = patient_view(pid=f"p{index}")
    prefetch = request["prefetch"]
    prefetch["patient"]["birthDate"] = f"{1936 + (index // 4000) % 50}-03-10"
    weight, creatinine = (e["resource"] for e in prefetch["observations"]["entry"])
    weight["valueQuantity"]["value"] = 45 + (index // 50) % 80
    value = 3.5 if warm else round(0.6 + (index % 50) * 0.05, 2)
    creatinine["valueQuantity"]["value"] = value
    return request


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--hostile", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="cluneal serve --workers")
    parser.add_argument(
        "--patients", type=int, default=0, help="distinct records in turn (0: one per request)"
    )
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args()

    port = _free_port()
    command = [sys.executable, "-m", "cluneal", "serve", "--port", str(port)]
    command += ["--workers", str(args.workers)]
    quiet = subprocess.DEVNULL
    server = subprocess.Popen(command, stdout=quiet, stderr=quiet)  # noqa: S603 - our own command
    url = f"http://127.0.0.1:{port}"
    failures = 0
    try:
        for _ in range(600):
            try:
                httpx.get(f"{url}/cds-services", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        distinct = args.patients or args.requests
        bodies = [json.dumps(_record(i)).encode() for i in range(distinct)]
        requests = [_encode(port, PV, bodies[i % distinct]) for i in range(args.requests)]
        warm = [_encode(port, PV, json.dumps(_record(i, warm=True)).encode()) for i in range(200)]
        asyncio.run(_run(port, warm, args.concurrency))  # every worker warm, none of the records
        before, cpu_before = _memory_kib(server.pid), _cpu_seconds(server.pid)
        latencies, statuses, elapsed = asyncio.run(_run(port, requests, args.concurrency))
        after, cpu_after = _memory_kib(server.pid), _cpu_seconds(server.pid)
        ms = [x * 1000 for x in latencies]
        print(
            f"patient-view, full FHIR prefetch: {args.requests} requests, "
            f"{args.concurrency} concurrent, {distinct} distinct records, "
            f"{args.workers} server worker(s), "
            f"{os.cpu_count()} cores, load average before {os.getloadavg()[0]:.1f}"
        )
        print(f"  statuses: {dict(statuses)} (0: transport error)")
        print(
            f"  latency p50 {_percentile(ms, 0.50):.1f} ms, p99 {_percentile(ms, 0.99):.1f} ms, "
            f"mean {statistics.fmean(ms):.1f} ms; {args.requests / elapsed:.0f} requests/s"
        )
        print(
            f"  server CPU time: {(cpu_after - cpu_before) / args.requests * 1000:.2f} ms/request"
        )
        print(
            f"  server memory (all processes): {before['VmRSS'] / 1024:.0f} MiB before, "
            f"{after['VmRSS'] / 1024:.0f} MiB after, peak {after['VmHWM'] / 1024:.0f} MiB"
        )
        failures += sum(n for status, n in statuses.items() if status != 200)

        rng = random.Random(args.seed)  # noqa: S311 - seeded test data, not a secret
        hostile = [_encode(port, *hostile_request(rng)) for _ in range(args.hostile)]
        _, statuses, elapsed = asyncio.run(_run(port, hostile, args.concurrency))
        server_errors = sum(n for status, n in statuses.items() if status >= 500 or status == 0)
        print(f"hostile requests: {args.hostile}, seed {args.seed}")
        print(
            f"  statuses: {dict(sorted(statuses.items()))}; HTTP 5xx or no answer: {server_errors}"
        )
        print(f"  server memory after: {_memory_kib(server.pid)['VmRSS'] / 1024:.0f} MiB")
        failures += server_errors
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
