-- Connections: the target systems Gatehouse provisions into (SCIM applications, LDAP
-- directories, webhook targets), what Gatehouse created there, and reconciliation runs.

CREATE TABLE connections (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    description TEXT,
    kind TEXT NOT NULL,
    -- The kind's settings as JSON, without credentials.
    settings TEXT NOT NULL,
    -- The credentials, sealed with the server's secret key (app::secrets); never plaintext.
    sealed_secrets TEXT,
    reconcile_mode TEXT NOT NULL,
    status TEXT NOT NULL,
    last_error TEXT,
    status_date_time TEXT,
    last_success_date_time TEXT,
    consecutive_failures BIGINT NOT NULL DEFAULT 0,
    -- While degraded: when its waiting jobs may try the target again.
    probe_after TEXT,
    -- When the scheduled reconciliation is next due.
    next_reconcile_date_time TEXT,
    created_date_time TEXT NOT NULL,
    modified_date_time TEXT NOT NULL
);

-- Resources a connection offers live in it; directory groups have none.
ALTER TABLE resources ADD COLUMN connection_id TEXT REFERENCES connections (id);
CREATE INDEX resources_connection ON resources (connection_id);

-- A provisioning job's connection, so a degraded connection's jobs wait without being claimed.
ALTER TABLE jobs ADD COLUMN connection_id TEXT;
CREATE INDEX jobs_connection ON jobs (connection_id, state);

-- A person's account in a target: the SCIM user id or LDAP entry DN, and whether Gatehouse
-- made it (only those it made does it ever delete). Written before the target is asked to
-- create the account, so a crash in between cannot forget who made it.
CREATE TABLE connection_accounts (
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    external_id TEXT,
    created_by_gatehouse BIGINT NOT NULL,
    -- 0 once Gatehouse deactivated it (a SCIM user whose last role was revoked).
    active BIGINT NOT NULL DEFAULT 1,
    created_date_time TEXT NOT NULL,
    PRIMARY KEY (connection_id, user_id)
);
CREATE INDEX connection_accounts_external ON connection_accounts (connection_id, external_id);

-- Reconciliation: who holds each governed role in the target against the assignments that
-- explain it.
CREATE TABLE reconciliations (
    id TEXT PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    fix BIGINT NOT NULL,
    scheduled BIGINT NOT NULL,
    requested_by TEXT,
    state TEXT NOT NULL,
    summary TEXT,
    error TEXT,
    created_date_time TEXT NOT NULL,
    finished_date_time TEXT
);
CREATE INDEX reconciliations_connection ON reconciliations (connection_id, created_date_time);

CREATE TABLE drift_findings (
    id TEXT PRIMARY KEY,
    reconciliation_id TEXT NOT NULL REFERENCES reconciliations (id) ON DELETE CASCADE,
    connection_id TEXT NOT NULL,
    resource_id TEXT,
    role_origin_id TEXT NOT NULL,
    role_display_name TEXT NOT NULL,
    resource_display_name TEXT NOT NULL,
    -- missing: an assignment grants it, the target does not have it;
    -- unexplained: the target has it, no assignment explains it.
    kind TEXT NOT NULL,
    holder TEXT NOT NULL,
    holder_display_name TEXT NOT NULL,
    user_id TEXT,
    user_type TEXT,
    -- reported, reapplied, removed, or failed (with detail).
    action TEXT NOT NULL,
    detail TEXT,
    created_date_time TEXT NOT NULL
);
CREATE INDEX drift_findings_run ON drift_findings (reconciliation_id);
