#!/usr/bin/env python3
"""Fuzz a running Heracles server's REST API with schemathesis, from its own /openapi.json.

    HERACLES_ADMIN_PASSWORD=... python3 scripts/api-fuzz.py http://127.0.0.1:8000

Run it with a Python that has schemathesis installed (scripts/test.sh pins the version in its
virtualenv; by hand: `pip install 'schemathesis==4.32.5'`). It:

1. logs in as the administrator (`--admin-user`, password from HERACLES_ADMIN_PASSWORD);
2. creates a user holding the built-in `viewer` policy over the whole tree (`--viewer-user`;
   reused if it exists) and logs in as it;
3. creates a few objects for the fuzzer to find under the names the document's examples use
   (`jdoe`, `developers`, `example.com`, ...), so that not every request on a single object
   is a 404;
4. runs schemathesis twice with a fixed seed and a bounded budget: as the viewer first, then
   as the administrator (whose run deletes and changes things, the viewer's own account and
   assignment included);
5. prints the number of requests and responses by status, and exits 1 on any finding (a
   failed check, or an error of schemathesis itself), 2 when the run was too small
   (fewer than `--min-requests`), 0 otherwise.

The fuzzing writes to the directory: run it against a throwaway server only (scripts/test.sh
starts one on a fresh embedded directory).

Checks: every check of schemathesis (`--checks all`) except those listed in EXCLUDED_CHECKS,
each with the reason. Operations left out: those in EXCLUDED_OPERATIONS, with the reason.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

# Checks of `--checks all` that do not apply to this API, and why.
EXCLUDED_CHECKS = {
    # "A request valid against the document must not get a 4xx (other than 401/403/404/409)".
    # The document describes shapes and types; the server enforces more than a JSON schema can
    # say: the filter grammar and which attributes each object type has, DN syntax, IP/MAC
    # addresses and DNS names, the password policy, that a referenced template, zone, policy
    # or user exists (422/404), and business rules (an administrator cannot delete or lock
    # itself, a built-in policy cannot change). Such a request is rightly a 400 or 422.
    "positive_data_acceptance": "the server validates more than the schemas can express",
}

# Operations the fuzzer must not call, and why.
EXCLUDED_OPERATIONS = {
    # It ends the session the fuzzer's token belongs to: every later request would be a 401
    # and test nothing but authentication.
    "logout": "revokes the fuzzer's own session",
}

VIEWER_PASSWORD = "Viewer-Passw0rd-1"  # a test fixture on a throwaway server


def call(
    base: str,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
) -> tuple[int, Any]:
    """One JSON request; returns the status and the decoded body (None when empty)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        raw = e.read()
        status = e.code
    return status, (json.loads(raw) if raw else None)


def expect(what: str, got: tuple[int, Any], *ok: int) -> Any:
    status, body = got
    if status not in ok:
        raise SystemExit(f"api-fuzz: {what}: HTTP {status} {body}")
    return body


def login(base: str, user: str, password: str) -> str:
    body = expect(
        f"login as {user}",
        call(base, "POST", "/api/v1/auth/login", {"username": user, "password": password}),
        200,
    )
    token = body["access_token"]
    assert isinstance(token, str)
    return token


def prepare(base: str, admin: str, viewer: str) -> None:
    """The viewer account and its assignment, and objects named as in the examples."""
    api = "/api/v1"
    expect(
        f"create the user {viewer}",
        call(
            base,
            "POST",
            f"{api}/users",
            {
                "uid": viewer,
                "cn": "API fuzz viewer",
                "sn": "Viewer",
                "userPassword": VIEWER_PASSWORD,
            },
            admin,
        ),
        201,
        409,
    )
    expect(
        f"assign the viewer policy to {viewer}",
        call(
            base,
            "POST",
            f"{api}/acl/assignments",
            {
                "policy": "viewer",
                "subject_type": "user",
                "subject": viewer,
                "scope_type": "tree",
            },
            admin,
        ),
        201,
        409,
    )
    # Objects under the names of the document's examples (201, or 409 on a second run).
    fixtures: list[tuple[str, dict[str, Any]]] = [
        ("/users", {"uid": "jdoe", "cn": "John Doe", "sn": "Doe", "mail": "jdoe@example.com"}),
        ("/groups", {"cn": "developers", "members": ["jdoe"]}),
        ("/departments", {"ou": "Engineering"}),
        ("/templates", {"name": "staff", "defaults": {"loginShell": "/bin/bash"}}),
        (
            "/dns/zones",
            {
                "zoneName": "example.com",
                "primaryNs": "ns1.example.com",
                "adminEmail": "admin@example.com",
                "primaryNsAddress": "192.168.1.2",
            },
        ),
        ("/dhcp/services", {"cn": "dhcp1"}),
        ("/dhcp/services/dhcp1/subnets", {"network": "192.168.1.0", "prefix": 24}),
        (
            "/systems",
            {"cn": "server1", "type": "server", "ipAddress": "192.168.1.10"},
        ),
        (
            "/sudo",
            {"cn": "web-admins", "sudoUser": ["jdoe"], "sudoHost": ["ALL"],
             "sudoCommand": ["/usr/bin/systemctl restart nginx"]},
        ),
        ("/acl/policies", {"name": "helpdesk", "permissions": ["user:read"]}),
    ]
    for path, body in fixtures:
        expect(f"create {path} {body}", call(base, "POST", api + path, body, admin), 201, 409)


def run_schemathesis(
    exe: str,
    base: str,
    token: str,
    role: str,
    args: argparse.Namespace,
    report_dir: Path,
) -> tuple[int, collections.Counter[int | None], dict[str, Any]]:
    """One schemathesis run; returns its exit code, the responses by status and its report."""
    out = report_dir / role
    out.mkdir(parents=True, exist_ok=True)
    cmd = [
        exe,
        "run",
        f"{base}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        "all",
        "--exclude-checks",
        ",".join(EXCLUDED_CHECKS),
        "--seed",
        str(args.seed),
        "--max-examples",
        str(args.max_examples),
        # No links in the document: the stateful phase would have nothing to follow.
        "--phases",
        "examples,coverage,fuzzing",
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--max-response-time",
        str(args.max_response_time),
        "--report",
        "json,ndjson",
        "--report-json-path",
        str(out / "report.json"),
        "--report-ndjson-path",
        str(out / "events.ndjson"),
        "--no-color",
    ]
    for op in EXCLUDED_OPERATIONS:
        cmd += ["--exclude-operation-id", op]
    print(f"\n--- schemathesis as {role} (seed {args.seed}, {args.max_examples} examples per "
          "operation and phase)", flush=True)
    # Its working folders (.hypothesis, .schemathesis) go to the report folder.
    rc = subprocess.run(cmd, cwd=out, check=False).returncode
    statuses: collections.Counter[int | None] = collections.Counter()
    events = out / "events.ndjson"
    if events.exists():
        for line in events.read_text().splitlines():
            event = json.loads(line)
            finished = event.get("ScenarioFinished")
            if not finished:
                continue
            for interaction in finished["recorder"].get("interactions", {}).values():
                response = interaction.get("response")
                statuses[response["status_code"] if response else None] += 1
    report: dict[str, Any] = {}
    if (out / "report.json").exists():
        report = json.loads((out / "report.json").read_text())
    return rc, statuses, report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the server's root, e.g. http://127.0.0.1:8000")
    parser.add_argument("--admin-user", default="admin")
    parser.add_argument("--viewer-user", default="apifuzz-viewer")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--max-examples", type=int, default=10,
                        help="test cases per operation in each generating phase")
    parser.add_argument("--min-requests", type=int, default=2000,
                        help="fail when both runs together made fewer requests")
    parser.add_argument("--max-response-time", type=float, default=10.0,
                        help="seconds; a slower response is a finding")
    parser.add_argument("--report-dir", type=Path,
                        help="where the reports go (default: a temporary folder, removed)")
    parser.add_argument("--schemathesis", help="the schemathesis program (default: the one "
                        "next to this Python, else on PATH)")
    args = parser.parse_args()

    password = os.environ.get("HERACLES_ADMIN_PASSWORD")
    if not password:
        print("api-fuzz: set HERACLES_ADMIN_PASSWORD to the administrator's password",
              file=sys.stderr)
        return 2
    exe = args.schemathesis or str(Path(sys.executable).with_name("schemathesis"))
    if not Path(exe).exists():
        exe = shutil.which("schemathesis") or ""
    if not exe:
        print("api-fuzz: schemathesis not found: pip install 'schemathesis==4.32.5'",
              file=sys.stderr)
        return 2
    base = args.url.rstrip("/")

    admin = login(base, args.admin_user, password)
    prepare(base, admin, args.viewer_user)
    viewer = login(base, args.viewer_user, VIEWER_PASSWORD)

    temp = None
    report_dir = args.report_dir
    if report_dir is None:
        temp = tempfile.TemporaryDirectory(prefix="heracles-apifuzz-")
        report_dir = Path(temp.name)
    started = time.monotonic()
    total = 0
    failed = False
    summary = []
    try:
        # The viewer first: the administrator's run may delete its account or assignment.
        for role, token in (("viewer", viewer), ("admin", admin)):
            t0 = time.monotonic()
            rc, statuses, report = run_schemathesis(exe, base, token, role, args, report_dir)
            requests = sum(statuses.values())
            total += requests
            failures = {f["code"] + " " + f["title"]: f["count"]
                        for f in report.get("failures", [])}
            errors = len(report.get("errors", []))
            by_status = ", ".join(f"{s}: {n}" for s, n in sorted(
                statuses.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)))
            summary.append(
                f"{role}: {requests} requests in {time.monotonic() - t0:.0f} s "
                f"({by_status}); findings: {failures or 'none'}; errors: {errors}"
            )
            if rc != 0 or failures or errors:
                failed = True
    finally:
        if temp is not None:
            temp.cleanup()
    print("\n=== API fuzzing summary")
    for line in summary:
        print(line)
    print(f"total: {total} requests in {time.monotonic() - started:.0f} s; "
          f"checks excluded: {', '.join(EXCLUDED_CHECKS)}; "
          f"operations excluded: {', '.join(EXCLUDED_OPERATIONS)}")
    if failed:
        print("api-fuzz: FAILED (findings above)", file=sys.stderr)
        return 1
    if total < args.min_requests:
        print(f"api-fuzz: only {total} requests, fewer than --min-requests {args.min_requests}",
              file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
