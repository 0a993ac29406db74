#!/usr/bin/env python3
"""Listing users from Python vs the same calls from Rust, in one run.

    python benches/python/list_users.py [--users 10000] [--rounds 5] [--page-size 1000]
    python benches/python/list_users.py --slapd /path/to/env   # also on an LDAP server

Seeds N users into a fresh embedded directory (and, with ``--slapd``, below a throwaway
department of that server, removed at the end), then times listing all of them page by
page:

- Python: ``list(client.users.iter(page_size=P))`` — the core call with the GIL released,
  conversion of the answers to Python objects and their model classes;
- Rust: the same ``Users::list`` calls of the core (same principal, same pages), timed
  inside the extension (``Core._bench_list_users``), without any Python object.

Each round runs both, alternating; the medians and their ratio (Python / Rust) are
printed. ``--max-ratio R`` exits 1 when the ratio is above R.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import heracles


def seed(client: heracles.Client, n: int, prefix: str, department: Optional[str]) -> None:
    started = time.monotonic()

    def create(i: int) -> None:
        fields: Dict[str, object] = {"mail": f"{prefix}{i}@example.com", "givenName": "Bench"}
        if department is not None:
            fields["department"] = department
        client.users.create(uid=f"{prefix}{i:05}", cn=f"Bench User {i}", sn="User", **fields)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(create, range(n)))
    print(f"  seeded {n} users in {time.monotonic() - started:.1f} s")


def measure(
    client: heracles.Client, rounds: int, page_size: int, expected: int, filter: Optional[str]
) -> Tuple[float, float]:
    py: List[float] = []
    rust: List[float] = []
    core = client._core
    for _ in range(rounds):
        start = time.perf_counter()
        users = list(client.users.iter(filter=filter, page_size=page_size))
        py.append(time.perf_counter() - start)
        assert len(users) >= expected, (len(users), expected)
        seconds, seen = core._bench_list_users(page_size)
        rust.append(seconds)
        assert seen >= expected, (seen, expected)
    return statistics.median(py), statistics.median(rust)


def report(name: str, n: int, py: float, rust: float) -> float:
    ratio = py / rust
    print(
        f"  {name}: {n} users — Python {py * 1000:.1f} ms, Rust {rust * 1000:.1f} ms, "
        f"ratio {ratio:.3f}  ({py / n * 1e6:.1f} µs vs {rust / n * 1e6:.1f} µs per user)"
    )
    return ratio


def slapd_settings(path: str) -> Dict[str, str]:
    import shlex

    env: Dict[str, str] = {}
    for line in Path(path).read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, _, raw = line.partition("=")
            words = shlex.split(raw)
            env[key.strip()] = words[0] if words else ""
    return env


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--slapd", help="env file of ldap/test-slapd.sh: also bench on it")
    parser.add_argument("--max-ratio", type=float, help="fail when Python/Rust is above this")
    args = parser.parse_args(argv)
    ratios = []

    print(f"embedded directory ({heracles.__version__}, page size {args.page_size}):")
    with tempfile.TemporaryDirectory(prefix="heracles-bench-") as tmp:
        with heracles.open(Path(tmp) / "data") as client:
            seed(client, args.users, "bench", None)
            total = args.users + 1  # and the bootstrap administrator
            py, rust = measure(client, args.rounds, args.page_size, total, None)
            ratios.append(report("embedded", total, py, rust))

    if args.slapd:
        env = slapd_settings(args.slapd)
        print(f"slapd at {env['LDAP_URI']}:")
        with heracles.connect(
            env["LDAP_URI"], env["SERVICE_DN"], env["SERVICE_PW"], env["BASE_DN"]
        ) as client:
            client.bootstrap()
            dept = client.departments.create(f"bench{int(time.time())}")
            try:
                seed(client, args.users, f"b{int(time.time()) % 100000}x", dept.dn)
                # Both sides list every user of the server (others' too): the same calls.
                total = client.users.list(limit=1).total
                py, rust = measure(client, args.rounds, args.page_size, total, None)
                ratios.append(report("slapd", total, py, rust))
            finally:
                client.departments.delete(dept.dn, recursive=True)

    worst = max(ratios)
    print(f"worst ratio Python/Rust: {worst:.3f}")
    if args.max_ratio is not None and worst > args.max_ratio:
        print(f"above the target {args.max_ratio}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
