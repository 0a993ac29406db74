#!/bin/sh
# The one test command of Heracles (see README.md): on a fresh Debian machine with Rust it
# installs what is missing (slapd; bind9-utils and ldap2zone for the DNS checks; ISC dhcpd
# with LDAP for the DHCP check; sudo's cvtsudoers and ssh-keygen for the sudo and SSH key
# checks; as root), starts a throwaway slapd, runs rustfmt, clippy, every test and every
# example, fuzzes the REST API with schemathesis, and stops slapd again — leaving nothing
# running.
#
#   scripts/test.sh
#
# Environment: KEEP_SLAPD=1 leaves the test slapd's folder behind for debugging (the server
# itself is always stopped).
set -eu
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }

command -v cargo >/dev/null 2>&1 || {
    echo "cargo not found: install Rust (https://rustup.rs) and run this again" >&2
    exit 1
}
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    say "installing rustfmt and clippy"
    rustup component add rustfmt clippy
fi

say "format (cargo fmt --check)"
cargo fmt --all -- --check

say "lints (cargo clippy -D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings

# A short folder: the ldapi socket path must stay under ~107 bytes.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hx-test.XXXXXX")
SLAPD_DIR="$TMP/slapd"
SERVER_PID=
cleanup() {
    [ -z "$SERVER_PID" ] || kill "$SERVER_PID" 2>/dev/null || true
    sh ldap/test-slapd.sh stop "$SLAPD_DIR" >/dev/null 2>&1 || true
    [ "${KEEP_SLAPD:-0}" = 1 ] || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "starting a throwaway slapd (installs Debian's slapd first when missing)"
sh ldap/test-slapd.sh start "$SLAPD_DIR"

say "DNS consumer tools: named-checkzone (bind9-utils) and ldap2zone (installs them first when missing)"
# The DNS tests load the zones Heracles writes with bind's own parser, and extract them
# with Debian's ldap2zone as a DNS server's LDAP reader would (heracles-core/tests/it/dns.rs).
if ! command -v named-checkzone >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends bind9-utils; } >&2 \
            || { echo "apt-get install bind9-utils failed" >&2; exit 1; }
    else
        echo "named-checkzone is missing; install Debian's bind9-utils first (as root):
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y bind9-utils" >&2
        exit 1
    fi
fi
LDAP2ZONE=$(command -v ldap2zone || true)
if [ -z "$LDAP2ZONE" ]; then
    # The ldap2zone package depends on the bind9 server, which the tests do not need (and
    # which should not be installed as a side effect): only its binary is unpacked here.
    mkdir -p "$TMP/ldap2zone"
    (
        cd "$TMP/ldap2zone"
        apt-get download ldap2zone >/dev/null 2>&1 \
            || { [ "$(id -u)" = 0 ] && apt-get update -qq && apt-get download ldap2zone >/dev/null 2>&1; }
    ) || { echo "cannot download Debian's ldap2zone package (apt-get download ldap2zone)" >&2; exit 1; }
    dpkg -x "$TMP"/ldap2zone/ldap2zone_*.deb "$TMP/ldap2zone/root"
    LDAP2ZONE="$TMP/ldap2zone/root/usr/sbin/ldap2zone"
fi
[ -x "$LDAP2ZONE" ] || { echo "ldap2zone not found at $LDAP2ZONE" >&2; exit 1; }
# Present now: the DNS consumer tests must run, not skip.
export HERACLES_LDAP2ZONE="$LDAP2ZONE" HERACLES_REQUIRE_DNS_TOOLS=1
# The DHCP consumer check runs ISC dhcpd (the LDAP-enabled build) against the test slapd.
if ! dpkg -s isc-dhcp-server-ldap >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing ISC dhcpd with LDAP support (isc-dhcp-server-ldap)"
        # Install only: no dhcpd service is started (a policy-rc.d that refuses, unless the
        # machine has its own).
        POLICY=/usr/sbin/policy-rc.d
        OWN_POLICY=
        if [ ! -e "$POLICY" ]; then
            printf '#!/bin/sh\nexit 101\n' >"$POLICY" && chmod 755 "$POLICY" && OWN_POLICY=1
        fi
        export DEBIAN_FRONTEND=noninteractive
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
            isc-dhcp-server-ldap; } >&2 || { [ -z "$OWN_POLICY" ] || rm -f "$POLICY"; exit 1; }
        [ -z "$OWN_POLICY" ] || rm -f "$POLICY"
    else
        echo "isc-dhcp-server-ldap is missing; install it first (as root):" >&2
        echo "    apt-get update && apt-get install -y isc-dhcp-server-ldap" >&2
        exit 1
    fi
fi
export HERACLES_REQUIRE_DHCPD=1
# The consumers' own tools read back what Heracles stores: sudo's cvtsudoers (sudoRole
# entries, Debian's sudo >= 1.9) and ssh-keygen (sshPublicKey lines, openssh-client).
say "consumer tools: cvtsudoers and ssh-keygen (installs Debian's sudo, openssh-client first when missing)"
pkgs=
command -v cvtsudoers >/dev/null 2>&1 || pkgs="sudo"
command -v ssh-keygen >/dev/null 2>&1 || pkgs="$pkgs openssh-client"
pkgs=${pkgs# }
if [ -n "$pkgs" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        # shellcheck disable=SC2086
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends $pkgs; } >&2 || {
            echo "apt-get install $pkgs failed" >&2
            exit 1
        }
    else
        echo "missing programs; install these Debian packages first (as root):" >&2
        echo "    apt-get update && apt-get install -y $pkgs" >&2
        exit 1
    fi
fi
# The tests that use them fail (rather than skip) when they are missing.
export HERACLES_REQUIRE_CONSUMER_TOOLS=1

say "slapd configuration self-test (ldap/selftest.sh)"
sh ldap/selftest.sh "$TMP/selftest"
export HERACLES_TEST_SLAPD_ENV="$SLAPD_DIR/env"
# The examples read the same settings users give the server.
. "$SLAPD_DIR/env"
export HERACLES_LDAP_URL="$LDAP_URI" HERACLES_BIND_DN="$SERVICE_DN" \
    HERACLES_BIND_PASSWORD="$SERVICE_PW" HERACLES_BASE_DN="$BASE_DN"

# The schema tests compare the embedded directory's schema with Debian's files and with what
# the running slapd publishes; both are present now, so the comparisons must run.
export HERACLES_REQUIRE_SLAPD_SCHEMA=1
ldapsearch -LLL -o ldif-wrap=no -x -H "$LDAP_URI" -b cn=Subschema -s base \
    attributeTypes objectClasses >"$TMP/subschema.ldif"
export HERACLES_SLAPD_SUBSCHEMA_LDIF="$TMP/subschema.ldif"

say "tests (cargo test --workspace)"
cargo test --workspace --locked

say "examples"
for ex in examples/examples/*.rs; do
    name=$(basename "$ex" .rs)
    echo "--- example $name"
    cargo run --quiet --locked -p heracles-examples --example "$name"
done

say "python package: pip install ./heracles-py into a fresh virtualenv, pytest, mypy --strict"
command -v python3 >/dev/null 2>&1 || {
    echo "python3 not found: install Python 3.9 or newer (Debian: apt-get install python3 python3-venv)" >&2
    exit 1
}
VENV="$TMP/venv"
python3 -m venv "$VENV" || {
    echo "python3 -m venv failed: install the venv module (Debian: apt-get install python3-venv)" >&2
    exit 1
}
# maturin (the build backend) comes from the package index; the extension builds in release
# mode into the same target folder as the rest.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check ./heracles-py pytest mypy
# On both backends: the embedded directory and the throwaway slapd (HERACLES_TEST_SLAPD_ENV).
(cd heracles-py && "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests)
"$VENV/bin/python" -m mypy --strict --no-incremental \
    heracles-py/python/heracles heracles-py/tests examples/python/sdk benches/python \
    scripts/api-fuzz.py
# The hand-written stubs of the compiled module match what it exports.
"$VENV/bin/python" -m mypy.stubtest heracles._heracles

say "python SDK examples on an embedded directory"
SDK_DATA="$TMP/sdk-data"
SDK=examples/python/sdk
"$VENV/bin/python" $SDK/bulk_create_users.py --data-dir "$SDK_DATA" --dry-run
"$VENV/bin/python" $SDK/bulk_create_users.py --data-dir "$SDK_DATA"
"$VENV/bin/python" $SDK/report_accounts.py --data-dir "$SDK_DATA" --today 2025-06-01
"$VENV/bin/python" $SDK/move_users.py --data-dir "$SDK_DATA" --from Sales --to Marketing --dry-run
"$VENV/bin/python" $SDK/move_users.py --data-dir "$SDK_DATA" --from Sales --to Marketing
for py in $SDK/*.py; do
    grep -q "SDK/$(basename "$py")" scripts/test.sh ||
        { echo "$py is not run by scripts/test.sh: add it above" >&2; exit 1; }
done

say "python examples against a fresh server"
cargo build --quiet --locked -p heracles-server
SERVER_LOG="$TMP/server.out"
# On its embedded directory: without the LDAP settings exported above for the examples.
env -u HERACLES_LDAP_URL -u HERACLES_BIND_DN -u HERACLES_BIND_PASSWORD -u HERACLES_BASE_DN \
    HERACLES_ADMIN_PASSWORD='Admin-Passw0rd-1' "${CARGO_TARGET_DIR:-target}/debug/heracles-server" \
    --listen 127.0.0.1:0 --data-dir "$TMP/server-data" >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
i=0
until grep -q 'listening on http://' "$SERVER_LOG" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 300 ] || ! kill -0 "$SERVER_PID" 2>/dev/null; then
        cat "$SERVER_LOG" >&2
        echo "the server did not start" >&2
        exit 1
    fi
    sleep 0.1
done
URL=$(sed -n 's,.*listening on \(http://[^ ]*\).*,\1,p' "$SERVER_LOG" | head -n 1)
for py in examples/python/*.py; do
    echo "--- $py"
    python3 "$py" "$URL" 'Admin-Passw0rd-1'
done

say "API fuzzing: schemathesis against the same server's /openapi.json, as a viewer and as the administrator"
# A pinned schemathesis in the test virtualenv; a fixed seed and a bounded budget (about
# 9,000 requests, 1-2 minutes here); any 5xx, undocumented status, content type or header,
# response off its schema, or accepted request the document forbids fails the step (see
# the README's "API fuzzing"). It writes to the server's throwaway directory.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check 'schemathesis==4.32.5'
HERACLES_ADMIN_PASSWORD='Admin-Passw0rd-1' "$VENV/bin/python" scripts/api-fuzz.py "$URL" \
    --report-dir "$TMP/api-fuzz"
kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=

say "load benchmark, smoke run (300 users, 0.3 s per measurement: checks that it works, not how fast)"
# benches/src/bin/load: its own slapd and servers, all stopped by it; fails on any failed request.
cargo run --quiet --locked -p heracles-benches --bin load -- --smoke >"$TMP/load-smoke.md"
grep -q '^#### Targets' "$TMP/load-smoke.md" || { cat "$TMP/load-smoke.md"; exit 1; }

say "all checks passed"
