-- Gatehouse schema, version 1. Kept identical on SQLite and PostgreSQL except for the audit
-- sequence column. Booleans are BIGINT 0/1 and times are fixed-width UTC text
-- (YYYY-MM-DDTHH:MM:SS.ffffffZ), so one set of queries serves both backends through sqlx::Any.

CREATE TABLE connected_organizations (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    description TEXT,
    state TEXT NOT NULL,
    identity_sources TEXT NOT NULL,
    created_date_time TEXT NOT NULL,
    modified_date_time TEXT NOT NULL
);
CREATE INDEX connected_organizations_name ON connected_organizations (display_name);

-- One row per identity source, for domain uniqueness, lookup by domain/issuer and $filter any().
CREATE TABLE connected_organization_identity_sources (
    organization_id TEXT NOT NULL REFERENCES connected_organizations (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    odata_type TEXT NOT NULL,
    domain_name TEXT UNIQUE,
    display_name TEXT,
    issuer_uri TEXT,
    tenant_id TEXT,
    PRIMARY KEY (organization_id, position)
);
CREATE INDEX connected_organization_identity_sources_issuer ON connected_organization_identity_sources (issuer_uri);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    given_name TEXT,
    surname TEXT,
    mail TEXT,
    mail_nickname TEXT,
    user_principal_name TEXT NOT NULL UNIQUE,
    user_type TEXT NOT NULL,
    account_enabled BIGINT NOT NULL,
    external_user_state TEXT,
    connected_organization_id TEXT REFERENCES connected_organizations (id) ON DELETE SET NULL,
    manager_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_date_time TEXT NOT NULL
);
CREATE INDEX users_mail ON users (mail);
CREATE INDEX users_connected_organization ON users (connected_organization_id);

CREATE TABLE user_identities (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sign_in_type TEXT NOT NULL,
    issuer TEXT NOT NULL,
    issuer_assigned_id TEXT NOT NULL,
    PRIMARY KEY (issuer, issuer_assigned_id)
);
CREATE INDEX user_identities_user ON user_identities (user_id);

CREATE TABLE groups (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    description TEXT,
    mail_nickname TEXT,
    security_enabled BIGINT NOT NULL,
    mail_enabled BIGINT NOT NULL,
    created_date_time TEXT NOT NULL
);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, member_id)
);
CREATE INDEX group_members_member ON group_members (member_id);

CREATE TABLE connected_organization_sponsors (
    organization_id TEXT NOT NULL REFERENCES connected_organizations (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (organization_id, kind, user_id)
);

CREATE TABLE directory_role_assignments (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes TEXT NOT NULL,
    description TEXT,
    created_date_time TEXT NOT NULL,
    expires_date_time TEXT,
    revoked BIGINT NOT NULL
);

CREATE TABLE catalogs (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    description TEXT,
    catalog_type TEXT NOT NULL,
    state TEXT NOT NULL,
    is_externally_visible BIGINT NOT NULL,
    created_date_time TEXT NOT NULL,
    modified_date_time TEXT NOT NULL
);

CREATE TABLE catalog_role_assignments (
    catalog_id TEXT NOT NULL REFERENCES catalogs (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (catalog_id, user_id, role)
);

CREATE TABLE resources (
    id TEXT PRIMARY KEY,
    catalog_id TEXT NOT NULL REFERENCES catalogs (id),
    display_name TEXT NOT NULL,
    description TEXT,
    origin_system TEXT NOT NULL,
    origin_id TEXT NOT NULL,
    created_date_time TEXT NOT NULL,
    modified_date_time TEXT NOT NULL,
    UNIQUE (catalog_id, origin_system, origin_id)
);

CREATE TABLE resource_roles (
    id TEXT PRIMARY KEY,
    resource_id TEXT NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    catalog_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    description TEXT,
    origin_system TEXT NOT NULL,
    origin_id TEXT NOT NULL,
    created_date_time TEXT NOT NULL
);
CREATE INDEX resource_roles_resource ON resource_roles (resource_id);

CREATE TABLE resource_scopes (
    id TEXT PRIMARY KEY,
    resource_id TEXT NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    catalog_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    description TEXT,
    origin_system TEXT NOT NULL,
    origin_id TEXT NOT NULL,
    is_root_scope BIGINT NOT NULL,
    created_date_time TEXT NOT NULL
);
CREATE INDEX resource_scopes_resource ON resource_scopes (resource_id);

CREATE TABLE resource_requests (
    id TEXT PRIMARY KEY,
    catalog_id TEXT NOT NULL,
    resource_id TEXT,
    request_type TEXT NOT NULL,
    state TEXT NOT NULL,
    created_date_time TEXT NOT NULL
);

CREATE TABLE access_packages (
    id TEXT PRIMARY KEY,
    catalog_id TEXT NOT NULL REFERENCES catalogs (id),
    display_name TEXT NOT NULL,
    description TEXT,
    is_hidden BIGINT NOT NULL,
    created_date_time TEXT NOT NULL,
    modified_date_time TEXT NOT NULL
);
CREATE INDEX access_packages_catalog ON access_packages (catalog_id);

CREATE TABLE access_package_resource_role_scopes (
    access_package_id TEXT NOT NULL REFERENCES access_packages (id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES resource_roles (id),
    scope_id TEXT NOT NULL REFERENCES resource_scopes (id),
    created_date_time TEXT NOT NULL,
    PRIMARY KEY (access_package_id, role_id, scope_id)
);

CREATE TABLE incompatible_access_packages (
    access_package_id TEXT NOT NULL REFERENCES access_packages (id) ON DELETE CASCADE,
    incompatible_id TEXT NOT NULL REFERENCES access_packages (id) ON DELETE CASCADE,
    PRIMARY KEY (access_package_id, incompatible_id)
);

CREATE TABLE incompatible_groups (
    access_package_id TEXT NOT NULL REFERENCES access_packages (id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (access_package_id, group_id)
);

CREATE TABLE assignment_policies (
    id TEXT PRIMARY KEY,
    access_package_id TEXT NOT NULL REFERENCES access_packages (id) ON DELETE CASCADE,
    catalog_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    description TEXT,
    allowed_target_scope TEXT NOT NULL,
    body TEXT NOT NULL,
    created_date_time TEXT NOT NULL,
    modified_date_time TEXT NOT NULL
);
CREATE INDEX assignment_policies_package ON assignment_policies (access_package_id);

-- Filled by the request lifecycle; present now so that deleting a package with assignments is refused.
CREATE TABLE assignments (
    id TEXT PRIMARY KEY,
    access_package_id TEXT NOT NULL REFERENCES access_packages (id),
    assignment_policy_id TEXT NOT NULL,
    target_id TEXT NOT NULL,
    state TEXT NOT NULL,
    created_date_time TEXT NOT NULL
);
CREATE INDEX assignments_package ON assignments (access_package_id);
CREATE INDEX assignments_target ON assignments (target_id);

CREATE TABLE settings (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL
);

CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    activity_date_time TEXT NOT NULL,
    actor_id TEXT,
    actor_display_name TEXT NOT NULL,
    activity TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    correlation_id TEXT
);
CREATE INDEX audit_log_target ON audit_log (target_id);
