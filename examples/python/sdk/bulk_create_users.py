#!/usr/bin/env python3
"""Bulk-create users from a CSV file, with a dry run and a progress bar.

    python bulk_create_users.py --data-dir ./heracles-data [users.csv] [--dry-run]
    HERACLES_BIND_PASSWORD=... python bulk_create_users.py --url ldaps://ldap.example.com \\
        --bind-dn cn=heracles-service,ou=heracles,dc=example,dc=com users.csv

The header names the fields: LDAP attributes of a user (``uid``, ``cn``, ``sn``, ``mail``,
``telephoneNumber``, ``shadowMax``, ...), plus ``department`` (created when missing, unless
``--no-create-departments``) and ``password``. Users are POSIX accounts (the next free
``uidNumber`` is allocated) unless ``--no-posix``. Empty cells are left out.

``--dry-run`` writes nothing. On an embedded directory it rehearses the whole import on a
throwaway copy of the data folder, so every rule of the core — uid syntax, schema, password
policy, uniqueness, department names — is checked for real; on an LDAP server (which cannot
be copied) it checks what can be checked without writing: uid syntax and that neither the
uid nor the mail is taken. Rows that fail are listed with the reason; the exit status is 1
if any did.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, TextIO, Tuple

import heracles

HERE = Path(__file__).resolve().parent
NUMERIC = {"uidNumber", "gidNumber", "shadowLastChange", "shadowMax", "shadowMin", "shadowWarning"}
UID = re.compile(r"^[a-z_][a-z0-9._-]{0,31}$")


def client_from_args(args: argparse.Namespace) -> heracles.Client:
    """The embedded directory of --data-dir, or the LDAP server of --url."""
    if args.url:
        password = os.environ.get("HERACLES_BIND_PASSWORD")
        if not password:
            sys.exit("set HERACLES_BIND_PASSWORD to the bind DN's password")
        return heracles.connect(args.url, args.bind_dn, password, args.base_dn, args.ca_file)
    return heracles.open(args.data_dir, args.base_dn)


class Progress:
    """A one-line progress bar on a terminal (or plain lines when piped)."""

    def __init__(self, total: int, out: TextIO = sys.stderr, width: int = 30) -> None:
        self.total, self.out, self.width, self.done = total, out, width, 0
        self.tty = out.isatty()

    def step(self, label: str) -> None:
        self.done += 1
        filled = self.width * self.done // max(self.total, 1)
        bar = "#" * filled + "." * (self.width - filled)
        line = f"[{bar}] {self.done}/{self.total} {label}"
        if self.tty:
            self.out.write("\r" + line[: 79].ljust(79))
            if self.done == self.total:
                self.out.write("\n")
        elif self.done == self.total or self.done % 50 == 0:
            self.out.write(line + "\n")
        self.out.flush()


def read_rows(path: Path) -> Iterator[Tuple[int, Dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        for line, row in enumerate(reader, start=2):
            yield line, {k.strip(): (v or "").strip() for k, v in row.items() if k}


def user_fields(row: Dict[str, str], posix: bool) -> Dict[str, Any]:
    """The fields of users.create for one CSV row."""
    fields: Dict[str, Any] = {}
    for key, value in row.items():
        if not value:
            continue
        if key == "password":
            fields["userPassword"] = value
        elif key in NUMERIC:
            fields[key] = int(value)
        else:
            fields[key] = value
    if posix:
        fields.setdefault("posix", {"uidNumber": None})
    return fields


def ensure_department(client: heracles.Client, name: str, created: List[str]) -> None:
    try:
        client.departments.get(name)
    except heracles.NotFoundError:
        client.departments.create(name, description="Created by bulk_create_users.py")
        created.append(name)


def precheck(client: heracles.Client, fields: Dict[str, Any]) -> Optional[str]:
    """What can be checked on an LDAP server without writing."""
    uid = str(fields.get("uid", ""))
    if not UID.match(uid):
        return f"uid '{uid}' is not a valid login name"
    if client.users.exists(uid):
        return f"uid '{uid}' is taken"
    mail = fields.get("mail")
    if mail and client.users.list(filter=heracles.Filter.eq("mail", str(mail)), limit=1).total:
        return f"mail '{mail}' is taken"
    return None


def run(client: heracles.Client, rows: List[Tuple[int, Dict[str, str]]], args: argparse.Namespace,
        rehearsal: bool) -> int:
    progress = Progress(len(rows))
    created_departments: List[str] = []
    failures: List[str] = []
    created = 0
    for line, row in rows:
        fields = user_fields(row, posix=not args.no_posix)
        uid = str(fields.get("uid", "?"))
        try:
            for key in ("uid", "cn", "sn"):
                if key not in fields:
                    raise heracles.ValidationError(f"{key} is empty", "VALIDATION_FAILED")
            if args.dry_run and not rehearsal:
                problem = precheck(client, fields)
                if problem:
                    raise heracles.ValidationError(problem, "VALIDATION_FAILED")
            else:
                department = fields.get("department")
                if department and not args.no_create_departments:
                    ensure_department(client, str(department), created_departments)
                client.users.create(
                    uid=uid, cn=str(fields.pop("cn")), sn=str(fields.pop("sn")),
                    **{k: v for k, v in fields.items() if k != "uid"},
                )
            created += 1
        except heracles.HeraclesError as e:
            failures.append(f"line {line} ({uid}): {e.code}: {e.message}")
        progress.step(uid)
    verb = "would create" if args.dry_run else "created"
    print(f"{verb} {created} of {len(rows)} users", end="")
    if created_departments:
        print(f" and the departments {', '.join(sorted(set(created_departments)))}", end="")
    print()
    for f in failures:
        print("  FAILED " + f)
    return 1 if failures else 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", nargs="?", type=Path, default=HERE / "users.csv")
    parser.add_argument("--data-dir", default="./heracles-data", help="embedded directory folder")
    parser.add_argument("--url", help="LDAP server URL (instead of --data-dir)")
    parser.add_argument("--bind-dn", default="cn=heracles-service,ou=heracles,dc=example,dc=com")
    parser.add_argument("--base-dn", default="dc=example,dc=com")
    parser.add_argument("--ca-file")
    parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    parser.add_argument("--no-posix", action="store_true", help="plain inetOrgPerson users")
    parser.add_argument("--no-create-departments", action="store_true")
    args = parser.parse_args(argv)
    rows = list(read_rows(args.csv))

    if args.dry_run and not args.url:
        # A rehearsal on a copy: every rule of the core applies, the real folder is untouched.
        with tempfile.TemporaryDirectory(prefix="heracles-dry-run-") as tmp:
            copy = Path(tmp) / "data"
            if Path(args.data_dir).exists():
                shutil.copytree(args.data_dir, copy)
            with heracles.open(copy, args.base_dn) as client:
                print(f"dry run: rehearsing on a copy of {args.data_dir}")
                return run(client, rows, args, rehearsal=True)
    with client_from_args(args) as client:
        if args.dry_run:
            print("dry run: checking without writing")
        return run(client, rows, args, rehearsal=False)


if __name__ == "__main__":
    sys.exit(main())
