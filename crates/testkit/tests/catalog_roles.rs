//! Catalog roles at work, on both backends: a catalog creator owns what they create and runs it
//! through the API, the roles they hand out there do what their names say and nothing in
//! another catalog, lists never show other catalogs' objects, refusals write nothing; and a
//! guest who sponsors a connected organization sees its guests and no one else.

use gatehouse_app::Actor;
use gatehouse_domain::principal::{DirectoryRole, TokenScope};
use gatehouse_testkit::fixtures::partner::{id, ids, world};
use gatehouse_testkit::{both_backends, json, Reply, TestServer, EM};
use reqwest::Method;
use serde_json::Value;

const ROLES: &str = "/v1.0/roleManagement/entitlementManagement/roleAssignments";
const OWNER: &str = "ae79f266-94d4-4dab-b730-feca7e132178";
const READER: &str = "44272f93-9762-48e8-af59-1b5351b1d6b3";
const PACKAGE_MANAGER: &str = "7f480852-ebdc-47d4-87de-0d8498384a83";
const ASSIGNMENT_MANAGER: &str = "e2182095-804a-4656-ae11-64734e9b7ae5";

async fn member(s: &TestServer, name: &str) -> (String, String) {
    let mail = format!("{}@contoso.example", name.to_lowercase());
    let u = s.post("/v1.0/users", json!({"displayName": name, "mail": mail})).await.expect(201);
    let token = s.token_for(id(&u).parse().unwrap(), TokenScope::ReadWrite).await;
    (id(&u), token)
}

fn role(definition: &str, user: &str, catalog: &str) -> Value {
    json!({"roleDefinitionId": definition, "principalId": user, "directoryScopeId": "/",
           "appScopeId": format!("/AccessPackageCatalog/{catalog}")})
}

/// A call that must be refused with `status` and write nothing.
async fn refused(
    s: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    status: u16,
    needle: &str,
) {
    let before = s.audit_count().await;
    s.call(method, path, token, body).await.expect_error(status, needle);
    assert_eq!(s.audit_count().await, before, "{path} was refused, yet something was written");
}

async fn as_(s: &TestServer, token: &str, method: Method, path: &str, body: Option<Value>) -> Reply {
    s.call(method, path, token, body).await
}

async fn creators_run_their_own_catalogs(s: TestServer) {
    // The partner extranet is someone else's catalog, with a package.
    let w = world(&s).await;
    let (cleo, cleo_t) = member(&s, "Cleo").await;
    let (pam, pam_t) = member(&s, "Pam").await;
    let (asa, asa_t) = member(&s, "Asa").await;
    let (rae, rae_t) = member(&s, "Rae").await;
    s.app.grant_directory_role(&Actor::system(), cleo.parse().unwrap(), DirectoryRole::CatalogCreator).await.unwrap();
    let group = id(&s.post("/v1.0/groups", json!({"displayName": "Design"})).await.expect(201));

    // Cleo creates a catalog and owns it: the role assignment is listed and audited.
    let catalog =
        id(&as_(&s, &cleo_t, Method::POST, &format!("{EM}/catalogs"), Some(json!({"displayName": "Design"})))
            .await
            .expect(201));
    let mine = as_(&s, &cleo_t, Method::GET, ROLES, None).await.expect(200);
    assert_eq!(mine["value"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine["value"][0]["roleDefinitionId"], OWNER);
    assert_eq!(mine["value"][0]["principalId"], cleo.as_str());
    assert_eq!(mine["value"][0]["appScopeId"], format!("/AccessPackageCatalog/{catalog}"));
    let audit = s.get("/v1.0/gatehouse/auditRecords?$filter=activity eq 'roleAssignment.create'").await.expect(200);
    assert!(audit.to_string().contains(&catalog), "the owner grant is audited: {audit}");

    // As owner she adds a resource, a package and a policy, and hands out roles in her catalog.
    as_(
        &s,
        &cleo_t,
        Method::POST,
        &format!("{EM}/resourceRequests"),
        Some(json!({"requestType": "adminAdd",
        "catalog": {"id": catalog}, "resource": {"originId": group, "originSystem": "AadGroup"}})),
    )
    .await
    .expect(201);
    let package = id(&as_(
        &s,
        &cleo_t,
        Method::POST,
        &format!("{EM}/accessPackages"),
        Some(json!({"displayName": "Design tools", "catalog": {"id": catalog}})),
    )
    .await
    .expect(201));
    as_(
        &s,
        &cleo_t,
        Method::POST,
        &format!("{EM}/accessPackages/{package}/resourceRoleScopes"),
        Some(json!({"role": {"originId": format!("Member_{group}")}})),
    )
    .await
    .expect(201);
    let policy = id(&as_(
        &s,
        &cleo_t,
        Method::POST,
        &format!("{EM}/assignmentPolicies"),
        Some(json!({"displayName": "Staff",
        "accessPackage": {"id": package}, "allowedTargetScope": "allMemberUsers"})),
    )
    .await
    .expect(201));
    for (definition, user) in [(PACKAGE_MANAGER, &pam), (ASSIGNMENT_MANAGER, &asa), (READER, &rae)] {
        as_(&s, &cleo_t, Method::POST, ROLES, Some(role(definition, user, &catalog))).await.expect(201);
    }
    // Graph clients find a principal's roles with $filter.
    let rae_roles = format!("{ROLES}?$filter=principalId eq '{rae}'&$count=true");
    let found = as_(&s, &cleo_t, Method::GET, &rae_roles, None).await.expect(200);
    assert_eq!(
        (found["@odata.count"].as_i64(), found["value"][0]["roleDefinitionId"].as_str()),
        (Some(1), Some(READER))
    );
    as_(&s, &cleo_t, Method::GET, &format!("{ROLES}?$filter=startswith(appScopeId,'/')"), None)
        .await
        .expect_error(400, "filter on id, principalId");
    // Not twice, and never in a catalog she does not own.
    refused(&s, Method::POST, ROLES, &cleo_t, Some(role(READER, &rae, &catalog)), 409, "already holds").await;
    refused(&s, Method::POST, ROLES, &cleo_t, Some(role(READER, &rae, &w.catalog)), 403, "catalog owner").await;

    // Lists show her catalog's objects only; the extranet's are neither listed nor readable.
    for (path, hidden) in [
        (format!("{EM}/catalogs"), &w.catalog),
        (format!("{EM}/accessPackages"), &w.package),
        (format!("{EM}/accessPackages?$expand=catalog"), &w.catalog),
        (format!("{EM}/resourceRequests"), &w.catalog),
        (format!("{EM}/assignmentPolicies"), &w.package),
        (ROLES.to_owned(), &w.catalog),
    ] {
        let list = as_(&s, &cleo_t, Method::GET, &path, None).await.expect(200);
        assert!(!list.to_string().contains(hidden.as_str()), "{path} shows another catalog's object: {list}");
    }
    let listed = as_(&s, &cleo_t, Method::GET, &format!("{EM}/accessPackages"), None).await.expect(200);
    assert_eq!(ids(&listed), std::slice::from_ref(&package));
    refused(&s, Method::GET, &format!("{EM}/accessPackages/{}", w.package), &cleo_t, None, 403, "role in this catalog")
        .await;
    refused(
        &s,
        Method::PATCH,
        &format!("{EM}/accessPackages/{}", w.package),
        &cleo_t,
        Some(json!({"description": "x"})),
        403,
        "catalog owner",
    )
    .await;
    // Marking another catalog's package incompatible would let her probe it.
    refused(&s, Method::POST, &format!("{EM}/accessPackages/{package}/incompatibleAccessPackages/$ref"), &cleo_t,
        Some(json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/identityGovernance/entitlementManagement/accessPackages/{}", w.package)})),
        403, "role in this catalog").await;

    // The access package manager manages packages and policies, not the catalog or its roles.
    as_(&s, &pam_t, Method::PATCH, &format!("{EM}/accessPackages/{package}"), Some(json!({"description": "Figma"})))
        .await
        .expect(204);
    as_(
        &s,
        &pam_t,
        Method::POST,
        &format!("{EM}/accessPackages"),
        Some(json!({"displayName": "Extra", "catalog": {"id": catalog}})),
    )
    .await
    .expect(201);
    refused(
        &s,
        Method::PATCH,
        &format!("{EM}/catalogs/{catalog}"),
        &pam_t,
        Some(json!({"description": "x"})),
        403,
        "catalog owner",
    )
    .await;
    refused(&s, Method::POST, ROLES, &pam_t, Some(role(READER, &pam, &catalog)), 403, "catalog owner").await;

    // The assignment manager assigns directly and sees those assignments, but edits no package.
    let assigned = as_(
        &s,
        &asa_t,
        Method::POST,
        &format!("{EM}/assignmentRequests"),
        Some(json!({"requestType": "adminAdd",
        "assignment": {"accessPackageId": package, "assignmentPolicyId": policy, "targetId": rae}})),
    )
    .await
    .expect(201);
    s.run_workers().await;
    let listed =
        as_(&s, &asa_t, Method::GET, &format!("{EM}/assignments?$expand=accessPackage"), None).await.expect(200);
    assert_eq!(listed["value"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["value"][0]["accessPackage"]["id"], package.as_str());
    let requests = as_(&s, &asa_t, Method::GET, &format!("{EM}/assignmentRequests"), None).await.expect(200);
    assert_eq!(ids(&requests), [id(&assigned)]);
    refused(
        &s,
        Method::PATCH,
        &format!("{EM}/accessPackages/{package}"),
        &asa_t,
        Some(json!({"description": "x"})),
        403,
        "access package manager",
    )
    .await;
    // No direct assignment in the extranet.
    refused(
        &s,
        Method::POST,
        &format!("{EM}/assignmentRequests"),
        &asa_t,
        Some(json!({"requestType": "adminAdd",
        "assignment": {"accessPackageId": w.package, "assignmentPolicyId": policy, "targetId": rae}})),
        403,
        "adminAdd needs",
    )
    .await;

    // The reader reads everything in the catalog and changes nothing.
    as_(&s, &rae_t, Method::GET, &format!("{EM}/catalogs/{catalog}/resources"), None).await.expect(200);
    as_(&s, &rae_t, Method::GET, &format!("{EM}/assignmentPolicies/{policy}"), None).await.expect(200);
    refused(
        &s,
        Method::DELETE,
        &format!("{EM}/assignmentPolicies/{policy}"),
        &rae_t,
        None,
        403,
        "access package manager",
    )
    .await;

    // The owner takes a role back: audited, and it stops at once.
    let all = as_(&s, &cleo_t, Method::GET, ROLES, None).await.expect(200);
    let reader = all["value"].as_array().unwrap().iter().find(|a| a["principalId"] == rae.as_str()).unwrap();
    let path = format!("{ROLES}/{}", id(reader));
    let before = s.audit_count().await;
    as_(&s, &cleo_t, Method::DELETE, &path, None).await.expect(204);
    assert_eq!(s.audit_count().await, before + 1);
    as_(&s, &cleo_t, Method::GET, &path, None).await.expect_error(404, "not found");
    refused(
        &s,
        Method::GET,
        &format!("{EM}/assignmentPolicies/{policy}"),
        &rae_t,
        None,
        403,
        "entitlement-management role",
    )
    .await;
}

async fn sponsors_see_the_guests_of_their_organizations(s: TestServer) {
    let w = world(&s).await;
    // Bob, a Fabrikam guest, is its external sponsor: he sees Fabrikam's guests and himself.
    let users = s.call(Method::GET, "/v1.0/users", &w.bob.token, None).await.expect(200);
    let mut seen = ids(&users);
    seen.sort();
    let mut expected = vec![w.ana.id.clone(), w.bob.id.clone()];
    expected.sort();
    assert_eq!(seen, expected, "{users}");
    s.call(Method::GET, &format!("/v1.0/users/{}", w.ana.id), &w.bob.token, None).await.expect(200);
    // Members are no business of a partner's sponsor: as if they did not exist.
    s.call(Method::GET, &format!("/v1.0/users/{}", w.megan.id), &w.bob.token, None)
        .await
        .expect_error(404, "not found");
    // Ana sponsors nothing: guests do not read the directory.
    s.call(Method::GET, "/v1.0/users", &w.ana.token, None).await.expect_error(403, "member account");
    // Alex, the internal sponsor, is a member and reads the directory like any member.
    let all = s.call(Method::GET, "/v1.0/users", &w.alex.token, None).await.expect(200);
    assert!(ids(&all).contains(&w.megan.id));
}

both_backends!(creators_run_their_own_catalogs, sponsors_see_the_guests_of_their_organizations);
