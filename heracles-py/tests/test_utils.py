"""The utilities: Dn, Filter, password hashing."""

from __future__ import annotations

import pickle

import pytest

import heracles
from heracles import Dn, Filter


def test_dn_parts_and_escaping() -> None:
    dn = Dn("uid=jdoe,ou=people,dc=example,dc=com")
    assert dn.rdn == "uid=jdoe"
    assert dn.rdn_attr == "uid"
    assert dn.rdn_value == "jdoe"
    assert dn.parent == Dn("ou=people,dc=example,dc=com")
    assert str(dn) == "uid=jdoe,ou=people,dc=example,dc=com"
    assert len(dn) == 4
    assert dn.rdns == ["uid=jdoe", "ou=people", "dc=example", "dc=com"]
    child = Dn("ou=people,dc=example,dc=com").child("uid", "j,doe+x")
    assert str(child) == "uid=j\\,doe\\+x,ou=people,dc=example,dc=com"
    assert child.rdn_value == "j,doe+x"
    assert child.is_descendant_of("dc=example,dc=com")
    assert not Dn("dc=example,dc=com").is_descendant_of(child)
    assert Dn("dc=com").parent is not None
    assert repr(dn) == 'Dn("uid=jdoe,ou=people,dc=example,dc=com")'


def test_dn_equality_and_hash_are_normalised() -> None:
    a = Dn("UID=JDoe, OU=People,dc=Example,dc=COM")
    b = Dn("uid=jdoe,ou=people,dc=example,dc=com")
    assert a == b
    assert not (a != b)
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert a != Dn("uid=other,ou=people,dc=example,dc=com")
    # A DN equals only DNs: str(dn) compares as text.
    assert a != "uid=jdoe,ou=people,dc=example,dc=com"
    assert Dn(a) == a
    assert pickle.loads(pickle.dumps(a)) == a


@pytest.mark.parametrize("bad", ["uid=", "not a dn", "=x,dc=com", "uid=a,,dc=com"])
def test_dn_errors(bad: str) -> None:
    with pytest.raises(heracles.ValidationError) as info:
        Dn(bad)
    assert info.value.code == "INVALID_DN"


def test_filter_clause_parse_and_ldap() -> None:
    f = Filter.parse("cn:contains:john")
    assert (f.attribute, f.op, f.value) == ("cn", "contains", "john")
    assert f.is_clause
    assert f.to_ldap() == "(cn=*john*)"
    assert str(f) == "cn:contains:john"
    assert f == Filter.contains("cn", "john")
    assert hash(f) == hash(Filter.contains("cn", "john"))
    assert Filter.parse("mail:present").to_ldap() == "(mail=*)"
    assert Filter.parse("mail:present").value is None
    assert Filter.starts("uid", "jo").to_ldap() == "(uid=jo*)"
    assert Filter.ends("mail", "@example.com").to_ldap() == "(mail=*@example.com)"
    # The value is everything after the second colon, and is data.
    assert Filter.parse("description:eq:a:b").value == "a:b"
    assert Filter.eq("uid", "*)(uid=*").to_ldap() == "(uid=\\2a\\29\\28uid=\\2a)"


def test_filter_rfc4515() -> None:
    f = Filter.parse("(&(objectClass=person)(|(uid=jo*)(cn=Jo)))")
    assert not f.is_clause
    assert f.attribute is None
    assert f.to_ldap() == "(&(objectClass=person)(|(uid=jo*)(cn=Jo)))"


@pytest.mark.parametrize(
    "bad", ["cn", "cn:", "cn:like:x", "cn:eq:", "mail:present:x", ":eq:x", "(cn=a\\zz)"]
)
def test_filter_errors(bad: str) -> None:
    with pytest.raises(heracles.InvalidFilterError) as info:
        Filter.parse(bad)
    assert info.value.code == "INVALID_FILTER"
    assert isinstance(info.value, heracles.ValidationError)
    assert isinstance(info.value, ValueError)


def test_filter_substring_needs_a_substring_rule() -> None:
    with pytest.raises(heracles.InvalidFilterError):
        Filter.parse("loginShell:contains:bash").to_ldap()
    with pytest.raises(heracles.InvalidFilterError):
        Filter.eq("bad attr", "x")


@pytest.mark.parametrize("scheme", ["argon2", "ssha512", "ssha256", "ssha", "crypt", "{SSHA}"])
def test_hash_and_verify(scheme: str) -> None:
    hashed = heracles.hash_password("Correct-Horse-9", scheme)
    assert hashed.startswith("{")
    assert heracles.verify_password("Correct-Horse-9", hashed)
    assert not heracles.verify_password("wrong", hashed)


def test_hash_default_is_argon2_and_unknown_scheme_fails() -> None:
    assert heracles.hash_password("Correct-Horse-9").startswith("{ARGON2}")
    with pytest.raises(heracles.ValidationError) as info:
        heracles.hash_password("x", "rot13")
    assert "rot13" in info.value.message
    assert heracles.verify_password("plain", "plain")


def test_version() -> None:
    assert heracles.__version__.count(".") == 2
