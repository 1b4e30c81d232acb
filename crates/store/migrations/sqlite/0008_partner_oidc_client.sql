-- Gatehouse's client secret at a partner's OpenID Connect provider: a column of its own, so it
-- never travels in the identity sources' JSON that the API and the audit log show.
ALTER TABLE connected_organization_identity_sources ADD COLUMN client_secret TEXT;
