"""Fixtures: every test that takes ``client`` runs on the embedded directory and on the
project's test slapd (``HERACLES_TEST_SLAPD_ENV``: the env file of ``ldap/test-slapd.sh``).

The slapd is shared: names are unique per run (``tag``), tests clean up after themselves
(``cleanup``), and shared settings are never changed there (setting tests use ``fresh``, a
private embedded directory).
"""

from __future__ import annotations

import itertools
import os
import random
import shlex
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional

import pytest

import heracles

ADMIN_PASSWORD = "Bootstrap-Passw0rd"
USER_PASSWORD = "User-Passw0rd-42"


def slapd_env() -> Optional[Dict[str, str]]:
    """The test slapd's settings, or ``None`` when no slapd is configured."""
    path = os.environ.get("HERACLES_TEST_SLAPD_ENV")
    if not path:
        return None
    env: Dict[str, str] = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, raw = line.partition("=")
        words = shlex.split(raw)
        env[key.strip()] = words[0] if words else ""
    return env


def connect_slapd(env: Dict[str, str]) -> heracles.Client:
    """A client on the test slapd as its service account (the directory's owner)."""
    return heracles.connect(env["LDAP_URI"], env["SERVICE_DN"], env["SERVICE_PW"], env["BASE_DN"])


_RUN = f"{os.getpid() % 100000}{random.choice('abcdefghjkmnpqrstuvwxyz')}"
_COUNTER = itertools.count()


@pytest.fixture
def tag() -> str:
    """A name unique to this test in this run (valid as a uid, cn or ou)."""
    return f"py{_RUN}x{next(_COUNTER)}"


@pytest.fixture(scope="session")
def embedded_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[heracles.Client]:
    client = heracles.open(tmp_path_factory.mktemp("embedded"), admin_password=ADMIN_PASSWORD)
    yield client
    client.close()


@pytest.fixture(scope="session")
def slapd_client() -> Iterator[heracles.Client]:
    env = slapd_env()
    if env is None:
        pytest.skip("HERACLES_TEST_SLAPD_ENV is not set: no test slapd")
    client = connect_slapd(env)
    # What every Heracles instance does at start; idempotent (the Rust suites do the same).
    client.bootstrap(ADMIN_PASSWORD)
    yield client
    client.close()


@pytest.fixture(params=["embedded", "slapd"])
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def client(backend: str, request: pytest.FixtureRequest) -> heracles.Client:
    """A client acting as the directory's owner, on each backend in turn."""
    c: heracles.Client = request.getfixturevalue(f"{backend}_client")
    return c


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[heracles.Client]:
    """A private embedded directory (for tests that change settings)."""
    with heracles.open(tmp_path / "data", admin_password=ADMIN_PASSWORD) as c:
        yield c


@pytest.fixture
def cleanup() -> Iterator[Callable[[Callable[[], object]], None]]:
    """Registers undo actions, run at the end of the test (last first); objects already
    gone are fine."""
    actions: List[Callable[[], object]] = []
    yield actions.append
    for action in reversed(actions):
        try:
            action()
        except heracles.NotFoundError:
            pass


@pytest.fixture
def make_user(
    client: heracles.Client, cleanup: Callable[[Callable[[], object]], None]
) -> Callable[..., heracles.User]:
    """Creates a user that is deleted after the test."""

    def make(uid: str, **attributes: object) -> heracles.User:
        attributes.setdefault("cn", f"Test {uid}")
        attributes.setdefault("sn", "Test")
        cn = str(attributes.pop("cn"))
        sn = str(attributes.pop("sn"))
        user = client.users.create(uid=uid, cn=cn, sn=sn, **attributes)
        cleanup(lambda: client.users.delete(uid))
        return user

    return make
