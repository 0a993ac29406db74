"""The audit trail of Python calls: every write leaves an event, under the acting user."""

from __future__ import annotations

import datetime as dt
from typing import Callable

import pytest

import heracles

MakeUser = Callable[..., heracles.User]


def test_writes_are_audited(client: heracles.Client, make_user: MakeUser, tag: str) -> None:
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=2)
    user = make_user(tag, userPassword="Audit-Passw0rd-1")
    client.users.update(tag, description="audited")
    me = client.as_user(tag)
    with pytest.raises(heracles.AclDeniedError):
        me.users.delete(tag)
    events = client.audit.list(filter=[f"target:contains:{tag}"], since=start, limit=100)
    actions = [(e.action, e.result) for e in events]
    assert ("create", "success") in actions
    assert ("modify", "success") in actions
    assert ("delete", "ACL_DENIED") in actions
    denied = next(e for e in events if e.result == "ACL_DENIED")
    assert heracles.Dn(denied.actor) == heracles.Dn(user.dn)
    created = next(e for e in events if e.action == "create")
    passwords = [c for c in created.changes if c.attribute == "userPassword"]
    assert passwords and all(v.startswith("[REDACTED") for v in passwords[0].new)
    modify = next(e for e in events if e.action == "modify")
    assert [(c.attribute, c.new) for c in modify.changes] == [("description", ["audited"])]
    assert client.audit.get(modify.id) == heracles.AuditEvent(modify.to_dict())
    # Newest first; an until before everything finds nothing of ours.
    assert events[0].timestamp >= events[len(events) - 1].timestamp
    old = client.audit.list(filter=f"target:contains:{tag}", until="2000-01-01T00:00:00Z")
    assert old.total == 0
    streamed = list(client.audit.iter(filter=f"target:contains:{tag}", since=start, page_size=2))
    assert len(streamed) == events.total


def test_audit_errors(client: heracles.Client) -> None:
    with pytest.raises(heracles.ValidationError) as info:
        client.audit.list(since="yesterday")
    assert info.value.details.get("field") == "from"
    with pytest.raises(heracles.InvalidFilterError):
        client.audit.list(filter="nope:eq:x")
