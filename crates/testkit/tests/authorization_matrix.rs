//! The authorization matrix: every route of `routes::table()` called as every role, with the
//! status each must get, from the one table below. A route missing from the table (or a row
//! left over for a removed route) fails the test, so a new route cannot ship without deciding
//! who may call it. Besides the status, every call checks that a refusal wrote nothing (the
//! audit count) and that no 2xx body shows an outsider the objects of a catalog they hold no
//! role in (lists filter, they never leak).
//!
//! Path parameters are real objects of the partner extranet (catalog A): a delivered request
//! and its assignment, the package, its policy and resource. Writes are chosen so that the
//! outcome does not depend on which role went first: deletes aim at objects that are still in
//! use (409) or do not exist (404) once authorization has passed, creates are unique per role.

use gatehouse_app::Actor;
use gatehouse_domain::principal::{DirectoryRole, TokenScope};
use gatehouse_server::routes;
use gatehouse_testkit::fixtures::partner::{
    approval_path, decide, id, org_policy, package, stage, submit, user_add, world,
};
use gatehouse_testkit::{both_backends, json, TestServer, EM};
use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

/// The roles, in the order of the status columns.
const ROLES: [&str; 10] = [
    "anonymous",
    "member",
    "guest of another organization",
    "approver of another request",
    "owner of another catalog",
    "reader of this catalog",
    "catalog creator",
    "identity governance administrator",
    "global administrator",
    "read-scope token (global administrator)",
];

/// Roles that hold nothing in catalog A: no 2xx answer may show them its objects.
const OUTSIDERS: [usize; 5] = [1, 2, 3, 4, 6];

type Body = fn(&Fx, usize) -> Value;

struct Row {
    method: Method,
    path: &'static str,
    expect: [u16; 10],
    body: Option<Body>,
}

// Shapes shared by many rows. Columns: anonymous, member, guest, approver, owner of B,
// reader of A, creator, governance admin, global admin, read token.
/// Anyone, signed in or not: the status does not depend on who calls, and is never a 5xx
/// (sign-in pages without their parameters are a 4xx, 401 for a missing sign-in code).
const OPEN: [u16; 10] = [0; 10];
/// Any signed-in caller (their own things).
const SELF: [u16; 10] = [401, 200, 200, 200, 200, 200, 200, 200, 200, 200];
/// Lists and tenant-wide reads for any entitlement-management role (lists filter per catalog).
const EM_READ: [u16; 10] = [401, 403, 403, 403, 200, 200, 200, 200, 200, 200];
/// Reading an object of catalog A.
const A_READ: [u16; 10] = [401, 403, 403, 403, 403, 200, 403, 200, 200, 200];
/// Reading a request or assignment of catalog A: whoever may not see it is told it does not exist.
const A_PRIVATE: [u16; 10] = [401, 404, 404, 404, 404, 200, 404, 200, 200, 200];
/// The directory: members and administrators; guests that sponsor nothing are refused.
const DIR_READ: [u16; 10] = [401, 200, 403, 200, 200, 200, 200, 200, 200, 200];
const AUDIT: [u16; 10] = [401, 403, 403, 403, 403, 403, 403, 200, 200, 200];
/// Connections: administrators, owners of some catalog and catalog creators (who add a
/// target's groups to their catalogs).
const CONNECTION_READ: [u16; 10] = [401, 403, 403, 403, 200, 403, 200, 200, 200, 200];

/// A page every signed-in caller sees (a signed-out visitor is sent to sign-in: 303).
const PAGE: [u16; 10] = [303, 200, 200, 200, 200, 200, 200, 200, 200, 200];
/// A page about someone else's object: it does not exist for the caller.
const PAGE_NOT_YOURS: [u16; 10] = [303, 404, 404, 404, 404, 404, 404, 404, 404, 404];
/// A form post about someone else's object; a read-scope token may not post at all.
const POST_NOT_YOURS: [u16; 10] = [303, 404, 404, 404, 404, 404, 404, 404, 404, 403];

/// Changing catalog A (or tenant-wide configuration): the administrators get `ok`.
const fn admins(ok: u16) -> [u16; 10] {
    [401, 403, 403, 403, 403, 403, 403, ok, ok, 403]
}

/// An admin-portal page or form that changes tenant-wide configuration: administrators with
/// a write token; signed out, sign-in first.
const fn admin_page(ok: u16) -> [u16; 10] {
    [303, 403, 403, 403, 403, 403, 403, ok, ok, 403]
}

/// Changing the directory: the global administrator only.
const fn global(ok: u16) -> [u16; 10] {
    [401, 403, 403, 403, 403, 403, 403, 403, ok, 403]
}

macro_rules! em {
    ($p:literal) => {
        concat!("/v1.0/identityGovernance/entitlementManagement", $p)
    };
}

macro_rules! rows {
    ($( $method:ident $path:expr => $expect:expr $(, $body:expr)? ; )*) => {
        vec![$( Row { method: Method::$method, path: $path, expect: $expect, body: rows!(@body $($body)?) }, )*]
    };
    (@body) => { None };
    (@body $b:expr) => { Some($b as Body) };
}

fn reference(collection: &str, id: &str) -> Value {
    json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/{collection}/{id}")})
}

/// The one table: every route, every role.
fn table() -> Vec<Row> {
    rows! {
        GET "/healthz" => OPEN;
        GET "/readyz" => OPEN;
        GET "/metrics" => OPEN;
        GET "/openapi.json" => OPEN;
        GET "/" => OPEN;
        GET "/signin" => OPEN;
        POST "/signin/email" => OPEN;
        POST "/signin/passcode" => OPEN;
        GET "/signin/link" => OPEN;
        POST "/oauth2/token" => OPEN;
        GET "/signin/host" => OPEN;
        GET "/signin/callback" => OPEN;
        GET "/gatehouse/servicePrincipals" => global(200);
        POST "/gatehouse/servicePrincipals" => global(201), |_, r| json!({"displayName": format!("Matrix client {r}"), "scopes": ["EntitlementManagement.Read.All"]});
        PATCH "/gatehouse/servicePrincipals/{id}" => global(404), |_, _| json!({"accountEnabled": false});
        // Sign-out ends a browser session; a bearer token has none to end.
        POST "/signout" => [401, 400, 400, 400, 400, 400, 400, 400, 400, 400];
        GET "/gatehouse/sessions" => SELF;
        DELETE "/gatehouse/sessions/{id}" => [401, 404, 404, 404, 404, 404, 404, 404, 404, 403];

        // Without ?domain= the administrators' answer is a 400 naming what is missing.
        GET "/gatehouse/connectedOrganizations/lookupDomain" => admins(400);
        GET em!("/connectedOrganizations") => EM_READ;
        POST em!("/connectedOrganizations") => admins(201), |_, r| json!({"displayName": format!("Matrix {r}"),
            "identitySources": [{"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": format!("matrix{r}.example"), "displayName": "m"}]});
        GET em!("/connectedOrganizations/{id}") => EM_READ;
        PATCH em!("/connectedOrganizations/{id}") => admins(202), |_, _| json!({"description": "Partner"});
        DELETE em!("/connectedOrganizations/{id}") => admins(404);
        GET em!("/connectedOrganizations/{id}/internalSponsors") => EM_READ;
        POST em!("/connectedOrganizations/{id}/internalSponsors/$ref") => admins(204), |f, _| reference("users", &f.member_sponsor);
        DELETE em!("/connectedOrganizations/{id}/internalSponsors/{user_id}/$ref") => admins(404);
        GET em!("/connectedOrganizations/{id}/externalSponsors") => EM_READ;
        POST em!("/connectedOrganizations/{id}/externalSponsors/$ref") => admins(204), |f, _| reference("users", &f.guest_sponsor);
        DELETE em!("/connectedOrganizations/{id}/externalSponsors/{user_id}/$ref") => admins(404);

        GET em!("/catalogs") => EM_READ;
        POST em!("/catalogs") => [401, 403, 403, 403, 403, 403, 201, 201, 201, 403], |_, r| json!({"displayName": format!("Matrix {r}")});
        GET em!("/catalogs/{id}") => A_READ;
        PATCH em!("/catalogs/{id}") => admins(204), |_, _| json!({"description": "Partner extranet"});
        DELETE em!("/catalogs/{id}") => admins(409);
        GET em!("/catalogs/{id}/accessPackages") => A_READ;
        GET em!("/catalogs/{id}/resources") => A_READ;
        GET em!("/catalogs/{id}/resources/{resource_id}") => A_READ;
        GET em!("/catalogs/{id}/resources/{resource_id}/roles") => A_READ;
        GET em!("/catalogs/{id}/resources/{resource_id}/scopes") => A_READ;
        GET em!("/catalogs/{id}/resourceRoles") => A_READ;
        GET em!("/catalogs/{id}/resourceScopes") => A_READ;

        GET em!("/catalogs/{id}/customWorkflowExtensions") => A_READ;
        POST em!("/catalogs/{id}/customWorkflowExtensions") => admins(201), |_, r| json!({"@odata.type": "#microsoft.graph.accessPackageAssignmentRequestWorkflowExtension",
            "displayName": format!("Matrix {r}"), "endpointConfiguration": {"@odata.type": "#microsoft.graph.httpRequestEndpoint", "targetUrl": "https://hooks.example/matrix"}});
        GET em!("/catalogs/{id}/customWorkflowExtensions/{extension_id}") => A_READ;
        PUT em!("/catalogs/{id}/customWorkflowExtensions/{extension_id}") => admins(200), |_, _| json!({"@odata.type": "#microsoft.graph.accessPackageAssignmentRequestWorkflowExtension",
            "displayName": "Matrix check", "endpointConfiguration": {"@odata.type": "#microsoft.graph.httpRequestEndpoint", "targetUrl": "https://hooks.example/check"}});
        DELETE em!("/catalogs/{id}/customWorkflowExtensions/{extension_id}") => admins(404);

        GET em!("/resourceRequests") => EM_READ;
        POST em!("/resourceRequests") => admins(409), |f, _| json!({"requestType": "adminAdd", "catalog": {"id": f.catalog},
            "resource": {"originId": f.group, "originSystem": "AadGroup"}});
        GET em!("/resourceRequests/{id}") => A_READ;

        GET em!("/accessPackages") => EM_READ;
        POST em!("/accessPackages") => admins(201), |f, r| json!({"displayName": format!("Matrix {r}"), "catalog": {"id": f.catalog}});
        GET em!("/accessPackages/{id}") => A_READ;
        PATCH em!("/accessPackages/{id}") => admins(204), |_, _| json!({"description": "Tango"});
        DELETE em!("/accessPackages/{id}") => admins(409);
        GET em!("/accessPackages/{id}/catalog") => A_READ;
        GET em!("/accessPackages/{id}/resourceRoleScopes") => A_READ;
        POST em!("/accessPackages/{id}/resourceRoleScopes") => admins(409), |f, _| json!({"role": {"originId": format!("Member_{}", f.group)}});
        GET em!("/accessPackages/{id}/resourceRoleScopes/{role_scope_id}") => A_READ;
        DELETE em!("/accessPackages/{id}/resourceRoleScopes/{role_scope_id}") => admins(404);
        GET em!("/accessPackages/{id}/assignmentPolicies") => A_READ;
        GET em!("/accessPackages/{id}/incompatibleAccessPackages") => A_READ;
        POST em!("/accessPackages/{id}/incompatibleAccessPackages/$ref") => admins(204), |f, _| reference("identityGovernance/entitlementManagement/accessPackages", &f.package2);
        DELETE em!("/accessPackages/{id}/incompatibleAccessPackages/{other_id}/$ref") => admins(404);
        GET em!("/accessPackages/{id}/incompatibleGroups") => A_READ;
        POST em!("/accessPackages/{id}/incompatibleGroups/$ref") => admins(204), |f, _| reference("groups", &f.other_group);
        DELETE em!("/accessPackages/{id}/incompatibleGroups/{group_id}/$ref") => admins(404);
        GET em!("/accessPackages/{id}/accessPackagesIncompatibleWith") => A_READ;
        GET em!("/accessPackages/filterByCurrentUser(on='allowedRequestor')") => SELF;
        POST em!("/accessPackages/{id}/getApplicablePolicyRequirements") => SELF;

        GET em!("/assignmentRequests") => EM_READ;
        POST em!("/assignmentRequests") => [401, 403, 403, 403, 403, 403, 403, 409, 409, 403], |f, _| json!({"requestType": "adminAdd",
            "assignment": {"accessPackageId": f.package, "assignmentPolicyId": f.policy, "targetId": f.holder}});
        GET em!("/assignmentRequests/filterByCurrentUser(on='target')") => SELF;
        GET em!("/assignmentRequests/filterByCurrentUser(on='createdBy')") => SELF;
        GET em!("/assignmentRequests/filterByCurrentUser(on='approver')") => SELF;
        GET em!("/assignmentRequests/{id}") => A_PRIVATE;
        DELETE em!("/assignmentRequests/{id}") => admins(409);
        POST em!("/assignmentRequests/{id}/cancel") => [401, 404, 404, 404, 404, 403, 404, 409, 409, 403];
        POST em!("/assignmentRequests/{id}/reprocess") => admins(409);
        // Ana's request waits for nothing: those who may answer for the catalog hear so (409).
        POST em!("/assignmentRequests/{id}/resume") => [401, 403, 403, 403, 404, 404, 404, 409, 409, 403],
            |_, _| json!({"data": {"customExtensionStageInstanceId": Uuid::new_v4()}});

        GET em!("/accessPackageAssignmentApprovals/filterByCurrentUser(on='approver')") => SELF;
        GET em!("/accessPackageAssignmentApprovals/{id}") => A_PRIVATE;
        GET em!("/accessPackageAssignmentApprovals/{id}/stages") => A_PRIVATE;
        GET em!("/accessPackageAssignmentApprovals/{id}/stages/{stage_id}") => A_PRIVATE;
        PATCH em!("/accessPackageAssignmentApprovals/{id}/stages/{stage_id}") => [401, 404, 404, 404, 404, 403, 404, 403, 403, 403],
            |_, _| json!({"reviewResult": "Approve", "justification": "ok"});

        GET em!("/assignments") => EM_READ;
        GET em!("/assignments/filterByCurrentUser(on='target')") => SELF;
        GET em!("/assignments/filterByCurrentUser(on='createdBy')") => SELF;
        GET em!("/assignments/{id}") => A_PRIVATE;
        POST em!("/assignments/{id}/reprocess") => admins(202);

        GET em!("/assignmentPolicies") => EM_READ;
        POST em!("/assignmentPolicies") => admins(201), |f, r| json!({"displayName": format!("Matrix {r}"), "accessPackage": {"id": f.package2},
            "allowedTargetScope": "specificConnectedOrganizationUsers",
            "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.connectedOrganizationMembers", "connectedOrganizationId": f.org}]});
        GET em!("/assignmentPolicies/{id}") => A_READ;
        PUT em!("/assignmentPolicies/{id}") => admins(200), |f, _| f.policy_body.clone();
        DELETE em!("/assignmentPolicies/{id}") => admins(409);

        GET em!("/settings") => EM_READ;
        PATCH em!("/settings") => admins(204), |_, _| json!({});

        GET "/v1.0/users" => DIR_READ;
        POST "/v1.0/users" => global(201), |_, r| json!({"displayName": format!("Matrix {r}"), "mail": format!("matrix{r}@contoso.example")});
        GET "/v1.0/users/{id}" => DIR_READ;
        PATCH "/v1.0/users/{id}" => global(204), |_, _| json!({"displayName": "Megan Bowen"});
        DELETE "/v1.0/users/{id}" => global(404);
        GET "/v1.0/users/{id}/manager" => DIR_READ;
        PUT "/v1.0/users/{id}/manager/$ref" => global(204), |f, _| reference("users", &f.member_sponsor);
        DELETE "/v1.0/users/{id}/manager/$ref" => global(404);
        GET "/v1.0/groups" => DIR_READ;
        POST "/v1.0/groups" => global(201), |_, r| json!({"displayName": format!("Matrix {r}")});
        GET "/v1.0/groups/{id}" => DIR_READ;
        PATCH "/v1.0/groups/{id}" => global(204), |_, _| json!({"description": "Team"});
        DELETE "/v1.0/groups/{id}" => global(404);
        GET "/v1.0/groups/{id}/members" => DIR_READ;
        POST "/v1.0/groups/{id}/members/$ref" => global(204), |f, _| reference("users", &f.member_sponsor);
        DELETE "/v1.0/groups/{id}/members/{member_id}/$ref" => global(404);
        GET "/v1.0/directoryObjects/{id}" => DIR_READ;
        GET "/v1.0/me" => SELF;

        GET "/v1.0/roleManagement/entitlementManagement/roleAssignments" => EM_READ;
        POST "/v1.0/roleManagement/entitlementManagement/roleAssignments" => admins(201), |f, r| json!({
            "roleDefinitionId": READER_ROLE, "principalId": f.spare[r], "directoryScopeId": "/",
            "appScopeId": format!("/AccessPackageCatalog/{}", f.catalog)});
        GET "/v1.0/roleManagement/entitlementManagement/roleAssignments/{id}" => A_READ;
        DELETE "/v1.0/roleManagement/entitlementManagement/roleAssignments/{id}" => admins(404);

        GET "/v1.0/gatehouse/auditRecords" => AUDIT;

        // Connections: administrators configure them; catalog owners see them (not their
        // credentials) to pick a target's groups. The fixture's target does not answer (409).
        GET "/v1.0/gatehouse/connections" => CONNECTION_READ;
        POST "/v1.0/gatehouse/connections" => admins(201), |_, r| json!({"displayName": format!("Matrix {r}"), "kind": "webhook",
            "webhook": {"grantUrl": "http://127.0.0.1:9/grant", "revokeUrl": "http://127.0.0.1:9/revoke", "roles": ["Member"]}});
        GET "/v1.0/gatehouse/connections/{id}" => CONNECTION_READ;
        PATCH "/v1.0/gatehouse/connections/{id}" => admins(204), |_, _| json!({"description": "The wiki"});
        DELETE "/v1.0/gatehouse/connections/{id}" => admins(404);
        POST "/v1.0/gatehouse/connections/{id}/test" => admins(200);
        GET "/v1.0/gatehouse/connections/{id}/groups" => [401, 403, 403, 403, 409, 403, 409, 409, 409, 409];
        POST "/v1.0/gatehouse/connections/{id}/reconcile" => admins(202), |_, _| json!({"fix": false});
        GET "/v1.0/gatehouse/connections/{id}/reconciliations" => AUDIT;
        GET "/v1.0/gatehouse/reconciliations/{id}" => AUDIT;

        // My Access. Package A's policy admits Fabrikam's guests, none of these callers: its
        // link says "not available to you" (403) and creates nothing.
        GET "/assets/{file}" => OPEN;
        GET "/myaccess" => PAGE;
        // The admin portal: the same permission as the list in the API.
        GET "/admin/connectedOrganizations" => [303, 403, 403, 403, 200, 200, 200, 200, 200, 200];
        GET "/admin/catalogs" => [303, 403, 403, 403, 200, 200, 200, 200, 200, 200];
        GET "/admin/connectedOrganizations/{id}" => [303, 403, 403, 403, 200, 200, 200, 200, 200, 200];
        // Catalog pages: creating needs the catalog creator role; catalog A's page, what
        // reading A needs; its forms, managing A. Empty forms are refused next to their field.
        GET "/admin/catalogs/new" => [303, 403, 403, 403, 403, 403, 200, 200, 200, 403];
        POST "/admin/catalogs/new" => [303, 403, 403, 403, 403, 403, 422, 422, 422, 403];
        GET "/admin/catalogs/{id}" => [303, 403, 403, 403, 403, 200, 403, 200, 200, 200];
        POST "/admin/catalogs/{id}/roles" => admin_page(422);
        POST "/admin/catalogs/{id}/roles/remove" => admin_page(404);
        GET "/admin/catalogs/{id}/resources/add" => admin_page(200);
        POST "/admin/catalogs/{id}/resources/add" => admin_page(422);
        // Packages: the list as the API's; the wizard for anyone who may change a catalog (it
        // offers the catalogs they may create packages in); package A's page as reading A;
        // its forms as changing A. Empty forms are refused next to their field or name nothing.
        GET "/admin/accessPackages" => [303, 403, 403, 403, 200, 200, 200, 200, 200, 200];
        GET "/admin/accessPackages/new" => [303, 403, 403, 403, 200, 200, 200, 200, 200, 403];
        POST "/admin/accessPackages/new" => [303, 403, 403, 403, 200, 200, 200, 200, 200, 403];
        GET "/admin/accessPackages/{id}" => [303, 403, 403, 403, 403, 200, 403, 200, 200, 200];
        POST "/admin/accessPackages/{id}/properties" => admin_page(422);
        POST "/admin/accessPackages/{id}/assignments" => admin_page(422);
        POST "/admin/accessPackages/{id}/assignments/remove" => admin_page(404);
        POST "/admin/accessPackages/{id}/requests/reprocess" => admin_page(404);
        POST "/admin/accessPackages/{id}/policies/delete" => admin_page(404);
        POST "/admin/accessPackages/{id}/incompatible" => admin_page(400);
        GET "/admin/accessPackages/{id}/policies/new" => admin_page(200);
        POST "/admin/accessPackages/{id}/policies/new" => admin_page(200);
        GET "/admin/accessPackages/{id}/policies/{policy_id}/edit" => admin_page(200);
        POST "/admin/accessPackages/{id}/policies/{policy_id}/edit" => admin_page(200);
        // Connections: as the API's; the fixture's target does not answer, a test says so.
        GET "/admin/connections" => [303, 403, 403, 403, 200, 403, 200, 200, 200, 200];
        GET "/admin/connections/new" => admin_page(200);
        POST "/admin/connections/new" => admin_page(422);
        GET "/admin/connections/{id}" => [303, 403, 403, 403, 200, 403, 200, 200, 200, 200];
        GET "/admin/connections/{id}/edit" => admin_page(200);
        POST "/admin/connections/{id}/edit" => admin_page(422);
        POST "/admin/connections/{id}/test" => admin_page(200);
        POST "/admin/connections/{id}/reconcile" => admin_page(303);
        POST "/admin/connections/{id}/mode" => admin_page(400);
        POST "/admin/connections/{id}/delete" => admin_page(404);
        // Reports: anyone with an entitlement role (each sees their catalogs' assignments).
        GET "/admin/reports" => [303, 403, 403, 403, 200, 200, 200, 200, 200, 200];
        // The dashboard: tenant-wide counts, like the audit log.
        GET "/admin" => [303, 403, 403, 403, 403, 403, 403, 200, 200, 200];
        // The audit log: as the API's.
        GET "/admin/audit" => [303, 403, 403, 403, 403, 403, 403, 200, 200, 200];
        GET "/admin/audit/export" => [303, 403, 403, 403, 403, 403, 403, 200, 200, 200];
        // Settings: administrators only; an empty form is refused next to its field.
        GET "/admin/settings" => admin_page(200);
        POST "/admin/settings" => admin_page(422);
        // Editing Fabrikam: the filled-in tabs; deleting it: refused while its policy names it.
        GET "/admin/connectedOrganizations/{id}/edit" => admin_page(200);
        POST "/admin/connectedOrganizations/{id}/edit" => admin_page(200);
        GET "/admin/connectedOrganizations/{id}/delete" => admin_page(200);
        POST "/admin/connectedOrganizations/{id}/delete" => admin_page(409);
        // The wizard: an empty form shows its first tab.
        GET "/admin/connectedOrganizations/new" => admin_page(200);
        POST "/admin/connectedOrganizations/new" => admin_page(200);
        GET "/myaccess/packages/{id}" => [303, 403, 403, 403, 403, 403, 403, 403, 403, 403];
        POST "/myaccess/packages/{id}" => [303, 403, 403, 403, 403, 403, 403, 403, 403, 403];
        GET "/myaccess/requests" => PAGE;
        // Ana's delivered request: as through the API, its catalog's readers and the administrators see it.
        GET "/myaccess/requests/{id}" => [303, 404, 404, 404, 404, 200, 404, 200, 200, 200];
        POST "/myaccess/requests/{id}/cancel" => [303, 404, 404, 404, 404, 403, 404, 409, 409, 403];
        GET "/myaccess/access" => PAGE;
        // Ana's assignment: only she may extend or remove it.
        GET "/myaccess/access/{id}/extend" => PAGE_NOT_YOURS;
        POST "/myaccess/access/{id}/extend" => POST_NOT_YOURS;
        GET "/myaccess/access/{id}/remove" => PAGE_NOT_YOURS;
        POST "/myaccess/access/{id}/remove" => POST_NOT_YOURS;
        GET "/myaccess/approvals" => PAGE;
        // Bob approved Ana's request; nobody here is its approver.
        GET "/myaccess/approvals/{id}" => PAGE_NOT_YOURS;
        POST "/myaccess/approvals/{id}" => POST_NOT_YOURS;
    }
}

const OWNER_ROLE: &str = "ae79f266-94d4-4dab-b730-feca7e132178";
const READER_ROLE: &str = "44272f93-9762-48e8-af59-1b5351b1d6b3";
const ROLES_PATH: &str = "/v1.0/roleManagement/entitlementManagement/roleAssignments";

/// The objects the paths and bodies name, and one token per role (`None`: anonymous).
struct Fx {
    tokens: Vec<Option<String>>,
    org: String,
    catalog: String,
    group: String,
    other_group: String,
    package: String,
    package2: String,
    policy: String,
    policy_body: Value,
    resource: String,
    resource_request: String,
    role_scope: String,
    request: String,
    stage: String,
    assignment: String,
    holder: String,
    megan: String,
    member_sponsor: String,
    guest_sponsor: String,
    reader_assignment: String,
    connection: String,
    reconciliation: String,
    extension: String,
    /// One spare member per role, to be assigned catalog roles.
    spare: Vec<String>,
    /// Ids of catalog A's objects: outsiders must never see them.
    secret_a: Vec<String>,
    /// Ids of catalog B's objects: the reader of A must never see them.
    secret_b: Vec<String>,
}

async fn member(s: &TestServer, name: &str) -> (String, String) {
    let mail = format!("{}@contoso.example", name.to_lowercase().replace(' ', "."));
    let u = s.post("/v1.0/users", json!({"displayName": name, "mail": mail})).await.expect(201);
    let token = s.token_for(id(&u).parse().unwrap(), TokenScope::ReadWrite).await;
    (id(&u), token)
}

async fn fixture(s: &TestServer) -> Fx {
    let w = world(s).await;
    // Catalog A: Ana (Fabrikam) holds the package through a request Bob approved.
    let policy = org_policy(s, &w, &w.package, vec![stage("externalSponsors")]).await;
    let mut policy_body = policy.clone();
    for k in ["id", "createdDateTime", "modifiedDateTime", "@odata.context"] {
        policy_body.as_object_mut().unwrap().remove(k);
    }
    let request = submit(s, &w.ana, user_add(&w.package, &policy, "PO-123456")).await;
    let request = id(&request);
    let stages = s.get(&format!("{}/stages", approval_path(&request))).await.expect(200);
    let stage_id = id(&stages["value"][0]);
    decide(s, &w.bob, &request, &stage_id, "Approve").await.expect(204);
    s.run_workers().await;
    let assignment = s.get(&format!("{EM}/assignmentRequests/{request}?$expand=assignment")).await.expect(200);
    assert_eq!(assignment["state"], "delivered", "{assignment}");
    let assignment = id(&assignment["assignment"]);
    let package2 = package(s, &w, "Tango reviewers").await;
    let other_group = id(&s.post("/v1.0/groups", json!({"displayName": "Contractors"})).await.expect(201));
    let resources = s.get(&format!("{EM}/catalogs/{}/resources", w.catalog)).await.expect(200);
    let resource = id(&resources["value"][0]);
    let rr = s.get(&format!("{EM}/resourceRequests")).await.expect(200);
    let resource_request = id(&rr["value"][0]);
    let granted = s.get(&format!("{EM}/accessPackages/{}/resourceRoleScopes", w.package)).await.expect(200);
    let role_scope = id(&granted["value"][0]);
    s.put(&format!("/v1.0/users/{}/manager/$ref", w.megan.id), reference("users", &w.alex.id)).await.expect(204);

    // Catalog B: Megan's request for its package waits for Avery.
    let (avery, avery_token) = member(s, "Avery Approver").await;
    let catalog_b = id(&s.post(&format!("{EM}/catalogs"), json!({"displayName": "Finance"})).await.expect(201));
    let package_b = id(&s
        .post(&format!("{EM}/accessPackages"), json!({"displayName": "Ledger", "catalog": {"id": catalog_b}}))
        .await
        .expect(201));
    let policy_b = s.add_policy(&package_b, json!({"allowedTargetScope": "specificDirectoryUsers",
        "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.singleUser", "userId": w.megan.id}],
        "requestorSettings": {"enableTargetsToSelfAddAccess": true},
        "requestApprovalSettings": {"isApprovalRequiredForAdd": true, "stages": [{"durationBeforeAutomaticDenial": "P14D",
            "primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": avery}]}]}})).await;
    let pending = s
        .call(
            Method::POST,
            &format!("{EM}/assignmentRequests"),
            &w.megan.token,
            Some(json!({"requestType": "userAdd",
            "assignment": {"accessPackageId": package_b, "assignmentPolicyId": policy_b}})),
        )
        .await
        .expect(201);
    assert_eq!(pending["state"], "pendingApproval", "{pending}");

    // The people of the other columns.
    let northwind = id(&s
        .post(&format!("{EM}/connectedOrganizations"), json!({"displayName": "Northwind",
            "identitySources": [{"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": "northwind.example", "displayName": "n"}]}))
        .await
        .expect(201));
    let nia = s
        .post("/v1.0/users", json!({"displayName": "Nia", "mail": "nia@northwind.example", "userType": "Guest", "connectedOrganizationId": northwind}))
        .await
        .expect(201);
    let nia_token = s.token_for(id(&nia).parse().unwrap(), TokenScope::ReadWrite).await;
    let (_, pat_token) = member(s, "Pat Plain").await;
    let (olga, olga_token) = member(s, "Olga Owner").await;
    let (rita, rita_token) = member(s, "Rita Reader").await;
    let (cleo, cleo_token) = member(s, "Cleo Creator").await;
    let (ian, ian_token) = member(s, "Ian Governance").await;
    let system = Actor::system();
    s.app.grant_directory_role(&system, cleo.parse().unwrap(), DirectoryRole::CatalogCreator).await.unwrap();
    s.app
        .grant_directory_role(&system, ian.parse().unwrap(), DirectoryRole::IdentityGovernanceAdministrator)
        .await
        .unwrap();
    let assign = |role: &'static str, user: String, catalog: String| async move {
        let body = json!({"roleDefinitionId": role, "principalId": user, "appScopeId": format!("/AccessPackageCatalog/{catalog}")});
        id(&s.post(ROLES_PATH, body).await.expect(201))
    };
    assign(OWNER_ROLE, olga, catalog_b.clone()).await;
    let reader_assignment = assign(READER_ROLE, rita, w.catalog.clone()).await;
    let me = s.get("/v1.0/me").await.expect(200);
    let read_token = s.token_for(id(&me).parse().unwrap(), TokenScope::Read).await;
    let mut spare = Vec::new();
    for r in 0..ROLES.len() {
        spare.push(member(s, &format!("Spare {r}")).await.0);
    }
    let tokens = vec![
        None,
        Some(pat_token),
        Some(nia_token),
        Some(avery_token),
        Some(olga_token),
        Some(rita_token),
        Some(cleo_token),
        Some(ian_token),
        Some(s.admin_token.clone()),
        Some(read_token),
    ];
    let connection = s
        .post(
            "/v1.0/gatehouse/connections",
            json!({"displayName": "Matrix wiki", "kind": "scim",
            "scim": {"baseUrl": "http://127.0.0.1:9/v2", "bearerToken": "matrix-token"}}),
        )
        .await
        .expect(201);
    let connection = id(&connection);
    let run = s.post(&format!("/v1.0/gatehouse/connections/{connection}/reconcile"), json!({})).await.expect(202);
    let extension = s
        .post(&format!("{EM}/catalogs/{}/customWorkflowExtensions", w.catalog), json!({"@odata.type": "#microsoft.graph.accessPackageAssignmentRequestWorkflowExtension",
            "displayName": "Matrix SoD", "endpointConfiguration": {"@odata.type": "#microsoft.graph.httpRequestEndpoint", "targetUrl": "https://hooks.example/sod"}}))
        .await
        .expect(201);
    let extension = id(&extension);
    let policy_id = id(&policy);
    Fx {
        extension,
        connection,
        reconciliation: id(&run),
        tokens,
        org: w.org,
        secret_a: vec![
            w.catalog.clone(),
            w.package.clone(),
            package2.clone(),
            policy_id.clone(),
            request.clone(),
            assignment.clone(),
            resource.clone(),
            resource_request.clone(),
        ],
        secret_b: vec![catalog_b, package_b, policy_b, id(&pending)],
        catalog: w.catalog,
        group: w.group,
        other_group,
        package: w.package,
        package2,
        policy: policy_id,
        policy_body,
        resource,
        resource_request,
        role_scope,
        request,
        stage: stage_id,
        assignment,
        holder: w.ana.id,
        megan: w.megan.id,
        member_sponsor: w.alex.id,
        guest_sponsor: w.bob.id,
        reader_assignment,
        spare,
    }
}

/// The route's path with its parameters filled: real objects to read and change, and ids that
/// name nothing where a delete would otherwise remove what later calls need.
fn fill(method: &Method, template: &str, f: &Fx) -> String {
    let missing = Uuid::new_v4().to_string();
    let deleting = *method == Method::DELETE;
    let id = if template.starts_with(em!("/connectedOrganizations/"))
        || template.starts_with("/admin/connectedOrganizations/")
    {
        if deleting && !template.contains("Sponsors") {
            missing.clone()
        } else {
            f.org.clone()
        }
    } else if template.starts_with(em!("/catalogs/")) || template.starts_with("/admin/catalogs/") {
        f.catalog.clone()
    } else if template.starts_with(em!("/resourceRequests/")) {
        f.resource_request.clone()
    } else if template.starts_with(em!("/accessPackages/")) || template.starts_with("/admin/accessPackages/") {
        f.package.clone()
    } else if template.starts_with(em!("/assignmentRequests/"))
        || template.starts_with(em!("/accessPackageAssignmentApprovals/"))
    {
        f.request.clone()
    } else if template.starts_with(em!("/assignments/")) {
        f.assignment.clone()
    } else if template.starts_with(em!("/assignmentPolicies/")) {
        f.policy.clone()
    } else if template.starts_with("/myaccess/packages/") {
        f.package.clone()
    } else if template.starts_with("/myaccess/requests/") || template.starts_with("/myaccess/approvals/") {
        f.request.clone()
    } else if template.starts_with("/myaccess/access/") {
        f.assignment.clone()
    } else if template.starts_with("/v1.0/users/") || template.starts_with("/v1.0/directoryObjects/") {
        if deleting {
            missing.clone()
        } else {
            f.megan.clone()
        }
    } else if template.starts_with("/v1.0/groups/") {
        if deleting && !template.contains("/members/") {
            missing.clone()
        } else {
            f.group.clone()
        }
    } else if template.starts_with("/v1.0/gatehouse/connections/") || template.starts_with("/admin/connections/") {
        if deleting || template.ends_with("/delete") {
            missing.clone()
        } else {
            f.connection.clone()
        }
    } else if template.starts_with("/v1.0/gatehouse/reconciliations/") {
        f.reconciliation.clone()
    } else if template.starts_with(ROLES_PATH) {
        if deleting {
            // Well-formed and in catalog A, but held by nobody.
            format!("{}_{missing}_{OWNER_ROLE}", f.catalog)
        } else {
            f.reader_assignment.clone()
        }
    } else {
        missing.clone()
    };
    let role_scope =
        if deleting { format!("{}_{missing}", f.role_scope.split('_').next().unwrap()) } else { f.role_scope.clone() };
    template
        .replace("{id}", &id)
        .replace("{resource_id}", &f.resource)
        .replace("{role_scope_id}", &role_scope)
        .replace("{stage_id}", &f.stage)
        .replace("{extension_id}", if deleting { &missing } else { &f.extension })
        .replace("{policy_id}", &f.policy)
        .replace("{user_id}", &missing)
        .replace("{other_id}", &missing)
        .replace("{group_id}", &missing)
        .replace("{member_id}", &missing)
}

async fn authorization_matrix(s: TestServer) {
    let f = fixture(&s).await;
    let table = table();
    let specs = routes::specs();
    let key = |m: &Method, p: &str| format!("{m} {p}");
    let missing: Vec<String> = specs
        .iter()
        .filter(|r| !table.iter().any(|row| row.method == r.method && row.path == r.path))
        .map(|r| key(&r.method, r.path))
        .collect();
    assert!(missing.is_empty(), "routes without a row in the authorization matrix: {missing:#?}");
    let stale: Vec<String> = table
        .iter()
        .filter(|row| !specs.iter().any(|r| row.method == r.method && row.path == r.path))
        .map(|row| key(&row.method, row.path))
        .collect();
    assert!(stale.is_empty(), "matrix rows for routes that no longer exist: {stale:#?}");

    // Pages answer a signed-out visitor with a redirect to sign-in: see it, do not follow it.
    let pages = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut failures = Vec::new();
    for row in &table {
        let mut open_statuses = Vec::new();
        for (r, token) in f.tokens.iter().enumerate() {
            let path = fill(&row.method, row.path, &f);
            let body = row.body.map(|b| ("application/json", serde_json::to_vec(&b(&f, r)).unwrap()));
            let before = s.audit_count().await;
            let page = specs.iter().any(|r| r.page && r.method == row.method && r.path == row.path);
            let reply = if page {
                let mut req = pages.request(row.method.clone(), s.url(&path));
                if let Some(t) = token {
                    req = req.bearer_auth(t);
                }
                if let Some((content_type, bytes)) = body {
                    req = req.header("content-type", content_type).body(bytes);
                }
                s.send(req).await
            } else {
                s.raw(row.method.clone(), &path, token.as_deref(), body).await
            };
            let got = reply.status.as_u16();
            let who = ROLES[r];
            if row.expect == OPEN {
                open_statuses.push(got);
                if got >= 500 {
                    failures.push(format!("{} {} as {who}: open route answered {got}", row.method, row.path));
                }
                continue;
            }
            if got != row.expect[r] {
                failures.push(format!(
                    "{} {} as {who}: expected {}, got {got} {}",
                    row.method, row.path, row.expect[r], reply.body
                ));
            }
            if got >= 400 && s.audit_count().await != before {
                failures.push(format!(
                    "{} {} as {who}: refused with {got}, yet it wrote audit records",
                    row.method, row.path
                ));
            }
            if reply.status.is_success() {
                let text = reply.body.to_string();
                let secrets = if OUTSIDERS.contains(&r) {
                    &f.secret_a
                } else if r == 5 {
                    &f.secret_b
                } else {
                    &vec![]
                };
                for secret in secrets {
                    if text.contains(secret.as_str()) {
                        failures.push(format!(
                            "{} {} as {who}: the answer shows '{secret}' of a catalog they hold no role in",
                            row.method, row.path
                        ));
                    }
                }
            }
        }
        // Signed in or not, an open route answers alike.
        if row.expect == OPEN && open_statuses.windows(2).any(|w| w[0] != w[1]) {
            failures.push(format!(
                "{} {}: open route answered differently per caller: {open_statuses:?}",
                row.method, row.path
            ));
        }
    }
    println!(
        "authorization matrix: {} routes x {} roles = {} calls",
        table.len(),
        ROLES.len(),
        table.len() * ROLES.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} matrix cells failed:\n{}",
        failures.len(),
        table.len() * ROLES.len(),
        failures.join("\n")
    );
}

both_backends!(authorization_matrix);
