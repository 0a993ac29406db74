"""Heracles from Python: manage an LDAP directory — users, groups, departments, templates,
settings, access control, audit, systems, DNS, DHCP, sudo rules — with the same rules, ACL checks and audit trail
as the Heracles REST server, without running it.

    import heracles

    with heracles.open("./heracles-data") as client:          # embedded directory
        client.users.create(uid="jdoe", cn="John Doe", sn="Doe", mail="jdoe@example.com")
        for user in client.users.iter(filter="mail:present"):
            print(user.uid, user.mail)

``heracles.connect(url, bind_dn, password, base_dn)`` works on an LDAP server instead.
Errors are :class:`HeraclesError` subclasses carrying the core's ``code`` and ``details``.
The package is typed (``py.typed``; stubs of the compiled part in ``_heracles.pyi``).
"""

from __future__ import annotations

from ._client import (
    AttributesArg,
    BootstrapReport,
    Client,
    FilterArg,
    connect,
    open,
)
from ._errors import (
    AclDeniedError,
    AlreadyExistsError,
    BusinessRuleError,
    DirectoryUnavailableError,
    HeraclesError,
    InvalidCredentialsError,
    InvalidFilterError,
    NotFoundError,
    PreconditionFailedError,
    ValidationError,
)
from ._heracles import Dn, Filter, hash_password, verify_password
from ._heracles import version as _core_version
from ._models import (
    Assignment,
    AttributeChange,
    AuditEvent,
    Decision,
    Department,
    DepartmentNode,
    DhcpHost,
    DhcpService,
    Grant,
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

__version__: str = _core_version()

__all__ = [
    "__version__",
    "open",
    "connect",
    "Client",
    "BootstrapReport",
    "Page",
    "FilterArg",
    "AttributesArg",
    "Dn",
    "Filter",
    "hash_password",
    "verify_password",
    "HeraclesError",
    "NotFoundError",
    "AlreadyExistsError",
    "ValidationError",
    "InvalidFilterError",
    "AclDeniedError",
    "DirectoryUnavailableError",
    "PreconditionFailedError",
    "BusinessRuleError",
    "InvalidCredentialsError",
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
