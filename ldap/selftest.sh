#!/bin/sh
# selftest.sh [DIR] - start a test slapd with test-slapd.sh and check that it is configured the
# way Heracles relies on (see README.md, "What the self-test checks"). Stops it at the end.
# Exit status 0 when every check passes. DIR defaults to a new directory under ${TMPDIR:-/tmp}.
# shellcheck disable=SC2015 # "[ test ] && ok || bad": ok never fails
set -eu
PATH=$PATH:/usr/sbin:/sbin
HERE=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd -P)
T=$HERE/test-slapd.sh
DIR=${1:-$(mktemp -d "${TMPDIR:-/tmp}/heracles-selftest.XXXXXX")}
LDAPCONF=/dev/null
export LDAPCONF
FAILS=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; FAILS=$((FAILS + 1)); }
check() { # description command...
    d=$1
    shift
    if "$@" >"$DIR.out" 2>&1; then ok "$d"; else bad "$d"; sed 's/^/       /' "$DIR.out"; fi
}

# 600 users, so that a plain search exceeds the size limit of 500 --------------------------
SEED=$DIR.seed.ldif
A2=$(slappasswd -o module-load=argon2 -h '{ARGON2}' -s 'Argon2-Passw0rd!')
S512=$(slappasswd -o module-load=pw-sha2 -h '{SSHA512}' -s 'Sha512-Passw0rd!')
SSHA=$(slappasswd -h '{SSHA}' -s 'Plain-Passw0rd!')
i=1
while [ $i -le 600 ]; do
    u=$(printf 'user%04d' $i)
    printf 'dn: uid=%s,ou=people,dc=example,dc=com\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\nuid: %s\ncn: User %s\nsn: N%s\nuidNumber: %s\ngidNumber: 10000\nhomeDirectory: /home/%s\n' \
        "$u" "$u" $i $i $((10000 + i)) "$u"
    case $i in 1) echo "userPassword: $A2" ;; 2) echo "userPassword: $S512" ;; 3 | 4) echo "userPassword: $SSHA" ;; esac
    echo
    i=$((i + 1))
done >"$SEED"

trap '"$T" stop "$DIR" >/dev/null 2>&1 || true' EXIT
start=$(date +%s%N 2>/dev/null || echo 0)
SUFFIX=dc=example,dc=com SEED_LDIF=$SEED "$T" start "$DIR" >/dev/null
end=$(date +%s%N 2>/dev/null || echo 0)
[ "$start" = 0 ] || echo "#    start with TLS and 600 seeded users took $(((end - start) / 1000000)) ms"
# shellcheck disable=SC1091
. "$DIR/env"
LDAPTLS_CACERT=$TLS_CA
export LDAPTLS_CACERT
P="ou=people,$BASE_DN"
H="ou=heracles,$BASE_DN"
svc() { ldapsearch -LLL -x -ZZ -H "$LDAP_URI" -D "$SERVICE_DN" -w "$SERVICE_PW" "$@"; }
svcmod() { ldapmodify -x -ZZ -H "$LDAP_URI" -D "$SERVICE_DN" -w "$SERVICE_PW" "$@"; }
count() { grep -c "^$1" || true; }

sees_tree() { svc -b "$BASE_DN" '(ou=sessions)' dn | grep -q '^dn: ou=sessions,ou=heracles'; }
check "service bind over StartTLS (-ZZ) sees the base tree" sees_tree
check "service bind over ldaps" ldapwhoami -x -H "$LDAPS_URI" -D "$SERVICE_DN" -w "$SERVICE_PW"
check "ldapi SASL EXTERNAL" ldapwhoami -Y EXTERNAL -H "$LDAPI_URI"
n=$(svc -b "$BASE_DN" '(|(ou=people)(ou=groups)(ou=departments)(ou=dns)(ou=dhcp)(ou=systems)(ou=sudoers)(ou=heracles)(ou=servers)(ou=workstations)(ou=terminals)(ou=printers)(ou=components)(ou=phones)(ou=mobiles)(ou=aclpolicies)(ou=aclassignments)(ou=templates)(ou=settings)(ou=audit)(ou=sessions))' dn | count dn)
[ "$n" = 21 ] && ok "base tree: 21 containers" || bad "base tree: $n of 21 containers"

rc=0
svc -b "$P" '(objectClass=inetOrgPerson)' dn >"$DIR.out" 2>&1 || rc=$?
[ $rc = 4 ] && ok "plain search of 600 entries as service: sizeLimitExceeded (4)" || bad "plain search rc=$rc, want 4"
n=$(svc -E pr=200/noprompt -b "$P" '(objectClass=inetOrgPerson)' dn | count dn)
[ "$n" = 600 ] && ok "paged search (pr=200) returns all 600" || bad "paged search returned $n"

first=$(svc -E '!sss=-uid:2.5.13.3' -b "$P" '(uid=user00*)' uid | grep '^uid:' | head -1)
[ "$first" = "uid: user0099" ] && ok "server-side sort (sss=-uid:2.5.13.3)" || bad "sort gave '$first'"
vlv=$(svc -E '!sss=uid:2.5.13.3' -E '!vlv=0/2/101/0' -b "$P" '(objectClass=inetOrgPerson)' uid </dev/null 2>&1 | grep -E '^uid:|vlvResultpos' | head -4 | tr '\n' ' ')
case $vlv in "uid: user0101 uid: user0102 uid: user0103 # vlvResultpos=101 count=600"*) ok "VLV window at offset 101" ;; *) bad "VLV: $vlv" ;; esac

check "bind with an {ARGON2} password" ldapwhoami -x -H "$LDAP_URI" -D "uid=user0001,$P" -w 'Argon2-Passw0rd!'
check "bind with an {SSHA512} password" ldapwhoami -x -H "$LDAP_URI" -D "uid=user0002,$P" -w 'Sha512-Passw0rd!'

# memberof + refint + mixed group
svcmod >/dev/null <<EOF
dn: cn=devs,ou=groups,$BASE_DN
changetype: add
objectClass: groupOfNames
objectClass: posixGroupAux
cn: devs
gidNumber: 20001
member: uid=user0001,$P
member: uid=user0600,$P
memberUid: user0001
memberUid: user0600
EOF
has_memberof() { svc -b "uid=user0001,$P" -s base memberOf | grep -qi '^memberOf: cn=devs'; }
check "memberOf maintained (memberof overlay)" has_memberof
ldapdelete -x -ZZ -H "$LDAP_URI" -D "$SERVICE_DN" -w "$SERVICE_PW" "uid=user0600,$P"
n=$(svc -b "cn=devs,ou=groups,$BASE_DN" -s base member | count member)
[ "$n" = 1 ] && ok "refint removed a deleted member" || bad "refint: $n members left"

# ppolicy lockout and the service's lock/unlock
i=1
while [ $i -le 5 ]; do ldapwhoami -x -H "$LDAP_URI" -D "uid=user0003,$P" -w wrong >/dev/null 2>&1 || true; i=$((i + 1)); done
n=$(svc -b "uid=user0003,$P" -s base pwdAccountLockedTime | count pwdAccountLockedTime)
[ "$n" = 1 ] && ok "ppolicy locks after 5 failures" || bad "no pwdAccountLockedTime after 5 failures"
svcmod -e relax >/dev/null <<EOF
dn: uid=user0003,$P
changetype: modify
replace: pwdAccountLockedTime
-
replace: pwdFailureTime
EOF
check "service unlocks (replace pwdAccountLockedTime + pwdFailureTime, relax)" \
    ldapwhoami -x -H "$LDAP_URI" -D "uid=user0003,$P" -w 'Plain-Passw0rd!'
svcmod >/dev/null <<EOF
dn: uid=user0004,$P
changetype: modify
replace: pwdAccountLockedTime
pwdAccountLockedTime: 000001010000Z
EOF
if ldapwhoami -x -H "$LDAP_URI" -D "uid=user0004,$P" -w 'Plain-Passw0rd!' >/dev/null 2>&1; then
    bad "service lock (pwdAccountLockedTime 000001010000Z) did not block the bind"
else ok "service locks (pwdAccountLockedTime: 000001010000Z)"; fi

# every project object class
check "add sudoRole, ldapPublicKey, dNSZone, DHCP and Heracles entries" svcmod -a -f /dev/stdin <<EOF
dn: cn=web-admins,ou=sudoers,$BASE_DN
objectClass: sudoRole
cn: web-admins
sudoUser: %webadmins
sudoHost: ALL
sudoCommand: /usr/bin/systemctl restart nginx
sudoOption: !authenticate
sudoOrder: 10

dn: uid=jdoe,$P
objectClass: inetOrgPerson
objectClass: ldapPublicKey
uid: jdoe
cn: John Doe
sn: Doe
sshPublicKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA jdoe@laptop

dn: zoneName=example.com,ou=dns,$BASE_DN
objectClass: dNSZone
zoneName: example.com
relativeDomainName: @
dNSTTL: 3600
dNSClass: IN
sOARecord: ns1.example.com. admin.example.com. 2026120401 3600 900 604800 3600
nSRecord: ns1.example.com.

dn: relativeDomainName=www,zoneName=example.com,ou=dns,$BASE_DN
objectClass: dNSZone
zoneName: example.com
relativeDomainName: www
aRecord: 192.168.1.10
aAAARecord: 2001:db8::10

dn: cn=dhcp1,ou=dhcp,$BASE_DN
objectClass: dhcpService
cn: dhcp1
dhcpPrimaryDN: cn=server1,ou=servers,ou=systems,$BASE_DN
dhcpStatements: default-lease-time 3600
dhcpComments: main

dn: cn=192.168.1.0,cn=dhcp1,ou=dhcp,$BASE_DN
objectClass: dhcpSubnet
cn: 192.168.1.0
dhcpNetMask: 24

dn: cn=pool1,cn=192.168.1.0,cn=dhcp1,ou=dhcp,$BASE_DN
objectClass: dhcpPool
cn: pool1
dhcpRange: 192.168.1.100 192.168.1.199

dn: cn=printer1,cn=192.168.1.0,cn=dhcp1,ou=dhcp,$BASE_DN
objectClass: dhcpHost
cn: printer1
dhcpHWAddress: ethernet 00:11:22:33:44:66
dhcpStatements: fixed-address 192.168.1.50

dn: heraclesPolicyName=viewer,ou=aclpolicies,$H
objectClass: heraclesAclPolicy
heraclesPolicyName: viewer
heraclesPermission: user:read
heraclesAttributeRule: user:deny:userPassword
heraclesBuiltin: TRUE

dn: heraclesAssignmentId=a1,ou=aclassignments,$H
objectClass: heraclesAclAssignment
heraclesAssignmentId: a1
heraclesPolicyName: viewer
heraclesSubjectDN: cn=devs,ou=groups,$BASE_DN
heraclesSubjectType: group
heraclesScopeType: tree
heraclesDeny: FALSE

dn: heraclesTemplateName=staff,ou=templates,$H
objectClass: heraclesTemplate
heraclesTemplateName: staff
heraclesDefaults: {"loginShell":"/bin/bash"}

dn: heraclesSettingKey=audit.retention_days,ou=settings,$H
objectClass: heraclesSetting
heraclesSettingKey: audit.retention_days
heraclesValue: 90

dn: heraclesEventId=e1,ou=audit,$H
objectClass: heraclesAuditEvent
heraclesEventId: e1
heraclesTimestamp: 20261204101500.123456Z
heraclesActor: uid=jdoe,$P
heraclesAction: login
heraclesResult: success

dn: heraclesSessionId=s1,ou=sessions,$H
objectClass: heraclesSession
heraclesSessionId: s1
heraclesSubjectDN: uid=jdoe,$P
heraclesIssuedAt: 20261204120000Z
heraclesExpiresAt: 20261211120000Z
heraclesRefreshTokenHash: h1
heraclesRevoked: FALSE
EOF
n=$(svc -b "ou=audit,$H" '(&(heraclesActor=*jdoe*)(heraclesTimestamp>=20261204000000Z))' dn | count dn)
[ "$n" = 1 ] && ok "audit filters: substring on actor, >= on timestamp" || bad "audit filter found $n"

# compare-and-swap on the uid counter
svcmod >/dev/null <<EOF
dn: cn=counters,$H
changetype: modify
add: heraclesNextUidNumber
heraclesNextUidNumber: 10000
EOF
cas() {
    svcmod <<EOF
dn: cn=counters,$H
changetype: modify
delete: heraclesNextUidNumber
heraclesNextUidNumber: $1
-
add: heraclesNextUidNumber
heraclesNextUidNumber: $2
EOF
}
check "counter compare-and-swap 10000 -> 10001" cas 10000 10001
rc=0
cas 10000 10001 >/dev/null 2>&1 || rc=$?
[ $rc = 16 ] && ok "stale compare-and-swap fails with noSuchAttribute (16)" || bad "stale CAS rc=$rc"

pid1=$SLAPD_PID
"$T" restart "$DIR" >/dev/null
# shellcheck disable=SC1091
. "$DIR/env"
n=$(svc -b "ou=aclpolicies,$H" '(heraclesPolicyName=viewer)' dn | count dn)
[ "$n" = 1 ] && [ "$pid1" != "$SLAPD_PID" ] && ok "restart keeps the data (new pid $SLAPD_PID, same $LDAP_URI)" \
    || bad "restart lost data"
"$T" stop "$DIR"
if kill -0 "$SLAPD_PID" 2>/dev/null; then bad "slapd still running after stop"; else ok "stop leaves no slapd"; fi
rc=0
"$T" status "$DIR" >/dev/null || rc=$?
[ $rc = 3 ] && ok "status reports stopped (3)" || bad "status rc=$rc"

rm -f "$SEED" "$DIR.out"
[ -n "${1:-}" ] || rm -rf "$DIR"
echo "# $FAILS failure(s)"
[ "$FAILS" = 0 ]
