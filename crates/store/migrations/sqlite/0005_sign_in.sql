-- Sign-in: server-side sessions (the cookie holds a secret, the table its SHA-256), pending
-- OpenID Connect sign-ins (state, nonce and PKCE verifier, single use), and one-time bootstrap
-- links for the first administrator.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_method TEXT NOT NULL,
    identity_issuer TEXT,
    csrf_token TEXT NOT NULL,
    created_date_time TEXT NOT NULL,
    last_seen_date_time TEXT NOT NULL,
    expires_date_time TEXT NOT NULL,
    ended_date_time TEXT,
    client_ip TEXT,
    user_agent TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE sign_in_flows (
    state_hash TEXT PRIMARY KEY,
    browser_hash TEXT NOT NULL,
    issuer TEXT NOT NULL,
    organization_id TEXT,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    return_to TEXT,
    created_date_time TEXT NOT NULL,
    expires_date_time TEXT NOT NULL
);
CREATE INDEX sign_in_flows_expiry ON sign_in_flows (expires_date_time);

CREATE TABLE bootstrap_links (
    secret_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_date_time TEXT NOT NULL,
    expires_date_time TEXT NOT NULL,
    used_date_time TEXT
);
