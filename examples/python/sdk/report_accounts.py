#!/usr/bin/env python3
"""Report the accounts that need attention: no mail address, an expired password, an
expired or locked account.

    python report_accounts.py --data-dir ./heracles-data [--csv report.csv]
    HERACLES_BIND_PASSWORD=... python report_accounts.py --url ldaps://ldap.example.com \\
        --bind-dn cn=heracles-service,ou=heracles,dc=example,dc=com

Expiry follows the shadow fields PAM and sssd read (shadow(5)): a password is expired when
``shadowLastChange + shadowMax`` (days since 1970-01-01) is before today, an account when
``shadowExpire`` is. Every user is read once, page by page (``users.iter``).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import sys
from typing import Any, List, Optional, Tuple

import heracles

EPOCH = dt.date(1970, 1, 1)


def client_from_args(args: argparse.Namespace) -> heracles.Client:
    """The embedded directory of --data-dir, or the LDAP server of --url."""
    if args.url:
        password = os.environ.get("HERACLES_BIND_PASSWORD")
        if not password:
            sys.exit("set HERACLES_BIND_PASSWORD to the bind DN's password")
        return heracles.connect(args.url, args.bind_dn, password, args.base_dn, args.ca_file)
    return heracles.open(args.data_dir, args.base_dn)


def day(value: Any) -> Optional[int]:
    """A shadow day count (a number, or its text), or None."""
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def problems(user: heracles.User, today: int) -> List[str]:
    found = []
    if not user.mail:
        found.append("no mail")
    last, max_age, expire = day(user.shadowLastChange), day(user.shadowMax), day(user.shadowExpire)
    if last is not None and max_age is not None and last + max_age < today:
        when = EPOCH + dt.timedelta(days=last + max_age)
        found.append(f"password expired {when.isoformat()}")
    if expire is not None and 0 <= expire < today:
        found.append(f"account expired {(EPOCH + dt.timedelta(days=expire)).isoformat()}")
    if user.locked:
        found.append("locked")
    return found


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="./heracles-data", help="embedded directory folder")
    parser.add_argument("--url", help="LDAP server URL (instead of --data-dir)")
    parser.add_argument("--bind-dn", default="cn=heracles-service,ou=heracles,dc=example,dc=com")
    parser.add_argument("--base-dn", default="dc=example,dc=com")
    parser.add_argument("--ca-file")
    parser.add_argument("--csv", help="also write the report to this CSV file")
    parser.add_argument("--today", help="report as of this date (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    today_date = dt.date.fromisoformat(args.today) if args.today else dt.date.today()
    today = (today_date - EPOCH).days

    rows: List[Tuple[str, str, str]] = []
    total = 0
    with client_from_args(args) as client:
        for user in client.users.iter(page_size=500):
            total += 1
            found = problems(user, today)
            if found:
                rows.append((user.uid, user.cn, "; ".join(found)))

    width = max([len(uid) for uid, _, _ in rows] + [3])
    print(f"{len(rows)} of {total} accounts need attention (as of {today_date.isoformat()}):")
    for uid, cn, what in rows:
        print(f"  {uid:<{width}}  {cn:<24.24}  {what}")
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["uid", "cn", "problems"])
            writer.writerows(rows)
        print(f"written to {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
