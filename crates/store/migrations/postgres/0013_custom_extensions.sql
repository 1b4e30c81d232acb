-- Custom extensions of catalogs (Graph's customWorkflowExtensions): endpoints called at stages
-- of requests and assignments, signed with a secret sealed like connections' credentials.
CREATE TABLE custom_extensions (
    id TEXT PRIMARY KEY,
    catalog_id TEXT NOT NULL REFERENCES catalogs (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    display_name TEXT NOT NULL,
    -- Endpoint, timeouts, callback wait, who made and changed it.
    body TEXT NOT NULL,
    sealed_secret TEXT,
    created_date_time TEXT NOT NULL,
    modified_date_time TEXT NOT NULL
);
CREATE INDEX custom_extensions_catalog ON custom_extensions (catalog_id);
