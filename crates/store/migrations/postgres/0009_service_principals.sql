-- API clients: service principals with a client id and a secret (stored as SHA-256, like
-- personal tokens), and the key Gatehouse signs their access tokens with. The key row is
-- shared by every replica, so a token issued by one is accepted by all.
CREATE TABLE service_principals (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    enabled BIGINT NOT NULL,
    created_date_time TEXT NOT NULL
);
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL,
    private_key TEXT NOT NULL,
    public_key TEXT NOT NULL,
    created_date_time TEXT NOT NULL
);
