#!/usr/bin/env python3
"""Walk through the Heracles REST API with the standard library only.

    python3 examples/python/rest_walkthrough.py http://127.0.0.1:8000 ADMIN_PASSWORD

Logs in as the administrator, creates a department, a user in it (with an allocated
uidNumber), a mixed group, lists users with a filter, shows an error envelope, locks and
unlocks the user, cleans up and logs out. `scripts/test.sh` runs it against a fresh server.
"""
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

BASE = sys.argv[1].rstrip("/") + "/api/v1" if len(sys.argv) > 1 else "http://127.0.0.1:8000/api/v1"
ADMIN_PASSWORD = sys.argv[2] if len(sys.argv) > 2 else "Admin-Passw0rd-1"
TOKEN = None
LAST_HEADERS = {}


def call(method, path, body=None, query=None, expect=None, headers=None):
    url = BASE + path
    if query:
        url += "?" + urllib.parse.urlencode(query, doseq=True)
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if TOKEN:
        req.add_header("Authorization", "Bearer " + TOKEN)
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    global LAST_HEADERS
    try:
        with urllib.request.urlopen(req) as resp:
            status, raw, LAST_HEADERS = resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as err:
        status, raw, LAST_HEADERS = err.code, err.read(), err.headers
    answer = json.loads(raw) if raw else None
    if expect is not None and status != expect:
        raise SystemExit(f"{method} {path}: expected {expect}, got {status}: {answer}")
    return status, answer


def main():
    global TOKEN
    _, login = call("POST", "/auth/login", {"username": "admin", "password": ADMIN_PASSWORD}, expect=200)
    TOKEN = login["access_token"]
    print("logged in as", login["user"]["dn"])

    call("POST", "/departments", {"ou": "Research", "description": "R&D"}, expect=201)
    _, user = call("POST", "/users", {
        "uid": "walker", "cn": "Johnnie Walker", "sn": "Walker", "mail": "walker@example.com",
        "userPassword": "Keep-Walking-1820", "department": "Research",
        "posix": {"uidNumber": None},
    }, expect=201)
    print("created", user["dn"], "uidNumber", user["uidNumber"])

    _, group = call("POST", "/groups", {"cn": "walkers", "groupType": "mixed", "members": ["walker"]}, expect=201)
    print("group", group["cn"], group["groupType"], "gidNumber", group["gidNumber"], "members", group["members"])

    _, page = call("GET", "/users", query={"filter": ["cn:contains:walker"], "attributes": "uid,mail"}, expect=200)
    print("filtered list:", page["data"], page["pagination"])

    status, error = call("GET", "/users", query={"filter": "password:eq:x"})
    print("bad filter ->", status, error["error"]["code"])

    # Optimistic concurrency: write only if the user is still as we read it.
    call("GET", "/users/walker", expect=200)
    etag = LAST_HEADERS.get("ETag")  # header names are case-insensitive
    call("PUT", "/users/walker", {"telephoneNumber": "+44 20 7946 0000"}, headers={"If-Match": etag}, expect=200)
    status, error = call("PUT", "/users/walker", {"title": "Distiller"}, headers={"If-Match": etag})
    print("PUT with a stale ETag ->", status, error["error"]["code"])
    if status != 412:
        raise SystemExit("a stale If-Match must be refused")

    call("POST", "/users/walker/lock", expect=200)
    status, _ = call("POST", "/auth/login", {"username": "walker", "password": "Keep-Walking-1820"})
    print("login while locked ->", status)
    call("POST", "/users/walker/unlock", expect=200)

    call("DELETE", "/users/walker", expect=204)
    _, group = call("GET", "/groups/walkers", expect=200)
    print("after deleting walker, walkers has", group["memberCount"], "members")
    call("DELETE", "/groups/walkers", expect=204)
    call("DELETE", "/departments/Research", expect=204)
    call("POST", "/auth/logout", expect=204)
    status, _ = call("GET", "/auth/me")
    print("token after logout ->", status)


if __name__ == "__main__":
    main()
