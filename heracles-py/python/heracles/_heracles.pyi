"""Stubs of the compiled module ``heracles._heracles`` (the engine under ``heracles``).

Use the ``heracles`` package; this module's ``Core`` is its internal, generic interface.
"""

from os import PathLike
from typing import Any, Dict, List, Optional, Tuple, Union, final

__all__ = [
    "version",
    "hash_password",
    "verify_password",
    "Core",
    "Dn",
    "Filter",
    "OPERATIONS",
]

OPERATIONS: List[str]
"""The names ``Core.call`` accepts (``"users.get"``, ``"groups.add_members"``, ...)."""

def version() -> str:
    """The version of the Heracles core this module was built from."""

def hash_password(password: str, scheme: str = "argon2") -> str:
    """Hashes ``password`` in a scheme slapd verifies on bind: ``argon2``, ``ssha512``,
    ``ssha256``, ``ssha`` or ``crypt`` (``{ARGON2}`` spelling accepted). Releases the GIL."""

def verify_password(password: str, hashed: str) -> bool:
    """Whether ``password`` matches the stored value ``hashed``. Releases the GIL."""

@final
class Core:
    """One client's handle on a directory (embedded or LDAP) and the principal it acts as."""

    @staticmethod
    def open_embedded(
        data_dir: Union[str, "PathLike[str]"],
        base_dn: str,
        admin_password: Optional[str] = None,
    ) -> Tuple["Core", Dict[str, Any]]: ...
    @staticmethod
    def connect(
        url: str,
        bind_dn: str,
        password: str,
        base_dn: str,
        ca_file: Union[str, "PathLike[str]", None] = None,
        starttls: bool = False,
        timeout: float = 10.0,
    ) -> "Core": ...
    def bootstrap(self, admin_password: Optional[str] = None) -> Dict[str, Any]: ...
    def call(self, op: str, args: Optional[Dict[str, Any]] = None) -> Any:
        """Runs one operation with the GIL released. Answers ``None``, a value,
        ``(object, etag)`` for single objects, or ``{"data": [...], "pagination": {...}}``."""
    def as_user(self, user: str) -> "Core": ...
    def principal(self) -> Dict[str, Any]: ...
    @property
    def target(self) -> str: ...
    @property
    def base_dn(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def _bench_list_users(self, limit: int) -> Tuple[float, int]: ...

@final
class Dn:
    """A distinguished name (RFC 4514), compared and hashed by its normalised form."""

    def __new__(cls, text: Union[str, "Dn"]) -> "Dn": ...
    @property
    def rdn(self) -> Optional[str]:
        """The first RDN as text (``uid=jdoe``); ``None`` for the empty DN."""
    @property
    def rdn_attr(self) -> Optional[str]: ...
    @property
    def rdn_value(self) -> Optional[str]: ...
    @property
    def parent(self) -> Optional["Dn"]: ...
    @property
    def rdns(self) -> List[str]: ...
    @property
    def normalized(self) -> str: ...
    def child(self, attr: str, value: str) -> "Dn": ...
    def is_descendant_of(self, other: Union[str, "Dn"]) -> bool: ...
    def __len__(self) -> int: ...
    def __hash__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __ne__(self, other: object, /) -> bool: ...

@final
class Filter:
    """An ``attr:op:value`` clause (what lists take) or an RFC 4515 filter."""

    @staticmethod
    def parse(text: str) -> "Filter":
        """``cn:contains:john``, ``mail:present``; an RFC 4515 filter when it starts with ``(``."""
    @staticmethod
    def eq(attr: str, value: str) -> "Filter": ...
    @staticmethod
    def contains(attr: str, value: str) -> "Filter": ...
    @staticmethod
    def starts(attr: str, value: str) -> "Filter": ...
    @staticmethod
    def ends(attr: str, value: str) -> "Filter": ...
    @staticmethod
    def present(attr: str) -> "Filter": ...
    @property
    def attribute(self) -> Optional[str]: ...
    @property
    def op(self) -> Optional[str]: ...
    @property
    def value(self) -> Optional[str]: ...
    @property
    def is_clause(self) -> bool: ...
    def to_ldap(self) -> str:
        """The RFC 4515 form, values escaped."""
    def __hash__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __ne__(self, other: object, /) -> bool: ...
