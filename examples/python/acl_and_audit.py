#!/usr/bin/env python3
"""Access control and the audit trail over the REST API, with Python's standard library.

A helpdesk group gets the built-in `user-manager` policy on one department; its member
manages users there and gets 403 ACL_DENIED (with the permission and target) elsewhere;
`/acl/check` explains decisions; `/acl/permissions/{uid}` lists grants; `/audit` shows
what happened.

    python3 examples/python/acl_and_audit.py http://127.0.0.1:8000 Admin-Passw0rd-1
"""

import json
import sys
import urllib.error
import urllib.parse
import urllib.request

BASE = sys.argv[1].rstrip("/") + "/api/v1" if len(sys.argv) > 1 else "http://127.0.0.1:8000/api/v1"
ADMIN_PASSWORD = sys.argv[2] if len(sys.argv) > 2 else "Admin-Passw0rd-1"
HELPER_PASSWORD = "Help-Desk-Passw0rd-1"


def call(token, method, path, body=None, query=None, expect=None, headers=None):
    url = BASE + path
    if query:
        url += "?" + urllib.parse.urlencode(query, doseq=True)
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    answer = json.loads(raw) if raw else None
    if expect is not None and status != expect:
        raise SystemExit(f"{method} {path}: expected {expect}, got {status}: {answer}")
    return status, answer


def login(username, password):
    _, answer = call(None, "POST", "/auth/login", {"username": username, "password": password}, expect=200)
    return answer["access_token"]


def main():
    admin = login("admin", ADMIN_PASSWORD)
    _, dept = call(admin, "POST", "/departments", {"ou": "Support"}, expect=201)
    call(admin, "POST", "/users", {"uid": "helper", "cn": "Help Desk", "sn": "Desk",
                                   "userPassword": HELPER_PASSWORD}, expect=201)
    call(admin, "POST", "/users", {"uid": "outsider", "cn": "Out Sider", "sn": "Sider"}, expect=201)
    call(admin, "POST", "/groups", {"cn": "helpdesk", "members": ["helper"]}, expect=201)
    _, grant = call(admin, "POST", "/acl/assignments", {
        "policy": "user-manager", "subject_type": "group", "subject": "helpdesk",
        "scope_type": "subtree", "scope": dept["dn"]}, expect=201)
    print("assignment", grant["id"], "user-manager for helpdesk over", dept["dn"])

    helper = login("helper", HELPER_PASSWORD)
    call(helper, "POST", "/users", {"uid": "newbie", "cn": "New Bie", "sn": "Bie",
                                    "department": dept["dn"]}, expect=201)
    print("helper created newbie in Support")
    status, error = call(helper, "PUT", "/users/outsider", {"title": "Nope"},
                         headers={"X-Request-Id": "acl-example-denied"})
    print("helper changing outsider ->", status, error["error"]["code"], error["error"]["details"])
    if status != 403:
        raise SystemExit("outsider is outside the helpdesk's scope")

    _, decision = call(helper, "POST", "/acl/check", {
        "action": "delete", "object_type": "user", "object_dn": "uid=newbie," + dept["dn"]}, expect=200)
    print("may helper delete newbie?", decision["allowed"], "-", decision["reason"])
    _, mine = call(helper, "GET", "/acl/permissions/helper", expect=200)
    print("helper's permissions:", mine["permissions"])

    _, trail = call(admin, "GET", "/audit", query={"filter": "request_id:eq:acl-example-denied"}, expect=200)
    for e in trail["data"]:
        print("audit:", e["actor"], e["action"], e["target"], "->", e["result"])
    if not trail["data"] or trail["data"][0]["result"] != "ACL_DENIED":
        raise SystemExit("the denied attempt must be in the audit trail")

    call(admin, "DELETE", "/acl/assignments/" + grant["id"], expect=204)
    call(admin, "DELETE", "/groups/helpdesk", expect=204)
    for uid in ["helper", "outsider"]:
        call(admin, "DELETE", "/users/" + uid, expect=204)
    call(admin, "DELETE", "/departments/Support", query={"recursive": "true"}, expect=204)
    print("cleaned up")


if __name__ == "__main__":
    main()
