-- Lifecycle: which expiry reminders an assignment has had, and when a guest was blocked.
ALTER TABLE assignments ADD COLUMN reminders_sent BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN blocked_date_time TEXT;
CREATE INDEX users_blocked ON users (blocked_date_time);
