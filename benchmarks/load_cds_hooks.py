"""Load and hostile-request run of the CDS Hooks service (``nox -s load``).

Starts ``cluneal serve`` in its own process on a free 127.0.0.1 port, then:

1. sends patient-view requests with the full FHIR prefetch of the demo patient,
   ``--concurrency`` at a time, and reports p50/p99 latency, throughput and the
   server's resident memory (before, after, peak);
2. sends seeded hostile requests (``tests/hostile.py``) and counts the answers.

Exits 1 if any request got an HTTP 5xx or a load request was not 200. Latency
is a report, never a pass/fail: speed is measured here, not in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import pathlib
import random
import socket
import statistics
import subprocess
import sys
import time

import httpx

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fhir_records import patient_view  # noqa: E402
from tests.hostile import hostile_request  # noqa: E402

PV = "/cds-services/cluneal-patient-view"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _memory_kib(pid: int) -> dict[str, int]:
    fields = {}
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            fields[key] = int(value.split()[0])
    return fields


async def _run(
    url: str, bodies: list[tuple[str, bytes]], concurrency: int
) -> tuple[list[float], collections.Counter[int], float]:
    latencies: list[float] = []
    statuses: collections.Counter[int] = collections.Counter()
    queue = iter(bodies)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

        async def worker() -> None:
            for path, body in queue:
                start = time.perf_counter()
                response = await client.post(
                    path, content=body, headers={"content-type": "application/json"}
                )
                latencies.append(time.perf_counter() - start)
                statuses[response.status_code] += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return latencies, statuses, elapsed


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--hostile", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args()

    port = _free_port()
    command = [sys.executable, "-m", "cluneal", "serve", "--port", str(port)]
    quiet = subprocess.DEVNULL
    server = subprocess.Popen(command, stdout=quiet, stderr=quiet)  # noqa: S603 - our own command
    url = f"http://127.0.0.1:{port}"
    failures = 0
    try:
        for _ in range(300):
            try:
                httpx.get(f"{url}/cds-services", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        body = httpx.Request("POST", url, json=patient_view()).content
        before = _memory_kib(server.pid)
        latencies, statuses, elapsed = asyncio.run(
            _run(url, [(PV, body)] * args.requests, args.concurrency)
        )
        after = _memory_kib(server.pid)
        ms = [x * 1000 for x in latencies]
        print(
            f"patient-view, full FHIR prefetch: {args.requests} requests, "
            f"{args.concurrency} concurrent"
        )
        print(f"  statuses: {dict(statuses)}")
        print(
            f"  latency p50 {_percentile(ms, 0.50):.1f} ms, p99 {_percentile(ms, 0.99):.1f} ms, "
            f"mean {statistics.fmean(ms):.1f} ms; {args.requests / elapsed:.0f} requests/s"
        )
        print(
            f"  server memory: {before['VmRSS'] / 1024:.0f} MiB before, "
            f"{after['VmRSS'] / 1024:.0f} MiB after, peak {after['VmHWM'] / 1024:.0f} MiB"
        )
        failures += sum(n for status, n in statuses.items() if status != 200)

        rng = random.Random(args.seed)  # noqa: S311 - seeded test data, not a secret
        hostile = [hostile_request(rng) for _ in range(args.hostile)]
        _, statuses, elapsed = asyncio.run(_run(url, hostile, args.concurrency))
        server_errors = sum(n for status, n in statuses.items() if status >= 500)
        print(f"hostile requests: {args.hostile}, seed {args.seed}")
        print(f"  statuses: {dict(sorted(statuses.items()))}; HTTP 5xx: {server_errors}")
        print(f"  server memory after: {_memory_kib(server.pid)['VmRSS'] / 1024:.0f} MiB")
        failures += server_errors
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
