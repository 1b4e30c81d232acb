-- Request lifecycle: requests with their approval stages, who may decide each stage, the
-- assignments' schedules, and the transactional outbox of jobs that workers lease.

CREATE TABLE assignment_requests (
    id TEXT PRIMARY KEY,
    request_type TEXT NOT NULL,
    state TEXT NOT NULL,
    access_package_id TEXT NOT NULL REFERENCES access_packages (id),
    policy_id TEXT NOT NULL,
    target_id TEXT,
    target_email TEXT,
    requestor_id TEXT,
    assignment_id TEXT,
    -- The whole request (stages, answers, schedule) as JSON; the columns above are for queries.
    body TEXT NOT NULL,
    -- When the tick sweep next has work on this request (escalation, denial, scheduled start).
    next_deadline TEXT,
    created_date_time TEXT NOT NULL,
    completed_date_time TEXT
);
CREATE INDEX assignment_requests_state ON assignment_requests (state);
CREATE INDEX assignment_requests_target ON assignment_requests (target_id);
CREATE INDEX assignment_requests_package ON assignment_requests (access_package_id);
CREATE INDEX assignment_requests_deadline ON assignment_requests (next_deadline);

-- Who may decide which open stage, for filterByCurrentUser(on='approver').
CREATE TABLE approval_assignees (
    request_id TEXT NOT NULL REFERENCES assignment_requests (id) ON DELETE CASCADE,
    stage_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (request_id, stage_id, user_id)
);
CREATE INDEX approval_assignees_user ON approval_assignees (user_id);

ALTER TABLE assignments ADD COLUMN status TEXT;
ALTER TABLE assignments ADD COLUMN start_date_time TEXT;
ALTER TABLE assignments ADD COLUMN end_date_time TEXT;
ALTER TABLE assignments ADD COLUMN expired_date_time TEXT;
ALTER TABLE assignments ADD COLUMN request_id TEXT;
CREATE INDEX assignments_end ON assignments (state, end_date_time);

-- The outbox: written in the same transaction as the decision that causes it; workers take
-- jobs with a lease, so a crash at any point loses nothing and a retry is safe.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    max_attempts BIGINT NOT NULL,
    run_after TEXT NOT NULL,
    lease_owner TEXT,
    lease_until TEXT,
    last_error TEXT,
    request_id TEXT,
    created_date_time TEXT NOT NULL,
    finished_date_time TEXT
);
CREATE INDEX jobs_ready ON jobs (state, run_after);
CREATE INDEX jobs_request ON jobs (request_id);
