"""The objects Heracles answers: typed, read-only views of the REST API's JSON answers.

A model holds the answer's fields under the same names (``user.uid``, ``user.mail``,
``group.memberCount``, ``system.ipAddress``). A field the model declares but the answer
lacks (an unset ``mail``, or one left out by ``attributes=``) reads as ``None``; other
attributes of the answer (any LDAP attribute of a user: ``user.telephoneNumber``) read as
they are; anything else is an ``AttributeError``. ``model["field"]`` and ``model.get()``
work too, ``to_dict()`` gives a copy of the answer, ``==`` compares type and fields.

Single objects read or written carry their version in ``etag``: pass it as ``if_match=``
to an update or delete to write only if nobody changed the object meanwhile.
"""

from __future__ import annotations

from typing import Any, ClassVar, Dict, FrozenSet, Iterator, List, Mapping, Optional, Tuple

__all__ = [
    "Model",
    "User",
    "Group",
    "Department",
    "DepartmentNode",
    "Template",
    "Setting",
    "Policy",
    "Assignment",
    "Grant",
    "Permissions",
    "Decision",
    "AuditEvent",
    "AttributeChange",
    "System",
    "Principal",
    "SshKey",
    "Zone",
    "Record",
    "RecordSet",
    "DhcpService",
    "SharedNetwork",
    "Subnet",
    "Pool",
    "DhcpHost",
    "SudoRule",
]

_MISSING = object()


def _copy(value: Any) -> Any:
    """A deep copy of a JSON value (dicts, lists, scalars)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


class Model:
    """Base of every model (see the module docs)."""

    __slots__ = ("_data", "_etag")
    # Filled per class from the annotations, see __init_subclass__.
    _declared: ClassVar[FrozenSet[str]] = frozenset()
    # Fields shown by repr, in order.
    _repr_fields: ClassVar[Tuple[str, ...]] = ()

    _data: Dict[str, Any]
    _etag: Optional[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names: set[str] = set()
        for klass in cls.__mro__:
            names.update(
                k for k in getattr(klass, "__annotations__", {}) if not k.startswith("_")
            )
        cls._declared = frozenset(names)

    def __init__(self, data: Mapping[str, Any], etag: Optional[str] = None) -> None:
        object.__setattr__(self, "_data", dict(data))
        object.__setattr__(self, "_etag", etag)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: the answer's fields.
        if name.startswith("__"):
            raise AttributeError(name)
        data = object.__getattribute__(self, "_data")
        value = data.get(name, _MISSING)
        if value is not _MISSING:
            return value
        if name in type(self)._declared:
            return None
        raise AttributeError(f"{type(self).__name__} has no field {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only: use the area's update()")

    def __getitem__(self, name: str) -> Any:
        return self._data[name]

    def __contains__(self, name: object) -> bool:
        return name in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def get(self, name: str, default: Any = None) -> Any:
        """The field ``name``, or ``default`` when the answer lacks it."""
        return self._data.get(name, default)

    def keys(self) -> List[str]:
        """The fields of the answer."""
        return list(self._data)

    def to_dict(self) -> Dict[str, Any]:
        """A copy of the answer, as the REST API would give it."""
        result: Dict[str, Any] = _copy(self._data)
        return result

    @property
    def etag(self) -> Optional[str]:
        """The version of a single object read or written (``None`` for list items)."""
        return self._etag

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Model)
        return self._data == other._data

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = None  # type: ignore[assignment]  # mutable contents: not hashable

    def __repr__(self) -> str:
        shown = [f for f in self._repr_fields if f in self._data]
        if not shown:
            shown = list(self._data)[:4]
        parts = ", ".join(f"{f}={self._data[f]!r}" for f in shown)
        return f"{type(self).__name__}({parts})"

    def __dir__(self) -> List[str]:
        return sorted(set(super().__dir__()) | set(self._data) | self._declared)

    def __getstate__(self) -> Tuple[Dict[str, Any], Optional[str]]:
        return (self._data, self._etag)

    def __setstate__(self, state: Tuple[Dict[str, Any], Optional[str]]) -> None:
        object.__setattr__(self, "_data", state[0])
        object.__setattr__(self, "_etag", state[1])


class User(Model):
    """A user (``inetOrgPerson``, optionally POSIX). Any other LDAP attribute of the user is
    an attribute too (``user.telephoneNumber``); ``userPassword`` never is."""

    __slots__ = ()
    _repr_fields = ("uid", "cn", "mail", "locked")

    dn: str
    uid: str
    cn: str
    sn: str
    objectClass: List[str]
    groups: List[str]
    locked: bool
    givenName: Optional[str]
    displayName: Optional[str]
    mail: Optional[str]
    telephoneNumber: Optional[str]
    mobile: Optional[str]
    title: Optional[str]
    description: Optional[str]
    employeeNumber: Optional[str]
    uidNumber: Optional[int]
    gidNumber: Optional[int]
    homeDirectory: Optional[str]
    loginShell: Optional[str]
    gecos: Optional[str]
    shadowExpire: Optional[int]
    shadowLastChange: Optional[int]
    shadowMax: Optional[int]


class Group(Model):
    """A group: ``groupType`` ``ldap``, ``posix`` or ``mixed``."""

    __slots__ = ()
    _repr_fields = ("cn", "groupType", "memberCount")

    dn: str
    cn: str
    description: Optional[str]
    groupType: str
    gidNumber: Optional[int]
    members: List[str]
    memberCount: int
    objectClass: List[str]


class Department(Model):
    """A department (an ``organizationalUnit`` below ``ou=departments``)."""

    __slots__ = ()
    _repr_fields = ("ou", "parent", "children_count")

    dn: str
    ou: str
    description: Optional[str]
    parent: Optional[str]
    children_count: int


class DepartmentNode:
    """A department with its sub-departments (``departments.tree()``)."""

    __slots__ = ("department", "children")

    department: Department
    children: List["DepartmentNode"]

    def __init__(self, department: Department, children: List["DepartmentNode"]) -> None:
        self.department = department
        self.children = children

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "DepartmentNode":
        """Builds a node (and its subtree) from the API's JSON."""
        return cls(
            Department(data["department"]),
            [cls.from_dict(c) for c in data.get("children", [])],
        )

    def walk(self) -> Iterator[Tuple[int, Department]]:
        """Every department of this subtree with its depth (this node: 0), depth first."""
        stack: List[Tuple[int, DepartmentNode]] = [(0, self)]
        while stack:
            depth, node = stack.pop()
            yield depth, node.department
            stack.extend((depth + 1, c) for c in reversed(node.children))

    def to_dict(self) -> Dict[str, Any]:
        """The API's JSON of this node."""
        return {
            "department": self.department.to_dict(),
            "children": [c.to_dict() for c in self.children],
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DepartmentNode):
            return NotImplemented
        return self.department == other.department and self.children == other.children

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"DepartmentNode({self.department.ou!r}, children={len(self.children)})"


class Template(Model):
    """A user template: defaults applied by ``users.create(..., template=name)``."""

    __slots__ = ()
    _repr_fields = ("name", "description")

    dn: str
    name: str
    description: Optional[str]
    defaults: Dict[str, Any]


class Setting(Model):
    """A setting: its ``value`` in force and whether that is the ``default``."""

    __slots__ = ()
    _repr_fields = ("key", "value", "default")

    key: str
    value: Any
    default: bool
    description: str


class Policy(Model):
    """An ACL policy: permissions (``object:action``) and attribute rules."""

    __slots__ = ()
    _repr_fields = ("name", "permissions", "builtin")

    name: str
    description: Optional[str]
    permissions: List[str]
    attributes: Dict[str, Dict[str, List[str]]]
    builtin: bool


class Assignment(Model):
    """An ACL assignment: a policy for a subject over a scope."""

    __slots__ = ()
    _repr_fields = ("id", "policy", "subject", "scope_type", "scope", "deny")

    id: str
    policy: str
    subject_type: str
    subject: str
    scope_type: str
    scope: Optional[str]
    deny: bool
    builtin: bool


class Grant(Model):
    """One grant (or denial) behind a user's permissions."""

    __slots__ = ()
    _repr_fields = ("permission", "policy", "scope", "deny")

    permission: str
    policy: str
    assignment: str
    scope: str
    deny: bool


class Permissions(Model):
    """What a user may do (``acl.permissions(uid)``); ``grants`` as :class:`Grant`."""

    __slots__ = ()
    _repr_fields = ("uid", "permissions")

    uid: str
    dn: str
    permissions: List[str]

    @property
    def grants(self) -> List[Grant]:
        """Each grant and denial, with its policy, assignment and scope."""
        return [Grant(g) for g in self._data.get("grants", [])]


class Decision(Model):
    """The answer of ``acl.check``: ``allowed`` and the ``reason``. Truthy when allowed."""

    __slots__ = ()
    _repr_fields = ("allowed", "reason")

    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return bool(self._data.get("allowed"))


class AttributeChange(Model):
    """One changed attribute of an audit event (secrets redacted)."""

    __slots__ = ()
    _repr_fields = ("attribute", "old", "new")

    attribute: str
    old: List[str]
    new: List[str]
    partial: Optional[bool]


class AuditEvent(Model):
    """One audit event; ``changes`` as :class:`AttributeChange`."""

    __slots__ = ()
    _repr_fields = ("timestamp", "actor", "action", "object_type", "target", "result")

    id: str
    timestamp: str
    actor: str
    action: str
    object_type: str
    target: str
    result: str
    request_id: str
    client_address: Optional[str]

    @property
    def changes(self) -> List[AttributeChange]:
        """The changed attributes with old and new values."""
        return [AttributeChange(c) for c in self._data.get("changes", [])]


class System(Model):
    """A system: server, workstation, terminal, printer, component, phone or mobile."""

    __slots__ = ()
    _repr_fields = ("cn", "type", "ipAddress", "macAddress")

    dn: str
    cn: str
    type: str
    ipAddress: List[str]
    macAddress: List[str]
    description: Optional[str]


class Principal(Model):
    """Who a client acts as: ``dn``, ``uid`` (``None`` unless a user), ``admin``."""

    __slots__ = ()
    _repr_fields = ("dn", "uid", "admin")

    dn: str
    uid: Optional[str]
    admin: bool


class SshKey(Model):
    """An SSH public key of a user: ``id`` (the fingerprint, URL-safe), ``fingerprint``
    (``SHA256:...``), ``type``, ``comment``, ``bits``, ``public_key``."""

    __slots__ = ()
    _repr_fields = ("type", "fingerprint", "comment")

    id: str
    fingerprint: Optional[str]
    type: str
    comment: Optional[str]
    bits: Optional[int]
    public_key: str
    options: Optional[str]


class Zone(Model):
    """A DNS zone (its SOA and record count)."""

    __slots__ = ()
    _repr_fields = ("zoneName", "zoneType", "serial", "recordCount")

    dn: str
    zoneName: str
    zoneType: str
    primaryNs: str
    adminEmail: str
    serial: int
    refresh: int
    retry: int
    expire: int
    minimum: int
    ttl: int
    recordCount: int


class Record(Model):
    """One DNS record: ``name`` (relative to the zone), ``type``, ``value``, ``ttl``."""

    __slots__ = ()
    _repr_fields = ("name", "type", "value", "ttl")

    dn: str
    name: str
    type: str
    value: str
    ttl: int


class RecordSet(Model):
    """Every record of one name and type: ``values`` with one ``ttl``."""

    __slots__ = ()
    _repr_fields = ("zoneName", "name", "type", "values")

    dn: str
    zoneName: str
    name: str
    type: str
    ttl: int
    values: List[str]


class Pool(Model):
    """An address pool of a DHCP subnet: ``range`` (``first last``) and its ``id``."""

    __slots__ = ()
    _repr_fields = ("id", "range", "size")

    dn: str
    id: str
    range: str
    size: int
    description: Optional[str]
    permitList: List[str]
    statements: List[str]
    options: List[str]


class Subnet(Model):
    """A DHCP subnet; ``pools`` as :class:`Pool`."""

    __slots__ = ()
    _repr_fields = ("network", "prefix", "sharedNetwork")

    dn: str
    network: str
    prefix: int
    netmask: str
    sharedNetwork: Optional[str]
    description: Optional[str]
    statements: List[str]
    options: List[str]

    @property
    def pools(self) -> List[Pool]:
        """Its pools."""
        return [Pool(x) for x in self._data.get("pools", [])]


class SharedNetwork(Model):
    """A DHCP shared network."""

    __slots__ = ()
    _repr_fields = ("cn", "description")

    dn: str
    cn: str
    description: Optional[str]
    statements: List[str]
    options: List[str]


class DhcpHost(Model):
    """A DHCP host: ``macAddress``, ``fixedAddress``."""

    __slots__ = ()
    _repr_fields = ("cn", "macAddress", "fixedAddress")

    dn: str
    cn: str
    macAddress: Optional[str]
    fixedAddress: Optional[str]
    subnet: Optional[str]
    description: Optional[str]
    statements: List[str]
    options: List[str]


class DhcpService(Model):
    """A DHCP service. Read singly (``dhcp.get_service``) it holds its ``sharedNetworks``,
    ``subnets`` and ``hosts``; in lists, only its own fields."""

    __slots__ = ()
    _repr_fields = ("cn", "description", "server")

    dn: str
    cn: str
    description: Optional[str]
    statements: List[str]
    options: List[str]
    server: Optional[str]
    primaryDN: Optional[str]

    @property
    def sharedNetworks(self) -> List[SharedNetwork]:
        """Its shared networks (single reads only)."""
        return [SharedNetwork(x) for x in self._data.get("sharedNetworks", [])]

    @property
    def subnets(self) -> List[Subnet]:
        """Its subnets, with their pools (single reads only)."""
        return [Subnet(x) for x in self._data.get("subnets", [])]

    @property
    def hosts(self) -> List[DhcpHost]:
        """Its hosts (single reads only)."""
        return [DhcpHost(x) for x in self._data.get("hosts", [])]


class SudoRule(Model):
    """A sudo rule (``sudoRole``)."""

    __slots__ = ()
    _repr_fields = ("cn", "sudoUser", "sudoHost", "sudoCommand")

    dn: str
    cn: str
    description: Optional[str]
    sudoUser: List[str]
    sudoHost: List[str]
    sudoCommand: List[str]
    sudoRunAsUser: List[str]
    sudoRunAsGroup: List[str]
    sudoOption: List[str]
    sudoOrder: Optional[int]
    sudoNotBefore: Optional[str]
    sudoNotAfter: Optional[str]
