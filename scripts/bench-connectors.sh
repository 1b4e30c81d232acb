#!/usr/bin/env bash
# `gatehouse bench` with the connector rows: starts a local SCIM application (scim2-server), a
# private slapd and a Standard Webhooks receiver — the peers scripts/test.sh installs — and
# measures provisioning into them next to the usual rows. Extra arguments go to the bench
# (e.g. --backend sqlite --grants 1000). Everything it starts is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=target/test-peers/bin/python
[ -x "$PY" ] && "$PY" -c "import scim2_server, standardwebhooks" 2>/dev/null || {
  echo "the test peers are missing: run scripts/test.sh once (it installs scim2-server and standardwebhooks)" >&2; exit 1; }
[ -x /usr/sbin/slapd ] || { echo "slapd is missing: run scripts/test.sh once (it installs Debian's slapd)" >&2; exit 1; }
command -v ldapadd >/dev/null || { echo "ldapadd is missing: apt-get install ldap-utils" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { "$PY" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

token="bench-$RANDOM$RANDOM"
scim_port=$(free_port)
target/test-peers/bin/scim2-server --hostname 127.0.0.1 --port "$scim_port" --bearer-token "$token" >"$work/scim.log" 2>&1 &
pids+=($!)

mkdir "$work/db"
sed "s#@DIR@#$work#g" crates/testkit/peers/slapd.conf >"$work/slapd.conf"
ldap_port=$(free_port)
/usr/sbin/slapd -f "$work/slapd.conf" -h "ldap://127.0.0.1:$ldap_port/" -d none </dev/null >/dev/null 2>"$work/slapd.log" &
pids+=($!)

secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
"$PY" crates/testkit/peers/webhook_receiver.py "$secret" >"$work/hook.port" &
pids+=($!)

for _ in $(seq 1 100); do
  ldapsearch -x -H "ldap://127.0.0.1:$ldap_port/" -s base -b "" >/dev/null 2>&1 && [ -s "$work/hook.port" ] \
    && grep -q "Serving SCIM" "$work/scim.log" && break
  sleep 0.1
done
ldapadd -x -H "ldap://127.0.0.1:$ldap_port/" -D cn=admin,dc=example,dc=org -w secret >/dev/null <<'LDIF'
dn: dc=example,dc=org
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=example,dc=org
objectClass: organizationalUnit
ou: groups

dn: uid=keeper,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: keeper
cn: keeper
sn: keeper

dn: cn=bench,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: bench
member: uid=keeper,ou=people,dc=example,dc=org
LDIF

cargo run --release --quiet -p gatehouse -- bench \
  --scim-url "http://127.0.0.1:$scim_port/v2" --scim-token "$token" \
  --ldap-url "ldap://127.0.0.1:$ldap_port" --ldap-bind-dn cn=admin,dc=example,dc=org --ldap-password secret \
  --ldap-people ou=people,dc=example,dc=org --ldap-group cn=bench,ou=groups,dc=example,dc=org \
  --webhook-url "http://127.0.0.1:$(cat "$work/hook.port")" --webhook-secret "$secret" "$@"
