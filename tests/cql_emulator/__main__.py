"""Run the emulator in the foreground: python -m tests.cql_emulator --port 9042 --dc datacenter1."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from .server import CqlEmulator


async def _serve(args: argparse.Namespace) -> None:
    emulator = CqlEmulator(args.host, args.port, data_center=args.dc, cluster_name=args.cluster_name)
    await emulator.start()
    print(f"listening on {emulator.host}:{emulator.port}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="CQL native protocol v4 emulator for tests")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9042)
    parser.add_argument("--dc", default="datacenter1", help="data_center reported in system.local")
    parser.add_argument("--cluster-name", default="cql-emulator")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
