#!/usr/bin/env python3
"""Move users from one department to another.

    python move_users.py --data-dir ./heracles-data --from Sales --to Marketing
    python move_users.py --data-dir ./heracles-data --from Sales --to Marketing \\
        --filter title:eq:Manager --dry-run
    python move_users.py --data-dir ./heracles-data --from Sales --to -      # back to ou=people

``--from`` and ``--to`` name departments by their ``ou`` (when unique) or DN; ``--to -``
moves them back to the people container. ``--filter`` (repeatable ``attr:op:value``)
narrows the users; only users directly in ``--from`` move (not those of its
sub-departments, unless ``--recursive``). A moved user keeps its uid, attributes and
password; its groups and ACL assignments follow it (the core renames the entry and updates
what names it). ``--as UID`` acts as that user, with its access rights, instead of the
directory's owner.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

import heracles


def client_from_args(args: argparse.Namespace) -> heracles.Client:
    """The embedded directory of --data-dir, or the LDAP server of --url."""
    if args.url:
        password = os.environ.get("HERACLES_BIND_PASSWORD")
        if not password:
            sys.exit("set HERACLES_BIND_PASSWORD to the bind DN's password")
        return heracles.connect(args.url, args.bind_dn, password, args.base_dn, args.ca_file)
    return heracles.open(args.data_dir, args.base_dn)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="./heracles-data", help="embedded directory folder")
    parser.add_argument("--url", help="LDAP server URL (instead of --data-dir)")
    parser.add_argument("--bind-dn", default="cn=heracles-service,ou=heracles,dc=example,dc=com")
    parser.add_argument("--base-dn", default="dc=example,dc=com")
    parser.add_argument("--ca-file")
    parser.add_argument("--from", dest="source", required=True, help="department to empty")
    parser.add_argument("--to", dest="target", required=True, help="department, or - for people")
    parser.add_argument("--filter", action="append", default=[], help="attr:op:value")
    parser.add_argument("--recursive", action="store_true", help="also its sub-departments")
    parser.add_argument("--as", dest="as_user", help="act as this user (its ACL applies)")
    parser.add_argument("--dry-run", action="store_true", help="list who would move")
    args = parser.parse_args(argv)

    with client_from_args(args) as owner:
        client = owner.as_user(args.as_user) if args.as_user else owner
        try:
            source = heracles.Dn(client.departments.get(args.source).dn)
            target = None if args.target == "-" else client.departments.get(args.target)
        except heracles.NotFoundError as e:
            print(f"error: {e.message}", file=sys.stderr)
            return 2
        where = "ou=people" if target is None else target.dn

        def in_source(user: heracles.User) -> bool:
            parent = heracles.Dn(user.dn).parent
            if parent is None:
                return False
            return parent == source or (args.recursive and parent.is_descendant_of(source))

        # Read first, then move: moving while paging would shift the pages.
        users = [u for u in client.users.iter(filter=args.filter, attributes=["uid", "cn"]) if in_source(u)]
        if not users:
            print(f"no user to move from {source}")
            return 0
        failed = 0
        for user in users:
            uid = user.uid
            if args.dry_run:
                print(f"would move {uid} to {where}")
                continue
            try:
                moved = client.users.move(uid, None if target is None else target.dn)
                print(f"moved {uid} -> {moved.dn} (groups: {', '.join(moved.groups) or '-'})")
            except heracles.HeraclesError as e:
                failed += 1
                print(f"FAILED {uid}: {e.code}: {e.message}")
        print(f"{len(users) - failed} of {len(users)} users {'would move' if args.dry_run else 'moved'}")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
