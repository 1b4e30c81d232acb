-- Tamper evidence: each audit record carries the hash of its content chained to the previous
-- record's hash, numbered without gaps. The single head row serialises appends (also across
-- replicas on PostgreSQL, where the row lock is held until commit).
ALTER TABLE audit_log ADD COLUMN chain_no BIGINT;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_log_chain ON audit_log (chain_no);
CREATE TABLE audit_chain (
    id TEXT PRIMARY KEY,
    last_no BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_chain (id, last_no, last_hash) VALUES ('head', 0, '');
