-- My Access reads these without scanning every policy and request body.

-- The users, groups and connected organizations a policy's specificAllowedTargets name, so
-- "which packages may this person request" reads the few policies that can concern them.
-- Written with the policy (store::policies); policy evaluation in the domain still decides.
CREATE TABLE assignment_policy_targets (
    policy_id TEXT NOT NULL REFERENCES assignment_policies (id) ON DELETE CASCADE,
    target_id TEXT NOT NULL,
    PRIMARY KEY (policy_id, target_id)
);
CREATE INDEX assignment_policy_targets_target ON assignment_policy_targets (target_id);
-- The broad scopes (all members, all external users, …) are looked up by scope.
CREATE INDEX assignment_policies_scope ON assignment_policies (allowed_target_scope);

INSERT INTO assignment_policy_targets (policy_id, target_id)
SELECT DISTINCT p.id, COALESCE(json_extract(t.value, '$.userId'), json_extract(t.value, '$.groupId'),
                               json_extract(t.value, '$.connectedOrganizationId'))
FROM assignment_policies p, json_each(p.body, '$.specificAllowedTargets') t
WHERE COALESCE(json_extract(t.value, '$.userId'), json_extract(t.value, '$.groupId'),
               json_extract(t.value, '$.connectedOrganizationId')) IS NOT NULL;

-- Who decided a stage of which request: an approver's past decisions.
CREATE TABLE approval_decisions (
    request_id TEXT NOT NULL REFERENCES assignment_requests (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    PRIMARY KEY (request_id, user_id)
);
CREATE INDEX approval_decisions_user ON approval_decisions (user_id);

INSERT INTO approval_decisions (request_id, user_id)
SELECT DISTINCT r.id, json_extract(s.value, '$.decision.by')
FROM assignment_requests r, json_each(r.body, '$.stages') s
WHERE json_extract(s.value, '$.decision.by') IS NOT NULL;
