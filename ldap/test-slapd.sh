#!/bin/sh
# test-slapd.sh - run a throwaway OpenLDAP slapd configured the way Heracles expects.
#
#   test-slapd.sh start   DIR   wipe DIR, build cn=config + base tree, start slapd, print its PID
#   test-slapd.sh stop    DIR   stop the slapd of DIR (by its PID file) and wait for it to exit
#   test-slapd.sh restart DIR   stop and start the same instance again: same config, data, ports
#   test-slapd.sh status  DIR   exit 0 if the slapd of DIR runs and answers, 3 if it is stopped
#
# The instance is fully independent of the system one (/etc/ldap/slapd.d and /var/lib/ldap
# are never touched). After start, DIR/env holds the connection data as KEY='value' lines
# (valid sh, and trivially parseable): LDAP_URI LDAPI_URI LDAPS_URI TLS_CA BASE_DN ADMIN_DN
# ADMIN_PW SERVICE_DN SERVICE_PW PPOLICY_DN MEMBER_PLACEHOLDER_DN LDAP_PORT LDAPS_PORT
# SLAPD_PID SLAPD_DIR.
#
# Environment (all optional):
#   PORT, LDAPS_PORT     TCP ports (default: free ports picked at random in 20000-31999)
#   BIND_ADDR            address slapd listens on (default 127.0.0.1)
#   SUFFIX               base DN (default dc=example,dc=com)
#   ADMIN_PW             rootdn (cn=admin,SUFFIX) password (default admin-secret)
#   SERVICE_PW           service account password (default service-secret)
#   TLS=1|0              throwaway CA + server cert, StartTLS + ldaps (default 1)
#   SEED_LDIF=FILE       extra entries loaded offline (slapadd -q) after the base tree
#   DB_NOSYNC=1|0        olcDbNoSync (default 1: fast, survives slapd restarts, not OS crashes)
#   DB_MAXSIZE           olcDbMaxSize in bytes (default 1 GiB)
#   SIZE_LIMIT           size.soft/size.hard for every non-root bind (default 500)
#   PASSWORD_HASH        olcPasswordHash for password-modify and cleartext hashing ({ARGON2})
#   PPOLICY_MAX_FAILURE  failed binds before ppolicy locks an account (default 5)
#   PPOLICY_LOCKOUT_DURATION  seconds an automatic lockout lasts (default 900; 0 = forever)
#   SSSVLV_MAX           olcSssVlvMax, concurrent sort/VLV contexts (default 128)
#   SLAPD_THREADS        olcThreads (default 16)
#   SLAPD_LOGLEVEL       olcLogLevel (default none; slapd logs to syslog)
#   SLAPD_DEBUG=LEVEL    run slapd in the foreground with -d LEVEL (e.g. stats), log in
#                        DIR/slapd.log, still detached from this script
#   SCHEMA_DIR           Debian schema directory (default /etc/ldap/schema)
#   MODULE_DIR           slapd module directory (default /usr/lib/ldap)
#   HERACLES_SCHEMA_DIR  project schemas (default: schema/ beside this script)
#
# POSIX sh. Works as root or as an ordinary user. See README.md beside this script.
set -eu
PATH=$PATH:/usr/sbin:/sbin
PROG=${0##*/}
SCRIPT_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd -P)

die() { echo "$PROG: error: $*" >&2; exit 1; }
note() { echo "$PROG: $*" >&2; }
usage() {
    echo "usage: $PROG start|stop|restart|status DIR" >&2
    exit 2
}

[ $# -eq 2 ] || usage
CMD=$1
DIR=$2

# ---------------------------------------------------------------- settings
SUFFIX=${SUFFIX:-dc=example,dc=com}
ADMIN_PW=${ADMIN_PW:-admin-secret}
SERVICE_PW=${SERVICE_PW:-service-secret}
BIND_ADDR=${BIND_ADDR:-127.0.0.1}
TLS=${TLS:-1}
DB_NOSYNC=${DB_NOSYNC:-1}
DB_MAXSIZE=${DB_MAXSIZE:-1073741824}
SIZE_LIMIT=${SIZE_LIMIT:-500}
PASSWORD_HASH=${PASSWORD_HASH:-}
[ -n "$PASSWORD_HASH" ] || PASSWORD_HASH='{ARGON2}'
PPOLICY_MAX_FAILURE=${PPOLICY_MAX_FAILURE:-5}
PPOLICY_LOCKOUT_DURATION=${PPOLICY_LOCKOUT_DURATION:-900}
SSSVLV_MAX=${SSSVLV_MAX:-128}
SLAPD_THREADS=${SLAPD_THREADS:-16}
SLAPD_LOGLEVEL=${SLAPD_LOGLEVEL:-none}
SLAPD_DEBUG=${SLAPD_DEBUG:-}
SCHEMA_DIR=${SCHEMA_DIR:-/etc/ldap/schema}
MODULE_DIR=${MODULE_DIR:-/usr/lib/ldap}
HERACLES_SCHEMA_DIR=${HERACLES_SCHEMA_DIR:-$SCRIPT_DIR/schema}

DEBIAN_SCHEMAS="core cosine inetorgperson nis misc"
PROJECT_SCHEMAS="sudo openssh-lpk dnszone dhcp heracles"
MODULES="back_mdb argon2 pw-sha2 memberof refint ppolicy sssvlv syncprov"
MARKER=.heracles-test-slapd

# Clients run by this script ignore the user's ldap.conf / .ldaprc.
LDAPCONF=/dev/null
LDAPRC=.heracles-test-slapd-no-ldaprc
export LDAPCONF LDAPRC

# ---------------------------------------------------------------- helpers
is_uint() { case $1 in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac; }

# Absolute path of DIR without trailing slashes; symlinks resolved for the part that exists
# (DIR itself, or its parent), so start/stop/status agree however DIR is spelled.
abs_path() {
    case $1 in
    /*) p=$1 ;;
    *) p=$(pwd -P)/$1 ;;
    esac
    while :; do
        case $p in
        */) [ "$p" = / ] && break; p=${p%/} ;;
        *) break ;;
        esac
    done
    if [ -d "$p" ]; then
        p=$(CDPATH='' cd -- "$p" && pwd -P)
    elif [ "$p" != / ] && [ -d "${p%/*}/" ]; then
        parent=$(CDPATH='' cd -- "${p%/*}/" && pwd -P)
        p=${parent%/}/${p##*/}
    fi
    printf '%s\n' "$p"
}

check_dir() {
    case $DIR in
    *[[:space:]]* | *\'* | *\"* | *\\*) die "DIR must not contain spaces, quotes or backslashes: $DIR" ;;
    */../* | */.. | */./* | */.) die "DIR must not contain . or .. components: $DIR" ;;
    esac
    case $DIR in
    / | /tmp | /var/tmp | /root | /home | /home/* | /etc | /etc/* | /usr | /usr/* | /bin | /bin/* \
        | /sbin | /sbin/* | /lib | /lib/* | /lib64 | /lib64/* | /boot | /boot/* | /dev | /dev/* \
        | /proc | /proc/* | /sys | /sys/* | /run | /var | /var/lib | /var/lib/ldap | /var/lib/ldap/* \
        | /opt | /srv | /mnt | /media)
        # /home/*: only refuse a home directory itself, not a directory inside it
        case $DIR in
        /home/*/*) ;;
        *) die "refusing dangerous DIR=$DIR (use a dedicated scratch directory)" ;;
        esac
        ;;
    esac
    if [ -n "${HOME:-}" ] && [ "$DIR" = "$(abs_path "$HOME")" ]; then
        die "refusing DIR=\$HOME ($DIR)"
    fi
    if [ "$DIR" = "$SCRIPT_DIR" ] || [ "$DIR" = "$(dirname -- "$SCRIPT_DIR")" ]; then
        die "refusing DIR=$DIR (the project itself)"
    fi
    # The ldapi socket path must fit into sockaddr_un.sun_path (108 bytes with the NUL).
    n=$(printf %s "$DIR/ldapi" | wc -c)
    [ "$n" -le 107 ] || die "DIR is too long: the ldapi socket path $DIR/ldapi has $n bytes (max 107); use a shorter DIR"
}

check_value() { # name value: values go into LDIF and KEY='value' lines
    case $2 in
    *\'* | *"
"*) die "$1 must not contain a single quote or a newline" ;;
    '') die "$1 must not be empty" ;;
    esac
}

# Prints the PID of the slapd of DIR if it runs. Returns 1 if it does not run, 2 if the PID
# file names a live process that is not the slapd of DIR (recycled PID, or DIR spelled
# differently than at start): such a process is never signalled.
pid_of_dir() {
    [ -s "$DIR/slapd.pid" ] || return 1
    pid=$(cat "$DIR/slapd.pid" 2>/dev/null) || return 1
    is_uint "$pid" || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    if [ -r "/proc/$pid/cmdline" ]; then
        tr '\0' ' ' <"/proc/$pid/cmdline" | grep -F -- "-F $DIR/slapd.d " >/dev/null 2>&1 || return 2
    fi
    printf '%s\n' "$pid"
}

port_in_use() { # port: is something listening on it? (Linux /proc; elsewhere: assume free)
    hex=$(printf '%04X' "$1")
    for f in /proc/net/tcp /proc/net/tcp6; do
        [ -r "$f" ] || continue
        if awk -v p="$hex" 'NR > 1 { n = split($2, a, ":"); if (a[n] == p && $4 == "0A") f = 1 }
                            END { exit f ? 0 : 1 }' "$f"; then
            return 0
        fi
    done
    return 1
}

random_port() { # a port in 20000-31999 (below Linux's ephemeral range) nobody listens on
    i=0
    while [ $i -lt 50 ]; do
        r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
        p=$((20000 + r % 12000))
        if ! port_in_use "$p" && [ "$p" != "${1:-}" ]; then
            printf '%s\n' "$p"
            return 0
        fi
        i=$((i + 1))
    done
    die "could not find a free TCP port"
}

ldapi_uri() { printf 'ldapi://%s\n' "$(printf %s "$DIR/ldapi" | sed 's,/,%2F,g')"; }

sleep_short() { sleep 0.1 2>/dev/null || sleep 1; }

# ---------------------------------------------------------------- prerequisites
ensure_tools() {
    pkgs=
    for t in slapd slapadd slappasswd; do
        command -v "$t" >/dev/null 2>&1 || { pkgs="slapd"; break; }
    done
    for t in ldapsearch ldapwhoami ldapmodify; do
        command -v "$t" >/dev/null 2>&1 || { pkgs="$pkgs ldap-utils"; break; }
    done
    if [ "$TLS" = 1 ] && ! command -v openssl >/dev/null 2>&1; then
        pkgs="$pkgs openssl"
    fi
    pkgs=${pkgs# }
    [ -n "$pkgs" ] || return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        note "installing missing packages: $pkgs"
        export DEBIAN_FRONTEND=noninteractive
        # shellcheck disable=SC2086
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends $pkgs; } >&2 \
            || die "apt-get install $pkgs failed"
        command -v slapd >/dev/null 2>&1 || die "slapd still missing after installing $pkgs"
    else
        die "missing programs; install these Debian packages first (as root):
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $pkgs
(slapd gives slapd/slapadd/slappasswd and the modules, ldap-utils the ldap* clients)"
    fi
}

check_files() {
    for s in $DEBIAN_SCHEMAS; do
        [ -r "$SCHEMA_DIR/$s.ldif" ] || die "schema $SCHEMA_DIR/$s.ldif not found (set SCHEMA_DIR)"
    done
    for s in $PROJECT_SCHEMAS; do
        [ -r "$HERACLES_SCHEMA_DIR/$s.ldif" ] \
            || die "project schema $HERACLES_SCHEMA_DIR/$s.ldif not found (set HERACLES_SCHEMA_DIR)"
    done
    for d in "$SCHEMA_DIR" "$HERACLES_SCHEMA_DIR" "$MODULE_DIR"; do
        case $d in *[[:space:]]*) die "path must not contain spaces: $d" ;; esac
    done
    for m in $MODULES; do
        [ -e "$MODULE_DIR/$m.la" ] || [ -e "$MODULE_DIR/$m.so" ] \
            || die "slapd module $m not found in $MODULE_DIR (set MODULE_DIR; Debian's slapd package ships it)"
    done
}

# ---------------------------------------------------------------- config generation
make_tls() {
    T=$DIR/tls
    mkdir -p "$T"
    (
        umask 077
        cd "$T"
        openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -days 30 -subj "/CN=Heracles throwaway test CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" \
            -keyout ca.key -out ca.crt
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -subj "/CN=localhost" -keyout server.key -out server.csr
        san="IP:127.0.0.1,IP:::1,DNS:localhost"
        case $BIND_ADDR in
        127.0.0.1 | 0.0.0.0 | '::' | '::1') ;;
        *[!0-9.]*) san="$san,DNS:$BIND_ADDR" ;;
        *) san="$san,IP:$BIND_ADDR" ;;
        esac
        printf '%s\n' "basicConstraints=critical,CA:FALSE" \
            "keyUsage=critical,digitalSignature,keyAgreement" \
            "extendedKeyUsage=serverAuth" "subjectAltName=$san" >server.ext
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
            -days 30 -extfile server.ext -out server.crt
        chmod 644 ca.crt server.crt
    ) >"$DIR/openssl.log" 2>&1 || { cat "$DIR/openssl.log" >&2; die "making the TLS certificates failed"; }
}

hash_pw() { # password -> {SSHA} hash, without putting the password on a command line
    f=$DIR/.pw.$$
    (umask 077 && printf %s "$1" >"$f")
    h=$(slappasswd -h '{SSHA}' -T "$f") || { rm -f "$f"; die "slappasswd failed"; }
    rm -f "$f"
    printf '%s\n' "$h"
}

write_config() {
    admin_hash=$(hash_pw "$ADMIN_PW")
    nosync=FALSE
    [ "$DB_NOSYNC" = 1 ] && nosync=TRUE
    tls_ldif=
    if [ "$TLS" = 1 ]; then
        tls_ldif="olcTLSCACertificateFile: $DIR/tls/ca.crt
olcTLSCertificateFile: $DIR/tls/server.crt
olcTLSCertificateKeyFile: $DIR/tls/server.key"
    fi
    {
        cat <<EOF
# generated by $PROG - the cn=config of a throwaway Heracles test slapd
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $DIR/slapd.pid
olcArgsFile: $DIR/slapd.args
olcLogLevel: $SLAPD_LOGLEVEL
olcThreads: $SLAPD_THREADS
olcToolThreads: 2
EOF
        [ -z "$tls_ldif" ] || printf '%s\n' "$tls_ldif"
        cat <<EOF

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: $MODULE_DIR
EOF
        for m in $MODULES; do echo "olcModuleLoad: $m"; done
        cat <<EOF

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

EOF
        for s in $DEBIAN_SCHEMAS; do echo "include: file://$SCHEMA_DIR/$s.ldif"; done
        for s in $PROJECT_SCHEMAS; do echo "include: file://$HERACLES_SCHEMA_DIR/$s.ldif"; done
        cat <<EOF

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: size.soft=$SIZE_LIMIT size.hard=$SIZE_LIMIT size.prtotal=unlimited
olcPasswordHash: $PASSWORD_HASH
olcAccess: {0}to * by dn.exact="$ME" manage by * break
olcAccess: {1}to dn.base="" by * read
olcAccess: {2}to dn.base="cn=Subschema" by * read

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by dn.exact="$ME" manage by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: $SUFFIX
olcRootDN: $ADMIN_DN
olcRootPW: $admin_hash
olcDbDirectory: $DIR/data
olcDbMaxSize: $DB_MAXSIZE
olcDbNoSync: $nosync
olcDbIndex: objectClass eq
olcDbIndex: uid,cn,mail,sn,givenName eq,sub
olcDbIndex: ou eq
olcDbIndex: uidNumber,gidNumber eq
olcDbIndex: member,memberUid,uniqueMember,memberOf eq
olcDbIndex: entryUUID,entryCSN eq
olcDbIndex: ipHostNumber,macAddress eq
olcDbIndex: zoneName,relativeDomainName eq
olcDbIndex: dhcpHWAddress eq
olcDbIndex: sudoUser,sudoHost eq,sub
olcDbIndex: heraclesPolicyName,heraclesAssignmentId,heraclesSubjectDN eq
olcDbIndex: heraclesTemplateName,heraclesSettingKey eq
olcDbIndex: heraclesSessionId,heraclesRefreshTokenHash,heraclesExpiresAt eq
olcDbIndex: heraclesEventId,heraclesTimestamp,heraclesAction,heraclesResult eq
olcDbIndex: heraclesObjectType,heraclesRequestId eq
olcDbIndex: heraclesActor,heraclesTarget eq,sub
olcAccess: {0}to * by dn.exact="$ME" manage by * break
olcAccess: {1}to attrs=userPassword by dn.exact="$SERVICE_DN" manage by self write by anonymous auth by * none
olcAccess: {2}to dn.subtree="ou=heracles,$SUFFIX" by dn.exact="$SERVICE_DN" manage by * none
olcAccess: {3}to attrs=shadowLastChange by dn.exact="$SERVICE_DN" manage by self write by users read by * none
olcAccess: {4}to * by dn.exact="$SERVICE_DN" manage by users read by * none

dn: olcOverlay={0}memberof,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: {0}memberof
olcMemberOfGroupOC: groupOfNames
olcMemberOfMemberAD: member
olcMemberOfMemberOfAD: memberOf
olcMemberOfRefInt: TRUE
olcMemberOfDangling: ignore

dn: olcOverlay={1}refint,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcRefintConfig
olcOverlay: {1}refint
olcRefintAttribute: member uniqueMember
olcRefintNothing: $PLACEHOLDER_DN

dn: olcOverlay={2}ppolicy,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: {2}ppolicy
olcPPolicyDefault: $PPOLICY_DN
olcPPolicyHashCleartext: TRUE
olcPPolicyUseLockout: FALSE

dn: olcOverlay={3}sssvlv,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSssVlvConfig
olcOverlay: {3}sssvlv
olcSssVlvMax: $SSSVLV_MAX
olcSssVlvMaxKeys: 5
olcSssVlvMaxPerConn: 16

dn: olcOverlay={4}syncprov,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: {4}syncprov
olcSpCheckpoint: 100 10
olcSpSessionLog: 1000
EOF
    } >"$DIR/config.ldif"
}

write_seed() {
    service_hash=$(hash_pw "$SERVICE_PW")
    rdn=${SUFFIX%%,*}
    attr=${rdn%%=*}
    val=${rdn#*=}
    case $attr in
    [dD][cC]) top="objectClass: top
objectClass: dcObject
objectClass: organization
dc: $val
o: $val" ;;
    [oO]) top="objectClass: top
objectClass: organization
o: $val" ;;
    *) die "SUFFIX must start with dc= or o= (got $SUFFIX)" ;;
    esac
    ou() { printf 'dn: ou=%s,%s\nobjectClass: top\nobjectClass: organizationalUnit\nou: %s\n\n' "$1" "$2" "$1"; }
    {
        printf '# generated by %s - base tree of a Heracles test directory\n' "$PROG"
        printf 'dn: %s\n%s\n\n' "$SUFFIX" "$top"
        for o in people groups departments dns dhcp systems sudoers heracles; do ou "$o" "$SUFFIX"; done
        for o in servers workstations terminals printers components phones mobiles; do
            ou "$o" "ou=systems,$SUFFIX"
        done
        for o in aclpolicies aclassignments templates settings audit sessions; do
            ou "$o" "ou=heracles,$SUFFIX"
        done
        cat <<EOF
dn: $SERVICE_DN
objectClass: top
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: heracles-service
description: Service account of the Heracles API (not the rootdn: limits and ACLs apply)
userPassword: $service_hash

dn: $PPOLICY_DN
objectClass: top
objectClass: organizationalRole
objectClass: pwdPolicy
cn: default-ppolicy
description: Default password policy (olcPPolicyDefault)
pwdAttribute: userPassword
pwdLockout: TRUE
pwdMaxFailure: $PPOLICY_MAX_FAILURE
pwdFailureCountInterval: 900
pwdLockoutDuration: $PPOLICY_LOCKOUT_DURATION
pwdAllowUserChange: TRUE
pwdMustChange: FALSE
pwdSafeModify: FALSE
pwdCheckQuality: 1
pwdMinLength: 12
pwdInHistory: 5
pwdMaxAge: 0
pwdMinAge: 0
pwdExpireWarning: 0
pwdGraceAuthnLimit: 0

dn: cn=counters,ou=heracles,$SUFFIX
objectClass: top
objectClass: heraclesCounter
cn: counters
description: uidNumber/gidNumber allocation (heraclesNextUidNumber, heraclesNextGidNumber)

dn: cn=revision,ou=heracles,$SUFFIX
objectClass: top
objectClass: heraclesCounter
cn: revision
description: ACL change marker, bumped on policy, assignment and membership changes
heraclesRevision: 0

EOF
        if [ -n "${SEED_LDIF:-}" ]; then
            cat "$SEED_LDIF"
            echo
        fi
    } >"$DIR/seed.ldif"
}

# ---------------------------------------------------------------- running
# launch: start slapd on $SLAPD_URLS and wait until it answers; sets PID. Returns 1 on failure.
launch() {
    rm -f "$DIR/slapd.pid"
    : >>"$DIR/slapd.log"
    bg=
    if [ -n "$SLAPD_DEBUG" ]; then
        # -d keeps slapd in the foreground; nohup + background detaches it from this script.
        nohup slapd -d "$SLAPD_DEBUG" -F "$DIR/slapd.d" -h "$SLAPD_URLS" \
            >>"$DIR/slapd.log" 2>&1 </dev/null &
        bg=$!
    else
        slapd -F "$DIR/slapd.d" -h "$SLAPD_URLS" >>"$DIR/slapd.log" 2>&1 </dev/null || return 1
    fi
    i=0
    while :; do
        i=$((i + 1))
        if [ $i -gt 150 ]; then
            note "slapd did not answer within 15 s"
            p=$(pid_of_dir) && kill "$p" 2>/dev/null
            return 1
        fi
        if [ -n "$bg" ] && ! kill -0 "$bg" 2>/dev/null; then
            return 1
        fi
        if PID=$(pid_of_dir) \
            && ldapwhoami -x -H "$LDAPI_URI" >/dev/null 2>&1 \
            && ldapwhoami -x -H "$LDAP_URI" >/dev/null 2>&1 \
            && { [ -z "$LDAPS_URI" ] \
                || LDAPTLS_CACERT=$TLS_CA LDAPTLS_REQCERT=demand \
                    ldapwhoami -x -H "$LDAPS_URI" >/dev/null 2>&1; }; then
            return 0
        fi
        if [ -z "$bg" ] && [ -s "$DIR/slapd.pid" ] && ! pid_of_dir >/dev/null; then
            return 1 # slapd wrote its pid file and died
        fi
        sleep_short
    done
}

set_uris() {
    host=$BIND_ADDR
    case $host in 0.0.0.0) host=127.0.0.1 ;; '::') host='[::1]' ;; *:*) host="[$host]" ;; esac
    LDAP_URI="ldap://$host:$LDAP_PORT"
    LDAPI_URI=$(ldapi_uri)
    LDAPS_URI=
    TLS_CA=
    listen="ldap://$BIND_ADDR:$LDAP_PORT/"
    case $BIND_ADDR in *:*) listen="ldap://[$BIND_ADDR]:$LDAP_PORT/" ;; esac
    if [ "$TLS" = 1 ]; then
        LDAPS_URI="ldaps://$host:$LDAPS_PORT"
        TLS_CA=$DIR/tls/ca.crt
        case $BIND_ADDR in
        *:*) listen="$listen ldaps://[$BIND_ADDR]:$LDAPS_PORT/" ;;
        *) listen="$listen ldaps://$BIND_ADDR:$LDAPS_PORT/" ;;
        esac
    fi
    SLAPD_URLS="$listen $LDAPI_URI"
}

write_env() {
    cat >"$DIR/env.tmp" <<EOF
LDAP_URI='$LDAP_URI'
LDAPI_URI='$LDAPI_URI'
LDAPS_URI='$LDAPS_URI'
TLS_CA='$TLS_CA'
BASE_DN='$SUFFIX'
ADMIN_DN='$ADMIN_DN'
ADMIN_PW='$ADMIN_PW'
SERVICE_DN='$SERVICE_DN'
SERVICE_PW='$SERVICE_PW'
PPOLICY_DN='$PPOLICY_DN'
MEMBER_PLACEHOLDER_DN='$PLACEHOLDER_DN'
LDAP_PORT='$LDAP_PORT'
LDAPS_PORT='$LDAPS_PORT'
SLAPD_PID='$PID'
SLAPD_DIR='$DIR'
EOF
    mv "$DIR/env.tmp" "$DIR/env"
    # What restart needs besides env (not meant for consumers).
    cat >"$DIR/run.env" <<EOF
SLAPD_URLS='$SLAPD_URLS'
SLAPD_DEBUG='$SLAPD_DEBUG'
TLS='$TLS'
BIND_ADDR='$BIND_ADDR'
EOF
}

# ---------------------------------------------------------------- commands
do_start() {
    check_dir
    for v in SUFFIX ADMIN_PW SERVICE_PW; do eval "check_value $v \"\$$v\""; done
    for v in DB_MAXSIZE SIZE_LIMIT PPOLICY_MAX_FAILURE PPOLICY_LOCKOUT_DURATION SSSVLV_MAX SLAPD_THREADS; do
        eval "is_uint \"\$$v\"" || die "$v must be a non-negative integer"
    done
    case $TLS in 0 | 1) ;; *) die "TLS must be 0 or 1" ;; esac
    case $SUFFIX in
    [dD][cC]=?* | [oO]=?*) ;;
    *) die "SUFFIX must start with dc= or o= (got $SUFFIX)" ;;
    esac
    if [ -n "${SEED_LDIF:-}" ]; then
        [ -r "$SEED_LDIF" ] || die "SEED_LDIF=$SEED_LDIF is not a readable file"
    fi
    if p=$(pid_of_dir); then
        die "a slapd (pid $p) already runs in $DIR; stop it first: $PROG stop $DIR"
    fi
    ensure_tools
    check_files

    ADMIN_DN="cn=admin,$SUFFIX"
    SERVICE_DN="cn=heracles-service,ou=heracles,$SUFFIX"
    PPOLICY_DN="cn=default-ppolicy,ou=heracles,$SUFFIX"
    PLACEHOLDER_DN="cn=placeholder,ou=heracles,$SUFFIX"
    ME="gidNumber=$(id -g)+uidNumber=$(id -u),cn=peercred,cn=external,cn=auth"

    # Wipe DIR, but only if it is empty or was made by this script.
    if [ -e "$DIR" ]; then
        [ -d "$DIR" ] || die "$DIR exists and is not a directory"
        if [ -n "$(ls -A "$DIR" 2>/dev/null)" ] && [ ! -e "$DIR/$MARKER" ]; then
            die "$DIR is not empty and was not created by $PROG; refusing to wipe it"
        fi
        rm -rf "$DIR"
    fi
    mkdir -p "$DIR/slapd.d" "$DIR/data"
    : >"$DIR/$MARKER"

    [ "$TLS" = 1 ] && make_tls
    write_config
    slapadd -n0 -F "$DIR/slapd.d" -l "$DIR/config.ldif" >"$DIR/slapadd-config.log" 2>&1 || {
        cat "$DIR/slapadd-config.log" >&2
        die "building cn=config failed (see $DIR/config.ldif)"
    }
    write_seed
    slapadd -q -F "$DIR/slapd.d" -b "$SUFFIX" -l "$DIR/seed.ldif" >"$DIR/slapadd-seed.log" 2>&1 || {
        cat "$DIR/slapadd-seed.log" >&2
        die "loading the base tree${SEED_LDIF:+ and SEED_LDIF} failed (see $DIR/seed.ldif)"
    }

    # Pick ports (unless given) and start; retry with other ports if one was taken meanwhile.
    tries=0
    while :; do
        tries=$((tries + 1))
        LDAP_PORT=${PORT:-$(random_port)}
        LDAPS_PORT=
        if [ "$TLS" = 1 ]; then
            LDAPS_PORT=${LDAPS_PORT_ENV:-$(random_port "$LDAP_PORT")}
        fi
        is_uint "$LDAP_PORT" || die "PORT must be a number"
        set_uris
        if launch; then break; fi
        if [ -n "${PORT:-}" ] || [ $tries -ge 5 ]; then
            [ -s "$DIR/slapd.log" ] && tail -n 20 "$DIR/slapd.log" >&2
            why="is a port in use? ($LDAP_PORT${LDAPS_PORT:+, $LDAPS_PORT})"
            die "slapd did not start; $why; rerun with SLAPD_DEBUG=stats to see slapd's messages in $DIR/slapd.log"
        fi
        note "slapd did not start on port $LDAP_PORT${LDAPS_PORT:+/$LDAPS_PORT}, trying other ports"
    done
    write_env
    printf '%s\n' "$PID"
}

do_stop() {
    check_dir
    if [ ! -s "$DIR/slapd.pid" ]; then
        note "no slapd running in $DIR"
        return 0
    fi
    rc=0
    pid=$(pid_of_dir) || rc=$?
    if [ $rc -eq 2 ]; then
        die "pid $(cat "$DIR/slapd.pid") in $DIR/slapd.pid is alive but is not the slapd of $DIR; not touching it"
    elif [ $rc -ne 0 ]; then
        note "no slapd running in $DIR (stale pid file removed)"
        rm -f "$DIR/slapd.pid"
        return 0
    fi
    kill "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -eq 100 ]; then
            note "slapd $pid still alive after 10 s; sending SIGKILL"
            kill -9 "$pid" 2>/dev/null || true
        fi
        [ $i -gt 130 ] && die "slapd $pid does not exit"
        sleep_short
    done
    rm -f "$DIR/slapd.pid"
}

load_instance() {
    [ -f "$DIR/$MARKER" ] && [ -f "$DIR/env" ] && [ -f "$DIR/run.env" ] && [ -d "$DIR/slapd.d" ] \
        || die "no test slapd instance in $DIR (run: $PROG start $DIR)"
    # Both files are written by this script: KEY='value' lines without embedded quotes.
    # shellcheck disable=SC1091
    . "$DIR/env"
    # shellcheck disable=SC1091
    . "$DIR/run.env"
    SUFFIX=$BASE_DN
    PLACEHOLDER_DN=$MEMBER_PLACEHOLDER_DN
}

do_restart() {
    check_dir
    debug_now=$SLAPD_DEBUG
    load_instance
    [ -z "$debug_now" ] || SLAPD_DEBUG=$debug_now
    do_stop
    launch || {
        [ -s "$DIR/slapd.log" ] && tail -n 20 "$DIR/slapd.log" >&2
        die "slapd did not restart on $SLAPD_URLS (a port taken meanwhile?)"
    }
    write_env
    printf '%s\n' "$PID"
}

do_status() {
    check_dir
    if pid=$(pid_of_dir); then
        if [ -f "$DIR/env" ]; then
            # shellcheck disable=SC1091
            . "$DIR/env"
            if ldapwhoami -x -H "$LDAPI_URI" >/dev/null 2>&1; then
                echo "running: pid $pid, $LDAP_URI${LDAPS_URI:+ $LDAPS_URI}, base $BASE_DN"
                return 0
            fi
            echo "running but not answering: pid $pid"
            return 1
        fi
        echo "running: pid $pid"
        return 0
    fi
    echo "stopped"
    return 3
}

LDAPS_PORT_ENV=${LDAPS_PORT:-}
DIR=$(abs_path "$DIR")
case $CMD in
start) do_start ;;
stop) do_stop ;;
restart) do_restart ;;
status)
    rc=0
    do_status || rc=$?
    exit $rc
    ;;
*) usage ;;
esac
