-- "Requests I made" and "assignments from requests I made" look requests up by their
-- requestor, and the latter by the assignment they delivered; without these they scan.
CREATE INDEX assignment_requests_requestor ON assignment_requests (requestor_id);
CREATE INDEX assignment_requests_assignment ON assignment_requests (assignment_id);
