"""The client and its areas: ``client.users``, ``client.groups``, ... one per REST area.

Every method is one call of the core (through ``_heracles.Core.call``), with the same
rules, validation, ACL checks and audit trail as the REST server; the GIL is released while
the directory works.
"""

from __future__ import annotations

import datetime as _dt
import os
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Type,
    TypeVar,
    Union,
)

from ._errors import HeraclesError
from ._heracles import Core, Dn, Filter
from ._models import (
    Assignment,
    AuditEvent,
    Decision,
    Department,
    DepartmentNode,
    DhcpHost,
    DhcpService,
    Group,
    Model,
    Permissions,
    Policy,
    Pool,
    Principal,
    Record,
    RecordSet,
    Setting,
    SharedNetwork,
    SshKey,
    Subnet,
    SudoRule,
    System,
    Template,
    User,
    Zone,
)
from ._page import Page

__all__ = [
    "open",
    "connect",
    "Client",
    "BootstrapReport",
    "FilterArg",
    "AttributesArg",
    "Users",
    "Groups",
    "Departments",
    "Templates",
    "Settings",
    "Acl",
    "Audit",
    "Systems",
    "Dns",
    "Dhcp",
    "Sudo",
]

FilterArg = Union[str, Filter, Iterable[Union[str, Filter]], None]
"""One ``attr:op:value`` clause, or several (all must match)."""

AttributesArg = Union[str, Iterable[str], None]
"""Field names to return (a list, or one comma-separated string); ``None``: all."""

TimeArg = Union[str, _dt.datetime, None]
"""An RFC 3339 time, or a ``datetime`` (naive ones are taken as UTC)."""

M = TypeVar("M")
MM = TypeVar("MM", bound=Model)

DEFAULT_BASE_DN = "dc=example,dc=com"


class BootstrapReport(Model):
    """What ``heracles.open`` found or created: ``created`` (entries created now),
    ``admin_created``, ``admin_dn`` and ``generated_password`` (only when the administrator was
    created now without a given password: shown here once, never stored in clear)."""

    __slots__ = ()
    _repr_fields = ("created", "admin_created", "admin_dn")

    created: int
    admin_created: bool
    admin_dn: Optional[str]
    generated_password: Optional[str]


# ---- argument helpers --------------------------------------------------------------------


def _filters(filter: FilterArg) -> Optional[List[str]]:
    if filter is None:
        return None
    if isinstance(filter, (str, Filter)):
        return [str(filter)]
    return [str(f) for f in filter]


def _attributes(attributes: AttributesArg) -> Optional[List[str]]:
    if attributes is None:
        return None
    if isinstance(attributes, str):
        return [a.strip() for a in attributes.split(",")]
    return [str(a) for a in attributes]


def _query(
    filter: FilterArg, limit: int, offset: int, sort: Optional[str], attributes: AttributesArg
) -> Dict[str, Any]:
    return {
        "filter": _filters(filter),
        "limit": limit,
        "offset": offset,
        "sort": sort,
        "attributes": _attributes(attributes),
    }


def _time(value: TimeArg) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    return value.astimezone(_dt.timezone.utc).isoformat().replace("+00:00", "Z")


def _dn(value: Union[str, Dn, None]) -> Optional[str]:
    return None if value is None else str(value)


def _one(answer: Any, model: Type[MM]) -> MM:
    """A single object answered with its version."""
    data, etag = answer
    return model(data, etag)


def _iterate(fetch: Callable[[int, int], Page[M]], page_size: int) -> Iterator[M]:
    if not 1 <= page_size <= 1000:
        raise ValueError(f"page_size must be between 1 and 1000, got {page_size}")
    offset = 0
    while True:
        page = fetch(page_size, offset)
        yield from page.data
        if not page.has_more or not page.data:
            return
        offset += len(page.data)


class _Area:
    """One area of the API; calls go through its client."""

    _prefix = ""

    def __init__(self, client: "Client") -> None:
        self._client = client

    def _call(self, op: str, **args: Any) -> Any:
        return self._client._call(f"{self._prefix}.{op}", args)

    def _page(self, op: str, model: Callable[[Any], M], **args: Any) -> Page[M]:
        return Page._from_answer(self._call(op, **args), model)

    def __repr__(self) -> str:
        return f"<heracles {self._prefix} of {self._client!r}>"


# ---- areas --------------------------------------------------------------------------------


class Users(_Area):
    """Users: ``inetOrgPerson`` entries, optionally POSIX. Fields are LDAP attribute names."""

    _prefix = "users"

    def list(
        self,
        filter: FilterArg = None,
        limit: int = 50,
        offset: int = 0,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
    ) -> Page[User]:
        """One page of users matching every ``filter`` clause (``cn:contains:john``), sorted
        by ``sort`` (``cn``, ``-uidNumber``; default: uid), limited to ``attributes``."""
        return self._page("list", User, **_query(filter, limit, offset, sort, attributes))

    def iter(
        self,
        filter: FilterArg = None,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
        page_size: int = 500,
    ) -> Iterator[User]:
        """Every matching user, fetched lazily page by page."""
        return _iterate(
            lambda limit, offset: self.list(filter, limit, offset, sort, attributes), page_size
        )

    def get(self, uid: str) -> User:
        """The user ``uid`` (wherever it lives); ``NotFoundError`` if none."""
        return _one(self._call("get", uid=uid), User)

    def exists(self, uid: str) -> bool:
        """Whether the user ``uid`` exists (and may be read)."""
        try:
            self.get(uid)
        except HeraclesError as e:
            if e.code == "USER_NOT_FOUND":
                return False
            raise
        return True

    def create(self, uid: str, cn: str, sn: str, **attributes: Any) -> User:
        """Creates a user. ``attributes``: LDAP attributes of the user's classes
        (``mail="..."``, ``givenName=...``), ``userPassword`` (hashed by the core, after the
        password policy), ``department`` (DN or unique ou), ``template`` (name) and
        ``posix={"uidNumber": None, ...}`` (``None`` allocates the next free number)."""
        body = dict(attributes, uid=uid, cn=cn, sn=sn)
        return _one(self._call("create", body=body), User)

    def update(self, uid: str, /, *, if_match: Optional[str] = None, **changes: Any) -> User:
        """Changes only the attributes given; ``None`` removes one. POSIX fields flattened or
        in ``posix={...}``. With ``if_match`` (an ``etag``), only if unchanged since read."""
        return _one(self._call("update", uid=uid, body=changes, if_match=if_match), User)

    def delete(self, uid: str, *, if_match: Optional[str] = None) -> None:
        """Deletes the user; it leaves its groups, its sessions and assignments go."""
        self._call("delete", uid=uid, if_match=if_match)

    def set_password(
        self, uid: str, new_password: str, current_password: Optional[str] = None
    ) -> None:
        """Sets a password (the policy applies; hashed in the configured scheme). One's own
        needs ``current_password``."""
        self._call(
            "set_password",
            uid=uid,
            new_password=new_password,
            current_password=current_password,
        )

    def lock(self, uid: str) -> User:
        """Locks the account: it cannot bind any more and its sessions end."""
        return _one(self._call("lock", uid=uid), User)

    def unlock(self, uid: str) -> User:
        """Unlocks the account."""
        return _one(self._call("unlock", uid=uid), User)

    def move(self, uid: str, department: Union[str, Dn, None]) -> User:
        """Moves the user into ``department`` (DN or unique ou), or with ``None`` back to
        ``ou=people``. Its groups and ACL assignments follow; its sessions end."""
        return _one(self._call("move", uid=uid, department=_dn(department)), User)


    def ssh_keys(
        self,
        uid: str,
        filter: FilterArg = None,
        limit: int = 50,
        offset: int = 0,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
    ) -> Page[SshKey]:
        """The user's SSH public keys."""
        return self._page(
            "ssh_keys", SshKey, uid=uid, **_query(filter, limit, offset, sort, attributes)
        )

    def add_ssh_key(self, uid: str, public_key: str) -> SshKey:
        """Adds an OpenSSH public key line (``ssh-ed25519 AAAA... comment``), checked and
        fingerprinted."""
        return _one(self._call("add_ssh_key", uid=uid, body={"public_key": public_key}), SshKey)

    def delete_ssh_key(self, uid: str, id: str) -> None:
        """Removes a key by its ``id`` (or its ``SHA256:`` fingerprint)."""
        self._call("delete_ssh_key", uid=uid, id=id)


class Groups(_Area):
    """Groups: ``ldap`` (groupOfNames), ``posix`` (posixGroup) or ``mixed`` (both kept in
    step)."""

    _prefix = "groups"

    def list(
        self,
        filter: FilterArg = None,
        limit: int = 50,
        offset: int = 0,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
    ) -> Page[Group]:
        """One page of groups."""
        return self._page("list", Group, **_query(filter, limit, offset, sort, attributes))

    def iter(
        self,
        filter: FilterArg = None,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
        page_size: int = 500,
    ) -> Iterator[Group]:
        """Every matching group, fetched lazily page by page."""
        return _iterate(
            lambda limit, offset: self.list(filter, limit, offset, sort, attributes), page_size
        )

    def get(self, cn: str) -> Group:
        """The group ``cn``."""
        return _one(self._call("get", cn=cn), Group)

    def exists(self, cn: str) -> bool:
        """Whether the group ``cn`` exists (and may be read)."""
        try:
            self.get(cn)
        except HeraclesError as e:
            if e.code == "GROUP_NOT_FOUND":
                return False
            raise
        return True

    def create(
        self,
        cn: str,
        *,
        groupType: Optional[str] = None,
        description: Optional[str] = None,
        gidNumber: Optional[int] = None,
        members: Optional[Iterable[str]] = None,
        department: Union[str, Dn, None] = None,
    ) -> Group:
        """Creates a group (``groupType`` default ``ldap``; posix and mixed groups get the
        next free ``gidNumber`` unless one is given). ``members``: uids or DNs."""
        body: Dict[str, Any] = {"cn": cn}
        if groupType is not None:
            body["groupType"] = groupType
        if description is not None:
            body["description"] = description
        if gidNumber is not None:
            body["gidNumber"] = gidNumber
        if members is not None:
            body["members"] = [str(m) for m in members]
        if department is not None:
            body["department"] = str(department)
        return _one(self._call("create", body=body), Group)

    def update(self, cn: str, /, *, if_match: Optional[str] = None, **changes: Any) -> Group:
        """Changes ``description`` and/or ``gidNumber`` (``None`` removes the description)."""
        return _one(self._call("update", cn=cn, body=changes, if_match=if_match), Group)

    def delete(self, cn: str, *, if_match: Optional[str] = None) -> None:
        """Deletes the group."""
        self._call("delete", cn=cn, if_match=if_match)

    def add_member(
        self, cn: str, uid_or_dn: Union[str, Dn], *, if_match: Optional[str] = None
    ) -> Group:
        """Adds a user (uid or DN), or a group (DN) to nest it."""
        return self.add_members(cn, [uid_or_dn], if_match=if_match)

    def add_members(
        self, cn: str, members: Iterable[Union[str, Dn]], *, if_match: Optional[str] = None
    ) -> Group:
        """Adds several members at once (one write)."""
        names = [str(m) for m in members]
        return _one(self._call("add_members", cn=cn, members=names, if_match=if_match), Group)

    def remove_member(
        self, cn: str, uid_or_dn: Union[str, Dn], *, if_match: Optional[str] = None
    ) -> Group:
        """Removes a member (uid or DN)."""
        return _one(
            self._call("remove_member", cn=cn, member=str(uid_or_dn), if_match=if_match), Group
        )


class Departments(_Area):
    """Departments: ``organizationalUnit`` trees below ``ou=departments``. A department is
    named by its ``ou`` when unique, else by its DN or its ``ou`` and ``parent``."""

    _prefix = "departments"

    def list(
        self,
        filter: FilterArg = None,
        limit: int = 50,
        offset: int = 0,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
    ) -> Page[Department]:
        """One page of departments (every level)."""
        return self._page(
            "list", Department, **_query(filter, limit, offset, sort, attributes)
        )

    def iter(
        self,
        filter: FilterArg = None,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
        page_size: int = 500,
    ) -> Iterator[Department]:
        """Every matching department, fetched lazily page by page."""
        return _iterate(
            lambda limit, offset: self.list(filter, limit, offset, sort, attributes), page_size
        )

    def tree(self) -> List[DepartmentNode]:
        """The top-level departments, each with its sub-departments."""
        return [DepartmentNode.from_dict(n) for n in self._call("tree")]

    def get(self, ou: Union[str, Dn], parent: Union[str, Dn, None] = None) -> Department:
        """The department ``ou`` (a name, or a DN), below ``parent`` if given."""
        return _one(self._call("get", ou=str(ou), parent=_dn(parent)), Department)

    def create(
        self,
        ou: str,
        description: Optional[str] = None,
        parent: Union[str, Dn, None] = None,
    ) -> Department:
        """Creates a department, at the top level or below ``parent`` (DN or unique ou)."""
        body: Dict[str, Any] = {"ou": ou}
        if description is not None:
            body["description"] = description
        if parent is not None:
            body["parent"] = str(parent)
        return _one(self._call("create", body=body), Department)

    def update(
        self,
        ou: Union[str, Dn],
        /,
        *,
        parent: Union[str, Dn, None] = None,
        if_match: Optional[str] = None,
        **changes: Any,
    ) -> Department:
        """Changes the ``description`` (``None`` removes it)."""
        return _one(
            self._call(
                "update", ou=str(ou), parent=_dn(parent), body=changes, if_match=if_match
            ),
            Department,
        )

    def delete(
        self,
        ou: Union[str, Dn],
        *,
        parent: Union[str, Dn, None] = None,
        recursive: bool = False,
        if_match: Optional[str] = None,
    ) -> None:
        """Deletes the department; one that still holds entries is a ``BusinessRuleError``
        unless ``recursive``."""
        self._call(
            "delete", ou=str(ou), parent=_dn(parent), recursive=recursive, if_match=if_match
        )


class Templates(_Area):
    """User templates: defaults (``{{uid}}`` placeholders allowed) applied at creation."""

    _prefix = "templates"

    def list(
        self,
        filter: FilterArg = None,
        limit: int = 50,
        offset: int = 0,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
    ) -> Page[Template]:
        """One page of templates."""
        return self._page("list", Template, **_query(filter, limit, offset, sort, attributes))

    def iter(
        self,
        filter: FilterArg = None,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
        page_size: int = 500,
    ) -> Iterator[Template]:
        """Every matching template, fetched lazily page by page."""
        return _iterate(
            lambda limit, offset: self.list(filter, limit, offset, sort, attributes), page_size
        )

    def get(self, name: str) -> Template:
        """The template ``name``."""
        return _one(self._call("get", name=name), Template)

    def create(
        self,
        name: str,
        description: Optional[str] = None,
        defaults: Optional[Mapping[str, Any]] = None,
    ) -> Template:
        """Creates a template."""
        body: Dict[str, Any] = {"name": name}
        if description is not None:
            body["description"] = description
        if defaults is not None:
            body["defaults"] = dict(defaults)
        return _one(self._call("create", body=body), Template)

    def update(
        self, name: str, /, *, if_match: Optional[str] = None, **changes: Any
    ) -> Template:
        """Changes ``description`` and/or ``defaults`` (replaced as a whole; ``None``
        removes)."""
        return _one(self._call("update", name=name, body=changes, if_match=if_match), Template)

    def delete(self, name: str, *, if_match: Optional[str] = None) -> None:
        """Deletes the template."""
        self._call("delete", name=name, if_match=if_match)


class Settings(_Area):
    """Settings (id ranges, password policy and hash, container names, ...)."""

    _prefix = "settings"

    def list(
        self,
        filter: FilterArg = None,
        limit: int = 50,
        offset: int = 0,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
    ) -> Page[Setting]:
        """One page of settings, each with its value in force."""
        return self._page("list", Setting, **_query(filter, limit, offset, sort, attributes))

    def iter(
        self,
        filter: FilterArg = None,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
        page_size: int = 500,
    ) -> Iterator[Setting]:
        """Every setting."""
        return _iterate(
            lambda limit, offset: self.list(filter, limit, offset, sort, attributes), page_size
        )

    def get(self, key: str) -> Setting:
        """The setting ``key``."""
        return _one(self._call("get", key=key), Setting)

    def value(self, key: str) -> Any:
        """Just the value in force of ``key``."""
        return self.get(key).value

    def set(self, key: str, value: Any, *, if_match: Optional[str] = None) -> Setting:
        """Sets ``key`` (validated per key)."""
        return _one(self._call("set", key=key, value=value, if_match=if_match), Setting)

    def reset(self, key: str, *, if_match: Optional[str] = None) -> Setting:
        """Resets ``key`` to its default; answers the default."""
        return _one(self._call("reset", key=key, if_match=if_match), Setting)


class Acl(_Area):
    """Access control: policies, assignments, effective permissions, checks."""

    _prefix = "acl"

    def policies(
        self,
        filter: FilterArg = None,
        limit: int = 50,
        offset: int = 0,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
    ) -> Page[Policy]:
        """One page of policies (built-in and stored)."""
        return self._page("policies", Policy, **_query(filter, limit, offset, sort, attributes))

    def iter_policies(self, filter: FilterArg = None, page_size: int = 500) -> Iterator[Policy]:
        """Every matching policy."""
        return _iterate(lambda limit, offset: self.policies(filter, limit, offset), page_size)

    def get_policy(self, name: str) -> Policy:
        """The policy ``name``."""
        return _one(self._call("policy", name=name), Policy)

    def create_policy(
        self,
        name: str,
        permissions: Iterable[str],
        description: Optional[str] = None,
        attributes: Optional[Mapping[str, Mapping[str, Iterable[str]]]] = None,
    ) -> Policy:
        """Creates a policy: ``permissions`` like ``"user:read"``; ``attributes`` per object
        type, e.g. ``{"user": {"read": ["*"], "write": ["telephoneNumber"]}}``."""
        body: Dict[str, Any] = {"name": name, "permissions": list(permissions)}
        if description is not None:
            body["description"] = description
        if attributes is not None:
            body["attributes"] = {
                obj: {k: list(v) for k, v in rule.items()} for obj, rule in attributes.items()
            }
        return _one(self._call("create_policy", body=body), Policy)

    def update_policy(
        self, name: str, /, *, if_match: Optional[str] = None, **changes: Any
    ) -> Policy:
        """Changes ``description``, ``permissions`` and/or ``attributes``; built-ins cannot
        change."""
        return _one(
            self._call("update_policy", name=name, body=changes, if_match=if_match), Policy
        )

    def delete_policy(self, name: str) -> None:
        """Deletes a policy (not a built-in)."""
        self._call("delete_policy", name=name)

    def assignments(
        self,
        filter: FilterArg = None,
        limit: int = 50,
        offset: int = 0,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
    ) -> Page[Assignment]:
        """One page of assignments."""
        return self._page(
            "assignments", Assignment, **_query(filter, limit, offset, sort, attributes)
        )

    def iter_assignments(
        self, filter: FilterArg = None, page_size: int = 500
    ) -> Iterator[Assignment]:
        """Every matching assignment."""
        return _iterate(lambda limit, offset: self.assignments(filter, limit, offset), page_size)

    def create_assignment(
        self,
        policy: str,
        subject: Union[str, Dn],
        *,
        subject_type: str = "user",
        scope_type: str = "tree",
        scope: Union[str, Dn, None] = None,
        deny: bool = False,
    ) -> Assignment:
        """Assigns ``policy`` to a user or group (uid/cn or DN) over a scope: ``tree``,
        ``subtree`` or ``entry`` (with ``scope``, a DN) or ``self``; ``deny`` to deny."""
        body: Dict[str, Any] = {
            "policy": policy,
            "subject_type": subject_type,
            "subject": str(subject),
            "scope_type": scope_type,
            "deny": deny,
        }
        if scope is not None:
            body["scope"] = str(scope)
        return _one(self._call("create_assignment", body=body), Assignment)

    def delete_assignment(self, id: str) -> None:
        """Deletes an assignment by id."""
        self._call("delete_assignment", id=id)

    def permissions(self, uid: str) -> Permissions:
        """What the user ``uid`` may do, and which assignments grant it."""
        return Permissions(self._call("permissions", uid=uid))

    def check(
        self,
        action: str,
        object_type: str,
        object_dn: Union[str, Dn, None] = None,
        attribute: Optional[str] = None,
    ) -> Decision:
        """Whether this client's principal may do ``action`` on an ``object_type`` (at
        ``object_dn``, else anywhere), with ``attribute`` its attribute rules too."""
        body: Dict[str, Any] = {"action": action, "object_type": object_type}
        if object_dn is not None:
            body["object_dn"] = str(object_dn)
        if attribute is not None:
            body["attribute"] = attribute
        return Decision(self._call("check", body=body))


class Audit(_Area):
    """The audit trail, newest first."""

    _prefix = "audit"

    def list(
        self,
        filter: FilterArg = None,
        limit: int = 50,
        offset: int = 0,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
        since: TimeArg = None,
        until: TimeArg = None,
    ) -> Page[AuditEvent]:
        """One page of events; ``filter`` on ``actor``, ``action``, ``target``,
        ``object_type``, ``result``, ``request_id``; ``since``/``until`` (the REST API's
        ``from``/``to``) both included."""
        return self._page(
            "list",
            AuditEvent,
            **_query(filter, limit, offset, sort, attributes),
            **{"from": _time(since), "to": _time(until)},
        )

    def iter(
        self,
        filter: FilterArg = None,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
        since: TimeArg = None,
        until: TimeArg = None,
        page_size: int = 500,
    ) -> Iterator[AuditEvent]:
        """Every matching event, fetched lazily page by page."""
        return _iterate(
            lambda limit, offset: self.list(
                filter, limit, offset, sort, attributes, since, until
            ),
            page_size,
        )

    def get(self, id: str) -> AuditEvent:
        """One event by id."""
        return AuditEvent(self._call("get", id=id))


class Systems(_Area):
    """Systems: servers, workstations, terminals, printers, components, phones, mobiles."""

    _prefix = "systems"

    def list(
        self,
        filter: FilterArg = None,
        limit: int = 50,
        offset: int = 0,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
        type: Optional[str] = None,
    ) -> Page[System]:
        """One page of systems, of one ``type`` if given."""
        return self._page(
            "list", System, **_query(filter, limit, offset, sort, attributes), type=type
        )

    def iter(
        self,
        filter: FilterArg = None,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
        type: Optional[str] = None,
        page_size: int = 500,
    ) -> Iterator[System]:
        """Every matching system, fetched lazily page by page."""
        return _iterate(
            lambda limit, offset: self.list(filter, limit, offset, sort, attributes, type),
            page_size,
        )

    def get(self, cn: str) -> System:
        """The system ``cn`` (whatever its type)."""
        return _one(self._call("get", cn=cn), System)

    def create(
        self,
        cn: str,
        type: str,
        *,
        ipAddress: Union[str, Iterable[str], None] = None,
        macAddress: Union[str, Iterable[str], None] = None,
        description: Optional[str] = None,
        dns: Optional[Mapping[str, Any]] = None,
        dhcp: Optional[Mapping[str, Any]] = None,
    ) -> System:
        """Creates a system; addresses are validated and stored canonically. ``dns``
        (``{"zone": ..., "name"?: ..., "reverse_zone"?: ...}``) also writes its A/AAAA (and
        PTR) records, ``dhcp`` (``{"service": ..., "host"?: ...}``) a DHCP host — all or
        nothing."""
        body: Dict[str, Any] = {"cn": cn, "type": type}
        for name, value in (("ipAddress", ipAddress), ("macAddress", macAddress)):
            if value is not None:
                body[name] = value if isinstance(value, str) else list(value)
        if description is not None:
            body["description"] = description
        if dns is not None:
            body["dns"] = dict(dns)
        if dhcp is not None:
            body["dhcp"] = dict(dhcp)
        return _one(self._call("create", body=body), System)

    def update(self, cn: str, /, *, if_match: Optional[str] = None, **changes: Any) -> System:
        """Changes ``ipAddress``, ``macAddress``, ``description`` (``None`` removes)."""
        return _one(self._call("update", cn=cn, body=changes, if_match=if_match), System)

    def delete(self, cn: str, *, if_match: Optional[str] = None) -> None:
        """Deletes the system."""
        self._call("delete", cn=cn, if_match=if_match)


class Dns(_Area):
    """DNS zones and records, as bind's LDAP readers (``ldap2zone``) read them. Zones and
    records use the REST API's fields (``zoneName``, ``primaryNs``, ``adminEmail``, ...)."""

    _prefix = "dns"

    def zones(
        self,
        filter: FilterArg = None,
        limit: int = 50,
        offset: int = 0,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
    ) -> Page[Zone]:
        """One page of zones."""
        return self._page("zones", Zone, **_query(filter, limit, offset, sort, attributes))

    def iter_zones(self, filter: FilterArg = None, page_size: int = 500) -> Iterator[Zone]:
        """Every matching zone."""
        return _iterate(lambda limit, offset: self.zones(filter, limit, offset), page_size)

    def get_zone(self, zone: str) -> Zone:
        """The zone ``zone`` (its name, e.g. ``example.com``)."""
        return _one(self._call("zone", zone=zone), Zone)

    def create_zone(
        self, zoneName: str, primaryNs: str, adminEmail: str, **fields: Any
    ) -> Zone:
        """Creates a zone (``zoneType`` ``forward`` or ``reverse``, ``ttl``, ``refresh``,
        ``retry``, ``expire``, ``minimum``, ``primaryNsAddress``)."""
        body = dict(fields, zoneName=zoneName, primaryNs=primaryNs, adminEmail=adminEmail)
        return _one(self._call("create_zone", body=body), Zone)

    def update_zone(self, zone: str, /, *, if_match: Optional[str] = None, **changes: Any) -> Zone:
        """Changes SOA fields (``primaryNs``, ``adminEmail``, ``ttl``, ...); the serial
        increases."""
        return _one(self._call("update_zone", zone=zone, body=changes, if_match=if_match), Zone)

    def delete_zone(self, zone: str, *, if_match: Optional[str] = None) -> None:
        """Deletes the zone and its records."""
        self._call("delete_zone", zone=zone, if_match=if_match)

    def records(
        self,
        zone: str,
        filter: FilterArg = None,
        limit: int = 50,
        offset: int = 0,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
    ) -> Page[Record]:
        """One page of the zone's records (one item per value)."""
        return self._page(
            "records", Record, zone=zone, **_query(filter, limit, offset, sort, attributes)
        )

    def iter_records(
        self, zone: str, filter: FilterArg = None, page_size: int = 500
    ) -> Iterator[Record]:
        """Every matching record of the zone."""
        return _iterate(lambda limit, offset: self.records(zone, filter, limit, offset), page_size)

    def get_records(self, zone: str, name: str, type: str) -> RecordSet:
        """Every record of ``name`` and ``type`` (``@`` for the apex)."""
        return _one(self._call("record_set", zone=zone, name=name, type=type), RecordSet)

    def create_record(
        self, zone: str, name: str, type: str, value: str, ttl: Optional[int] = None
    ) -> Record:
        """Adds a record (A, AAAA, CNAME, MX ``"10 mail.example.com."``, NS, PTR, TXT, SRV
        ``"10 5 5060 sip.example.com."``), validated; the zone's serial increases."""
        body: Dict[str, Any] = {"name": name, "type": type, "value": value}
        if ttl is not None:
            body["ttl"] = ttl
        return _one(self._call("create_record", zone=zone, body=body), Record)

    def delete_records(
        self,
        zone: str,
        name: str,
        type: str,
        value: Optional[str] = None,
        *,
        if_match: Optional[str] = None,
    ) -> None:
        """Deletes the records of ``name`` and ``type`` (only ``value``, if given)."""
        self._call(
            "delete_records", zone=zone, name=name, type=type, value=value, if_match=if_match
        )


class Dhcp(_Area):
    """DHCP services and what they hold, as ISC dhcpd's LDAP backend reads them: shared
    networks, subnets (named by their network address), pools (by their ``id``), hosts."""

    _prefix = "dhcp"

    # -- services --
    def services(
        self,
        filter: FilterArg = None,
        limit: int = 50,
        offset: int = 0,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
    ) -> Page[DhcpService]:
        """One page of services."""
        return self._page(
            "services", DhcpService, **_query(filter, limit, offset, sort, attributes)
        )

    def iter_services(
        self, filter: FilterArg = None, page_size: int = 500
    ) -> Iterator[DhcpService]:
        """Every matching service."""
        return _iterate(lambda limit, offset: self.services(filter, limit, offset), page_size)

    def get_service(self, service: str) -> DhcpService:
        """A service with its shared networks, subnets (and pools) and hosts."""
        return _one(self._call("service", service=service), DhcpService)

    def create_service(self, cn: str, **fields: Any) -> DhcpService:
        """Creates a service (``description``, ``statements``, ``options``, ``server``)."""
        return _one(self._call("create_service", body=dict(fields, cn=cn)), DhcpService)

    def update_service(
        self, service: str, /, *, if_match: Optional[str] = None, **changes: Any
    ) -> DhcpService:
        """Changes ``description``, ``statements``, ``options`` (``None`` removes)."""
        return _one(
            self._call("update_service", service=service, body=changes, if_match=if_match),
            DhcpService,
        )

    def delete_service(
        self, service: str, *, recursive: bool = False, if_match: Optional[str] = None
    ) -> None:
        """Deletes a service (one holding objects only with ``recursive``)."""
        self._call("delete_service", service=service, recursive=recursive, if_match=if_match)

    # -- shared networks --
    def shared_networks(
        self,
        service: str,
        filter: FilterArg = None,
        limit: int = 50,
        offset: int = 0,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
    ) -> Page[SharedNetwork]:
        """One page of the service's shared networks."""
        return self._page(
            "shared_networks",
            SharedNetwork,
            service=service,
            **_query(filter, limit, offset, sort, attributes),
        )

    def get_shared_network(self, service: str, cn: str) -> SharedNetwork:
        """One shared network."""
        return _one(self._call("shared_network", service=service, cn=cn), SharedNetwork)

    def create_shared_network(self, service: str, cn: str, **fields: Any) -> SharedNetwork:
        """Creates a shared network."""
        return _one(
            self._call("create_shared_network", service=service, body=dict(fields, cn=cn)),
            SharedNetwork,
        )

    def update_shared_network(
        self, service: str, cn: str, /, *, if_match: Optional[str] = None, **changes: Any
    ) -> SharedNetwork:
        """Changes ``description``, ``statements``, ``options``."""
        return _one(
            self._call(
                "update_shared_network", service=service, cn=cn, body=changes, if_match=if_match
            ),
            SharedNetwork,
        )

    def delete_shared_network(
        self,
        service: str,
        cn: str,
        *,
        recursive: bool = False,
        if_match: Optional[str] = None,
    ) -> None:
        """Deletes a shared network (one holding subnets only with ``recursive``)."""
        self._call(
            "delete_shared_network",
            service=service,
            cn=cn,
            recursive=recursive,
            if_match=if_match,
        )

    # -- subnets --
    def subnets(
        self,
        service: str,
        filter: FilterArg = None,
        limit: int = 50,
        offset: int = 0,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
        shared_network: Optional[str] = None,
    ) -> Page[Subnet]:
        """One page of the service's subnets (of one shared network, if given)."""
        return self._page(
            "subnets",
            Subnet,
            service=service,
            shared_network=shared_network,
            **_query(filter, limit, offset, sort, attributes),
        )

    def get_subnet(self, service: str, network: str) -> Subnet:
        """One subnet, by its network address."""
        return _one(self._call("subnet", service=service, network=network), Subnet)

    def create_subnet(
        self,
        service: str,
        network: str,
        prefix: Optional[int] = None,
        *,
        shared_network: Optional[str] = None,
        **fields: Any,
    ) -> Subnet:
        """Creates a subnet (``192.168.1.0``, prefix ``24``), in a shared network if given."""
        body = dict(fields, network=network)
        if prefix is not None:
            body["prefix"] = prefix
        return _one(
            self._call(
                "create_subnet", service=service, shared_network=shared_network, body=body
            ),
            Subnet,
        )

    def update_subnet(
        self, service: str, network: str, /, *, if_match: Optional[str] = None, **changes: Any
    ) -> Subnet:
        """Changes ``prefix``, ``description``, ``statements``, ``options``."""
        return _one(
            self._call(
                "update_subnet", service=service, network=network, body=changes, if_match=if_match
            ),
            Subnet,
        )

    def delete_subnet(
        self,
        service: str,
        network: str,
        *,
        recursive: bool = False,
        if_match: Optional[str] = None,
    ) -> None:
        """Deletes a subnet (one holding pools only with ``recursive``)."""
        self._call(
            "delete_subnet",
            service=service,
            network=network,
            recursive=recursive,
            if_match=if_match,
        )

    # -- pools --
    def pools(
        self,
        service: str,
        network: str,
        filter: FilterArg = None,
        limit: int = 50,
        offset: int = 0,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
    ) -> Page[Pool]:
        """One page of a subnet's pools."""
        return self._page(
            "pools",
            Pool,
            service=service,
            network=network,
            **_query(filter, limit, offset, sort, attributes),
        )

    def get_pool(self, service: str, network: str, id: str) -> Pool:
        """One pool, by its id (``first-last``)."""
        return _one(self._call("pool", service=service, network=network, id=id), Pool)

    def create_pool(self, service: str, network: str, range: str, **fields: Any) -> Pool:
        """Creates a pool (``range``: ``"192.168.1.100 192.168.1.199"``, inside the subnet,
        overlapping no other)."""
        return _one(
            self._call(
                "create_pool", service=service, network=network, body=dict(fields, range=range)
            ),
            Pool,
        )

    def update_pool(
        self,
        service: str,
        network: str,
        id: str,
        /,
        *,
        if_match: Optional[str] = None,
        **changes: Any,
    ) -> Pool:
        """Changes ``range``, ``description``, ``permitList``, ``statements``, ``options``."""
        return _one(
            self._call(
                "update_pool",
                service=service,
                network=network,
                id=id,
                body=changes,
                if_match=if_match,
            ),
            Pool,
        )

    def delete_pool(
        self, service: str, network: str, id: str, *, if_match: Optional[str] = None
    ) -> None:
        """Deletes a pool."""
        self._call("delete_pool", service=service, network=network, id=id, if_match=if_match)

    # -- hosts --
    def hosts(
        self,
        service: str,
        filter: FilterArg = None,
        limit: int = 50,
        offset: int = 0,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
    ) -> Page[DhcpHost]:
        """One page of the service's hosts."""
        return self._page(
            "hosts", DhcpHost, service=service, **_query(filter, limit, offset, sort, attributes)
        )

    def get_host(self, service: str, cn: str) -> DhcpHost:
        """One host."""
        return _one(self._call("host", service=service, cn=cn), DhcpHost)

    def create_host(self, service: str, cn: str, **fields: Any) -> DhcpHost:
        """Creates a host (``macAddress``, ``fixedAddress``, ``description``, ...)."""
        return _one(
            self._call("create_host", service=service, body=dict(fields, cn=cn)), DhcpHost
        )

    def update_host(
        self, service: str, cn: str, /, *, if_match: Optional[str] = None, **changes: Any
    ) -> DhcpHost:
        """Changes ``macAddress``, ``fixedAddress``, ``description``, ... (``None``
        removes)."""
        return _one(
            self._call("update_host", service=service, cn=cn, body=changes, if_match=if_match),
            DhcpHost,
        )

    def delete_host(self, service: str, cn: str, *, if_match: Optional[str] = None) -> None:
        """Deletes a host."""
        self._call("delete_host", service=service, cn=cn, if_match=if_match)


class Sudo(_Area):
    """sudo rules (``sudoRole`` entries, as sudo's LDAP support reads them)."""

    _prefix = "sudo"

    def list(
        self,
        filter: FilterArg = None,
        limit: int = 50,
        offset: int = 0,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
    ) -> Page[SudoRule]:
        """One page of rules."""
        return self._page("list", SudoRule, **_query(filter, limit, offset, sort, attributes))

    def iter(
        self,
        filter: FilterArg = None,
        sort: Optional[str] = None,
        attributes: AttributesArg = None,
        page_size: int = 500,
    ) -> Iterator[SudoRule]:
        """Every matching rule, fetched lazily page by page."""
        return _iterate(
            lambda limit, offset: self.list(filter, limit, offset, sort, attributes), page_size
        )

    def get(self, cn: str) -> SudoRule:
        """The rule ``cn``."""
        return _one(self._call("get", cn=cn), SudoRule)

    def create(self, cn: str, **fields: Any) -> SudoRule:
        """Creates a rule: ``sudoUser`` (users, ``%group``, ``+netgroup``, ``ALL``),
        ``sudoHost``, ``sudoCommand`` (absolute paths or ``ALL``, ``!`` allowed),
        ``sudoOption``, ``sudoRunAsUser``, ``sudoRunAsGroup``, ``sudoOrder``, ..."""
        return _one(self._call("create", body=dict(fields, cn=cn)), SudoRule)

    def update(self, cn: str, /, *, if_match: Optional[str] = None, **changes: Any) -> SudoRule:
        """Changes the fields given (``None`` removes)."""
        return _one(self._call("update", cn=cn, body=changes, if_match=if_match), SudoRule)

    def delete(self, cn: str, *, if_match: Optional[str] = None) -> None:
        """Deletes the rule."""
        self._call("delete", cn=cn, if_match=if_match)


# ---- the client ---------------------------------------------------------------------------


class Client:
    """A connection to a directory, acting as one principal. Get one with
    :func:`heracles.open` (embedded directory) or :func:`heracles.connect` (LDAP server);
    ``client.as_user(uid)`` acts as a user. A context manager: ``with heracles.open(...) as
    client:`` closes it at the end."""

    users: Users
    groups: Groups
    departments: Departments
    templates: Templates
    settings: Settings
    acl: Acl
    audit: Audit
    systems: Systems
    dns: Dns
    dhcp: Dhcp
    sudo: Sudo

    def __init__(self, core: Core, bootstrap_report: Optional[BootstrapReport] = None) -> None:
        self._core = core
        self._bootstrap_report = bootstrap_report
        self.users = Users(self)
        self.groups = Groups(self)
        self.departments = Departments(self)
        self.templates = Templates(self)
        self.settings = Settings(self)
        self.acl = Acl(self)
        self.audit = Audit(self)
        self.systems = Systems(self)
        self.dns = Dns(self)
        self.dhcp = Dhcp(self)
        self.sudo = Sudo(self)

    def _call(self, op: str, args: Dict[str, Any]) -> Any:
        return self._core.call(op, args)

    def as_user(self, user: Union[str, Dn]) -> "Client":
        """A client acting as the user ``user`` (uid or DN): every call is checked against
        that user's ACL, and audited as that user. Shares this client's directory."""
        return Client(self._core.as_user(str(user)))

    def bootstrap(self, admin_password: Optional[str] = None) -> BootstrapReport:
        """Runs the core's bootstrap (what the server does at every start; idempotent):
        creates whatever part of the tree is missing and, while no administrator exists,
        ``uid=admin`` with ``admin_password`` (or a generated one, in the report)."""
        return BootstrapReport(self._core.bootstrap(admin_password))

    @property
    def principal(self) -> Principal:
        """Who this client acts as."""
        return Principal(self._core.principal())

    @property
    def base_dn(self) -> str:
        """The base DN of the directory."""
        return self._core.base_dn

    @property
    def target(self) -> str:
        """``embedded:<folder>`` or the LDAP URL."""
        return self._core.target

    @property
    def bootstrap_report(self) -> Optional[BootstrapReport]:
        """What :func:`heracles.open` created (``None`` for other clients)."""
        return self._bootstrap_report

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._core.closed

    def close(self) -> None:
        """Closes the client (idempotent); the directory's connections or files close when
        no client uses them any more."""
        self._core.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._core.closed:
            return "<heracles.Client closed>"
        return f"<heracles.Client {self._core.target} base={self._core.base_dn}>"


def open(
    data_dir: Union[str, "os.PathLike[str]"],
    base_dn: str = DEFAULT_BASE_DN,
    *,
    admin_password: Optional[str] = None,
) -> Client:
    """A client on the embedded directory in ``data_dir`` (created when missing).

    Every open runs the core's bootstrap, which creates whatever part of the tree is missing
    and, while no administrator exists, the administrator ``uid=admin`` with
    ``admin_password`` (default: ``$HERACLES_ADMIN_PASSWORD``; without either a password is
    generated and shown once in ``client.bootstrap_report.generated_password``). That
    password is for logins through the REST server; the client itself acts as the
    directory's owner (the core's system principal: every permission), since whoever can
    open the folder owns the data — use ``client.as_user(uid)`` to act with a user's ACL.

    Opening a folder that this process already has open shares it.
    """
    if admin_password is None:
        admin_password = os.environ.get("HERACLES_ADMIN_PASSWORD") or None
    core, report = Core.open_embedded(os.fspath(data_dir), str(base_dn), admin_password)
    return Client(core, BootstrapReport(report))


def connect(
    url: str,
    bind_dn: Union[str, Dn],
    password: str,
    base_dn: Union[str, Dn],
    ca_file: Union[str, "os.PathLike[str]", None] = None,
    *,
    starttls: bool = False,
    timeout: float = 10.0,
) -> Client:
    """A client on the LDAP server at ``url`` (``ldap://``, ``ldaps://``, ``ldapi://``),
    binding as ``bind_dn``; ``ca_file`` is the CA bundle of the server's certificate
    (default: the system's), ``starttls`` upgrades ``ldap://``, ``timeout`` bounds every
    operation (seconds). Nothing is written: on a directory no Heracles server has
    bootstrapped yet, call ``client.bootstrap()`` once.

    The client acts as the bind identity: a user entry (``uid=...``) with its own Heracles
    ACL; any other account — the service account the server uses — as the directory's owner
    (every permission; audited under that DN).
    """
    core = Core.connect(
        url,
        str(bind_dn),
        password,
        str(base_dn),
        None if ca_file is None else os.fspath(ca_file),
        starttls,
        timeout,
    )
    return Client(core)
