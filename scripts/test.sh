#!/usr/bin/env bash
# Runs every Gatehouse test on a fresh Debian machine: installs and starts what the tests talk
# to (PostgreSQL), then runs the whole workspace's tests. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
APT_UPDATED=""
apt_install() {
  if [ -z "$APT_UPDATED" ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

as_postgres() {
  if command -v runuser >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else $SUDO -u postgres "$@"; fi
}

# PostgreSQL: install if missing, create a cluster if none, start it if stopped, and make the
# role the tests use (it may create and drop its own databases).
ensure_postgres() {
  if [ -n "${GATEHOUSE_TEST_POSTGRES_URL:-}" ]; then
    echo "using PostgreSQL at GATEHOUSE_TEST_POSTGRES_URL"
    return
  fi
  if ! command -v pg_lsclusters >/dev/null 2>&1; then
    echo "installing PostgreSQL (apt-get install postgresql)"
    apt_install postgresql postgresql-client
  fi
  if [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    $SUDO pg_createcluster "$version" main >/dev/null
  fi
  read -r version cluster port status _ < <(pg_lsclusters -h | head -n 1)
  if [ "$status" != "online" ]; then
    echo "starting PostgreSQL $version/$cluster"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start
  fi
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p "$port" && break
    sleep 1
  done
  pg_isready -h 127.0.0.1 -p "$port" >/dev/null || { echo "PostgreSQL did not become ready on port $port" >&2; exit 1; }
  as_postgres psql -q -p "$port" -v ON_ERROR_STOP=1 -c \
    "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gatehouse') THEN
       CREATE ROLE gatehouse LOGIN PASSWORD 'gatehouse' CREATEDB; END IF; END\$\$;" >/dev/null
  export GATEHOUSE_TEST_POSTGRES_URL="postgres://gatehouse:gatehouse@127.0.0.1:${port}/postgres"
}

# The Python test peers: Microsoft's Graph SDK (the client the compatibility suite drives
# Gatehouse with), aiosmtpd (the SMTP server the mail tests deliver to), schemathesis (the
# schema fuzzer tests/schema_fuzz.rs runs against /openapi.json), openapi-spec-validator
# (tests/ops.rs checks the document against the OpenAPI 3.0 schema), scim2-server (the SCIM
# application the provisioning tests grant into) and standardwebhooks (the reference
# signature check of the webhook receiver).
ensure_test_peers() {
  local venv=target/test-peers
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import msgraph, aiosmtpd, schemathesis, openapi_spec_validator, scim2_server, standardwebhooks" 2>/dev/null; then
    return
  fi
  command -v python3 >/dev/null 2>&1 || apt_install python3
  rm -rf "$venv"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    apt_install python3-venv
    rm -rf "$venv"
    python3 -m venv "$venv"
  fi
  echo "installing the test peers (msgraph-sdk, aiosmtpd, schemathesis, openapi-spec-validator, scim2-server, standardwebhooks) into $venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "msgraph-sdk==1.65.0" "aiosmtpd==1.4.6" "schemathesis==4.32.5" \
    "openapi-spec-validator==0.9.0" "scim2-server==0.8.3" "standardwebhooks==1.1.0"
}

# OpenLDAP's slapd and its tools, for the LDAP connector's tests: each test starts a private
# slapd on a free port from a temporary slapd.conf (testkit::targets::Slapd); the system
# service is never used (/etc/ldap/noslapd keeps the package from starting one).
ensure_slapd() {
  if command -v slapd >/dev/null 2>&1 || [ -x /usr/sbin/slapd ]; then
    return
  fi
  echo "installing OpenLDAP (apt-get install slapd ldap-utils)"
  $SUDO mkdir -p /etc/ldap && $SUDO touch /etc/ldap/noslapd
  apt_install slapd ldap-utils
  if [ ! -x /usr/sbin/slapd ]; then
    echo "slapd is missing and could not be installed: install Debian's slapd package and run this again" >&2
    exit 1
  fi
}

# The Node test peers: oidc-provider (the OpenID Connect providers the sign-in tests sign in at),
# installed with `npm ci` from the committed lock file, so every machine gets the same tree.
# After ensure_test_peers, which may recreate target/test-peers.
ensure_node_peers() {
  local dir=target/test-peers/node lock=crates/testkit/peers/package-lock.json
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "installing Node.js (apt-get install nodejs npm)"
    apt_install nodejs npm
  fi
  # oidc-provider 9 uses crypto.hash (Node 20.12); Debian 12's nodejs is 18.
  if ! node -e 'process.exit(typeof require("node:crypto").hash === "function" ? 0 : 1)'; then
    echo "Node.js $(node --version) is too old for oidc-provider: install Node.js 20.12 or later" \
      "(Debian 13's nodejs, or NodeSource's) and run this again" >&2
    exit 1
  fi
  if [ -d "$dir/node_modules/oidc-provider" ] && cmp -s "$lock" "$dir/package-lock.json"; then
    return
  fi
  echo "installing the Node test peers (oidc-provider, playwright-core, @axe-core/playwright) into $dir"
  mkdir -p "$dir"
  cp crates/testkit/peers/package.json "$lock" "$dir/"
  npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
}

# Headless Chromium for the browser suite: Debian's package (playwright-core drives it; its own
# browser download cannot work offline and is never used).
ensure_chromium() {
  if [ -n "${GATEHOUSE_TEST_CHROMIUM:-}" ]; then
    return
  fi
  if ! command -v chromium >/dev/null 2>&1; then
    echo "installing Chromium (apt-get install chromium)"
    apt_install chromium || true
  fi
  if ! command -v chromium >/dev/null 2>&1; then
    echo "Chromium is missing and could not be installed: install Debian's chromium package" \
      "(or set GATEHOUSE_TEST_CHROMIUM to a Chromium binary) and run this again" >&2
    exit 1
  fi
}

ensure_postgres
ensure_chromium
ensure_slapd
mkdir -p target
ensure_test_peers
ensure_node_peers

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is missing: install the Rust toolchain (https://rustup.rs) and run this again" >&2
  exit 1
fi

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  cargo test --workspace --no-fail-fast "$@"
fi
