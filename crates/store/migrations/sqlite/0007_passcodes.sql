-- Email one-time passcodes for guests: the code only as a salted SHA-256, the browser that
-- asked for it by the SHA-256 of a cookie, the tries counted; kept a day for the send limits.
CREATE TABLE passcode_challenges (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    browser_hash TEXT NOT NULL UNIQUE,
    organization_id TEXT,
    client_ip TEXT,
    return_to TEXT,
    mail_job_id TEXT,
    created_date_time TEXT NOT NULL,
    expires_date_time TEXT NOT NULL,
    failed_attempts BIGINT NOT NULL,
    closed_date_time TEXT
);
CREATE INDEX passcode_challenges_email ON passcode_challenges (email, created_date_time);
CREATE INDEX passcode_challenges_client ON passcode_challenges (client_ip, created_date_time);
