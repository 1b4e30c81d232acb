//! The route table: every route's method, path, operation id, permission and summary, in one
//! list that builds the router, drives authorization and generates the OpenAPI document. A
//! route cannot exist without an entry here, so none can lack a permission.

use std::collections::HashMap;

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{on, MethodFilter, MethodRouter};
use gatehouse_domain::principal::Permission;

use crate::api::{
    approvals, assignments, audit, catalogs, clients, connected_organizations as orgs, directory, ops, packages,
    policies, requests, role_assignments, settings,
};
use crate::pages::{self, my_access};
use crate::sign_in::guest as sign_in_guest;
use crate::sign_in::handlers as sign_in;
use crate::sign_in::provider as sign_in_provider;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub operation_id: &'static str,
    pub permission: Permission,
    pub tag: &'static str,
    pub summary: &'static str,
    /// The success status.
    pub status: u16,
    /// A web page: a signed-out visitor is sent to sign-in and back, and refusals are pages.
    pub page: bool,
}

pub struct Route {
    pub spec: RouteSpec,
    pub handler: MethodRouter<AppState>,
}

fn handler<H: Handler<T, AppState>, T: 'static>(method: &Method, h: H) -> MethodRouter<AppState> {
    let filter = match *method {
        Method::GET => MethodFilter::GET,
        Method::POST => MethodFilter::POST,
        Method::PUT => MethodFilter::PUT,
        Method::PATCH => MethodFilter::PATCH,
        Method::DELETE => MethodFilter::DELETE,
        _ => unreachable!("the table only uses GET, POST, PUT, PATCH and DELETE"),
    };
    on(filter, h)
}

macro_rules! em {
    ($p:literal) => {
        concat!("/v1.0/identityGovernance/entitlementManagement", $p)
    };
}

macro_rules! table {
    ($name:ident, $page:literal, $( $method:ident $path:expr => $h:expr, $op:literal, $perm:ident, $status:literal, $tag:literal, $summary:literal; )*) => {
        fn $name() -> Vec<Route> {
            vec![$(
                Route {
                    spec: RouteSpec {
                        method: Method::$method, path: $path, operation_id: $op, permission: Permission::$perm,
                        tag: $tag, summary: $summary, status: $status, page: $page,
                    },
                    handler: handler(&Method::$method, $h),
                },
            )*]
        }
    };
}

/// Every route with its handler: the API and the pages.
pub fn table() -> Vec<Route> {
    let mut all = api_table();
    all.extend(page_table());
    all
}

// The pages: My Access (the requestor's and approver's portal) and its assets.
table! { page_table, true,
    GET "/assets/{file}" => pages::assets::serve, "asset", Anonymous, 200, "pages", "Stylesheet and scripts of the pages (content-hashed, cached)";
    GET "/myaccess" => my_access::packages::list, "myAccessPackages", Authenticated, 200, "pages", "My Access: the access packages you may request (?q= searches name and description)";
    GET "/myaccess/packages/{id}" => my_access::packages::show, "myAccessPackage", Authenticated, 200, "pages", "An access package's link: request it under a policy that admits you, or see why you cannot (?domain_hint= picks the sign-in)";
    POST "/myaccess/packages/{id}" => my_access::packages::submit, "myAccessRequestPackage", AuthenticatedWrite, 303, "pages", "Submit a request for the package (form)";
    GET "/myaccess/requests" => my_access::requests::list, "myAccessRequests", Authenticated, 200, "pages", "Request history: your requests and their status";
    GET "/myaccess/requests/{id}" => my_access::requests::show, "myAccessRequest", Authenticated, 200, "pages", "One request's status";
    POST "/myaccess/requests/{id}/cancel" => my_access::requests::cancel, "myAccessCancelRequest", AuthenticatedWrite, 303, "pages", "Cancel a request that is not delivered yet (form)";
    GET "/myaccess/access" => my_access::access::list, "myAccessAssignments", Authenticated, 200, "pages", "My access: the access packages you hold";
    GET "/myaccess/access/{id}/extend" => my_access::access::extend_form, "myAccessExtendForm", Authenticated, 200, "pages", "Ask for more time on an assignment";
    POST "/myaccess/access/{id}/extend" => my_access::access::extend, "myAccessExtend", AuthenticatedWrite, 303, "pages", "Submit an extension request (form)";
    GET "/myaccess/access/{id}/remove" => my_access::access::remove_form, "myAccessRemoveForm", Authenticated, 200, "pages", "Confirm giving up an assignment";
    POST "/myaccess/access/{id}/remove" => my_access::access::remove, "myAccessRemove", AuthenticatedWrite, 303, "pages", "Remove your own assignment (form)";
    GET "/myaccess/approvals" => my_access::approvals::list, "myAccessApprovals", Authenticated, 200, "pages", "Approvals: requests waiting for your decision, and your past decisions";
    GET "/myaccess/approvals/{id}" => my_access::approvals::show, "myAccessApproval", Authenticated, 200, "pages", "One request waiting for your decision";
    POST "/myaccess/approvals/{id}" => my_access::approvals::decide, "myAccessDecide", AuthenticatedWrite, 303, "pages", "Approve or deny (form: stage, decision, justification)";
}

table! { api_table, false,
    GET "/healthz" => ops::healthz, "healthz", Anonymous, 200, "operations", "Liveness probe";
    GET "/readyz" => ops::readyz, "readyz", Anonymous, 200, "operations", "Readiness probe: the database answers";
    GET "/metrics" => ops::metrics, "metrics", Anonymous, 200, "operations", "Prometheus metrics";
    GET "/openapi.json" => ops::openapi, "openapi", Anonymous, 200, "operations", "This OpenAPI document";
    GET "/" => sign_in::home, "home", Anonymous, 200, "signIn", "Who you are signed in as (303 to /signin when not signed in)";
    GET "/signin" => sign_in_guest::sign_in_page, "signInPage", Anonymous, 200, "signIn", "The ways to sign in: an email field (home-realm discovery; ?domain_hint=… from package links goes straight to an organization's own sign-in), and the host's provider for members";
    POST "/signin/email" => sign_in_guest::email, "signInByEmail", Anonymous, 200, "signIn", "Home-realm discovery (form: email, csrf, return_to): to the organization's own provider, or a one-time passcode by mail";
    POST "/signin/passcode" => sign_in_guest::passcode, "signInWithPasscode", Anonymous, 303, "signIn", "Type the mailed one-time passcode (form: code, csrf): starts a session";
    GET "/signin/link" => sign_in::bootstrap_link, "redeemSignInLink", Anonymous, 303, "signIn", "Use a one-time sign-in link (?code=…): starts a session";
    POST "/oauth2/token" => clients::token, "requestClientToken", Anonymous, 200, "signIn", "OAuth 2.0 client-credentials grant: an access token for an API client (form: grant_type=client_credentials, client_id/client_secret or HTTP Basic, optional scope)";
    GET "/gatehouse/servicePrincipals" => clients::list, "listServicePrincipals", DirectoryWrite, 200, "signIn", "API clients (global administrators)";
    POST "/gatehouse/servicePrincipals" => clients::create, "createServicePrincipal", DirectoryWrite, 201, "signIn", "Register an API client; the answer carries its secret (secretText), once";
    PATCH "/gatehouse/servicePrincipals/{id}" => clients::update, "updateServicePrincipal", DirectoryWrite, 204, "signIn", "Enable or disable an API client (accountEnabled); a disabled client's tokens stop at once";
    GET "/signin/host" => sign_in_provider::host, "signInAtHost", Anonymous, 303, "signIn", "Sign in at the host organization's identity provider (members)";
    GET "/signin/callback" => sign_in_provider::callback, "signInCallback", Anonymous, 303, "signIn", "Where identity providers send the browser back (code, state)";
    POST "/signout" => sign_in::sign_out, "signOut", Authenticated, 303, "signIn", "End this browser session (form with its csrf field)";
    GET "/gatehouse/sessions" => sign_in::list_sessions, "listSessions", Authenticated, 200, "signIn", "The caller's sign-in sessions, newest first";
    DELETE "/gatehouse/sessions/{id}" => sign_in::end_session, "endSession", AuthenticatedWrite, 204, "signIn", "End one of the caller's sessions (directory administrators: anyone's)";

    GET em!("/connectedOrganizations") => orgs::list, "listConnectedOrganizations", EntitlementRead, 200, "connectedOrganizations", "List connected organizations ($filter, $search by name or domain)";
    GET "/gatehouse/connectedOrganizations/lookupDomain" => orgs::lookup_domain, "lookupConnectedOrganizationDomain", EntitlementWrite, 200, "connectedOrganizations", "What adding an organization by this domain would use (?domain=…[&issuer=…]): an OpenID provider that answers, or one-time passcodes; nothing is stored";
    POST em!("/connectedOrganizations") => orgs::create, "createConnectedOrganization", EntitlementWrite, 201, "connectedOrganizations", "Create a connected organization";
    GET em!("/connectedOrganizations/{id}") => orgs::get, "getConnectedOrganization", EntitlementRead, 200, "connectedOrganizations", "Get a connected organization";
    PATCH em!("/connectedOrganizations/{id}") => orgs::update, "updateConnectedOrganization", EntitlementWrite, 202, "connectedOrganizations", "Update a connected organization (202 with the entity, as in Graph)";
    DELETE em!("/connectedOrganizations/{id}") => orgs::delete, "deleteConnectedOrganization", EntitlementWrite, 204, "connectedOrganizations", "Delete a connected organization";
    GET em!("/connectedOrganizations/{id}/internalSponsors") => orgs::list_sponsors::<false>, "listInternalSponsors", EntitlementRead, 200, "connectedOrganizations", "List internal sponsors";
    POST em!("/connectedOrganizations/{id}/internalSponsors/$ref") => orgs::add_sponsor::<false>, "addInternalSponsor", EntitlementWrite, 204, "connectedOrganizations", "Add an internal sponsor (a member)";
    DELETE em!("/connectedOrganizations/{id}/internalSponsors/{user_id}/$ref") => orgs::remove_sponsor::<false>, "removeInternalSponsor", EntitlementWrite, 204, "connectedOrganizations", "Remove an internal sponsor";
    GET em!("/connectedOrganizations/{id}/externalSponsors") => orgs::list_sponsors::<true>, "listExternalSponsors", EntitlementRead, 200, "connectedOrganizations", "List external sponsors";
    POST em!("/connectedOrganizations/{id}/externalSponsors/$ref") => orgs::add_sponsor::<true>, "addExternalSponsor", EntitlementWrite, 204, "connectedOrganizations", "Add an external sponsor (a guest)";
    DELETE em!("/connectedOrganizations/{id}/externalSponsors/{user_id}/$ref") => orgs::remove_sponsor::<true>, "removeExternalSponsor", EntitlementWrite, 204, "connectedOrganizations", "Remove an external sponsor";

    GET em!("/catalogs") => catalogs::list, "listCatalogs", EntitlementRead, 200, "catalogs", "List catalogs";
    POST em!("/catalogs") => catalogs::create, "createCatalog", CatalogCreate, 201, "catalogs", "Create a catalog";
    GET em!("/catalogs/{id}") => catalogs::get, "getCatalog", EntitlementRead, 200, "catalogs", "Get a catalog";
    PATCH em!("/catalogs/{id}") => catalogs::update, "updateCatalog", CatalogWrite, 204, "catalogs", "Update a catalog";
    DELETE em!("/catalogs/{id}") => catalogs::delete, "deleteCatalog", CatalogWrite, 204, "catalogs", "Delete a catalog (409 while it holds packages)";
    GET em!("/catalogs/{id}/accessPackages") => catalogs::list_packages, "listCatalogAccessPackages", EntitlementRead, 200, "catalogs", "List the catalog's access packages";
    GET em!("/catalogs/{id}/resources") => catalogs::list_resources, "listCatalogResources", EntitlementRead, 200, "catalogs", "List the catalog's resources ($expand=roles,scopes)";
    GET em!("/catalogs/{id}/resources/{resource_id}") => catalogs::get_resource, "getCatalogResource", EntitlementRead, 200, "catalogs", "Get a resource of the catalog";
    GET em!("/catalogs/{id}/resources/{resource_id}/roles") => catalogs::list_roles_of_resource, "listResourceRolesOfResource", EntitlementRead, 200, "catalogs", "List a resource's roles";
    GET em!("/catalogs/{id}/resources/{resource_id}/scopes") => catalogs::list_scopes_of_resource, "listResourceScopesOfResource", EntitlementRead, 200, "catalogs", "List a resource's scopes";
    GET em!("/catalogs/{id}/resourceRoles") => catalogs::list_resource_roles, "listCatalogResourceRoles", EntitlementRead, 200, "catalogs", "List resource roles in the catalog ($filter on originSystem, resource/id)";
    GET em!("/catalogs/{id}/resourceScopes") => catalogs::list_resource_scopes, "listCatalogResourceScopes", EntitlementRead, 200, "catalogs", "List resource scopes in the catalog";

    GET em!("/resourceRequests") => catalogs::list_requests, "listResourceRequests", EntitlementRead, 200, "resourceRequests", "List resource requests";
    POST em!("/resourceRequests") => catalogs::create_request, "createResourceRequest", CatalogWrite, 201, "resourceRequests", "Add, refresh or remove a resource in a catalog";
    GET em!("/resourceRequests/{id}") => catalogs::get_request, "getResourceRequest", EntitlementRead, 200, "resourceRequests", "Get a resource request";

    GET em!("/accessPackages") => packages::list, "listAccessPackages", EntitlementRead, 200, "accessPackages", "List access packages";
    POST em!("/accessPackages") => packages::create, "createAccessPackage", CatalogWrite, 201, "accessPackages", "Create an access package";
    GET em!("/accessPackages/{id}") => packages::get, "getAccessPackage", EntitlementRead, 200, "accessPackages", "Get an access package";
    PATCH em!("/accessPackages/{id}") => packages::update, "updateAccessPackage", CatalogWrite, 204, "accessPackages", "Update an access package";
    DELETE em!("/accessPackages/{id}") => packages::delete, "deleteAccessPackage", CatalogWrite, 204, "accessPackages", "Delete an access package (409 while assigned)";
    GET em!("/accessPackages/{id}/catalog") => packages::get_catalog, "getAccessPackageCatalog", EntitlementRead, 200, "accessPackages", "The package's catalog";
    GET em!("/accessPackages/{id}/resourceRoleScopes") => packages::list_role_scopes, "listResourceRoleScopes", EntitlementRead, 200, "accessPackages", "List the resource roles the package grants";
    POST em!("/accessPackages/{id}/resourceRoleScopes") => packages::add_role_scope, "createResourceRoleScope", CatalogWrite, 201, "accessPackages", "Grant a resource role through the package";
    GET em!("/accessPackages/{id}/resourceRoleScopes/{role_scope_id}") => packages::get_role_scope, "getResourceRoleScope", EntitlementRead, 200, "accessPackages", "Get a granted resource role";
    DELETE em!("/accessPackages/{id}/resourceRoleScopes/{role_scope_id}") => packages::remove_role_scope, "deleteResourceRoleScope", CatalogWrite, 204, "accessPackages", "Stop granting a resource role";
    GET em!("/accessPackages/{id}/assignmentPolicies") => packages::list_policies, "listAccessPackageAssignmentPolicies", EntitlementRead, 200, "accessPackages", "List the package's policies";
    GET em!("/accessPackages/{id}/incompatibleAccessPackages") => packages::list_incompatible_packages, "listIncompatibleAccessPackages", EntitlementRead, 200, "accessPackages", "List incompatible packages";
    POST em!("/accessPackages/{id}/incompatibleAccessPackages/$ref") => packages::add_incompatible_package, "addIncompatibleAccessPackage", CatalogWrite, 204, "accessPackages", "Mark a package incompatible";
    DELETE em!("/accessPackages/{id}/incompatibleAccessPackages/{other_id}/$ref") => packages::remove_incompatible_package, "removeIncompatibleAccessPackage", CatalogWrite, 204, "accessPackages", "Remove an incompatible package";
    GET em!("/accessPackages/{id}/incompatibleGroups") => packages::list_incompatible_groups, "listIncompatibleGroups", EntitlementRead, 200, "accessPackages", "List incompatible groups";
    POST em!("/accessPackages/{id}/incompatibleGroups/$ref") => packages::add_incompatible_group, "addIncompatibleGroup", CatalogWrite, 204, "accessPackages", "Mark a group incompatible";
    DELETE em!("/accessPackages/{id}/incompatibleGroups/{group_id}/$ref") => packages::remove_incompatible_group, "removeIncompatibleGroup", CatalogWrite, 204, "accessPackages", "Remove an incompatible group";
    GET em!("/accessPackages/{id}/accessPackagesIncompatibleWith") => packages::list_packages_incompatible_with, "listAccessPackagesIncompatibleWith", EntitlementRead, 200, "accessPackages", "Packages that name this one incompatible";

    GET em!("/accessPackages/filterByCurrentUser(on='allowedRequestor')") => requests::requestable_packages, "filterAccessPackagesByCurrentUser", Authenticated, 200, "myAccess", "Access packages the caller may request (hidden ones are never listed)";
    POST em!("/accessPackages/{id}/getApplicablePolicyRequirements") => requests::applicable_policy_requirements, "getApplicablePolicyRequirements", Authenticated, 200, "myAccess", "The policies under which the caller may request the package, with their questions";

    GET em!("/assignmentRequests") => requests::list, "listAssignmentRequests", EntitlementRead, 200, "assignmentRequests", "List assignment requests ($filter on state, requestType, accessPackage/id, requestor/objectId, createdDateTime)";
    POST em!("/assignmentRequests") => requests::create, "createAssignmentRequest", AuthenticatedWrite, 201, "assignmentRequests", "Request, assign or remove an access package (the requestType decides who may)";
    GET em!("/assignmentRequests/filterByCurrentUser(on='target')") => requests::list_targeting_me, "filterAssignmentRequestsByTarget", Authenticated, 200, "assignmentRequests", "Requests for the caller";
    GET em!("/assignmentRequests/filterByCurrentUser(on='createdBy')") => requests::list_created_by_me, "filterAssignmentRequestsByCreator", Authenticated, 200, "assignmentRequests", "Requests the caller made";
    GET em!("/assignmentRequests/filterByCurrentUser(on='approver')") => requests::list_awaiting_me, "filterAssignmentRequestsByApprover", Authenticated, 200, "assignmentRequests", "Requests awaiting the caller's decision";
    GET em!("/assignmentRequests/{id}") => requests::get, "getAssignmentRequest", Authenticated, 200, "assignmentRequests", "Get a request (administrators, its target, requestor and approvers)";
    DELETE em!("/assignmentRequests/{id}") => requests::delete, "deleteAssignmentRequest", CatalogWrite, 204, "assignmentRequests", "Delete a closed request's record (409 while open or while the assignment it delivered is active; the audit log keeps it)";
    POST em!("/assignmentRequests/{id}/cancel") => requests::cancel, "cancelAssignmentRequest", AuthenticatedWrite, 204, "assignmentRequests", "Cancel a request before delivery starts";
    POST em!("/assignmentRequests/{id}/reprocess") => requests::reprocess, "reprocessAssignmentRequest", AuthenticatedWrite, 202, "assignmentRequests", "Retry a failed delivery (administrators)";

    GET em!("/accessPackageAssignmentApprovals/filterByCurrentUser(on='approver')") => approvals::list_awaiting_me, "filterApprovalsByApprover", Authenticated, 200, "approvals", "Approvals awaiting the caller's decision";
    GET em!("/accessPackageAssignmentApprovals/{id}") => approvals::get, "getApproval", Authenticated, 200, "approvals", "Get the approval of a request (id = request id)";
    GET em!("/accessPackageAssignmentApprovals/{id}/stages") => approvals::list_stages, "listApprovalStages", Authenticated, 200, "approvals", "List an approval's stages";
    GET em!("/accessPackageAssignmentApprovals/{id}/stages/{stage_id}") => approvals::get_stage, "getApprovalStage", Authenticated, 200, "approvals", "Get an approval stage";
    PATCH em!("/accessPackageAssignmentApprovals/{id}/stages/{stage_id}") => approvals::decide_stage, "decideApprovalStage", AuthenticatedWrite, 204, "approvals", "Approve or deny a stage (reviewResult Approve or Deny)";

    GET em!("/assignments") => assignments::list, "listAssignments", EntitlementRead, 200, "assignments", "List assignments ($filter on state, accessPackage/id, assignmentPolicy/id, target/objectId)";
    GET em!("/assignments/filterByCurrentUser(on='target')") => assignments::list_mine, "filterAssignmentsByTarget", Authenticated, 200, "assignments", "The caller's assignments";
    GET em!("/assignments/filterByCurrentUser(on='createdBy')") => assignments::list_created_by_me, "filterAssignmentsByCreator", Authenticated, 200, "assignments", "Assignments from requests the caller made";
    GET em!("/assignments/{id}") => assignments::get, "getAssignment", Authenticated, 200, "assignments", "Get an assignment (administrators and its target); also serves additionalAccess(accessPackageId='…',incompatibleAccessPackageId='…')";
    POST em!("/assignments/{id}/reprocess") => assignments::reprocess, "reprocessAssignment", AuthenticatedWrite, 202, "assignments", "Push the package's roles to the target again (administrators)";

    GET em!("/assignmentPolicies") => policies::list, "listAssignmentPolicies", EntitlementRead, 200, "assignmentPolicies", "List assignment policies";
    POST em!("/assignmentPolicies") => policies::create, "createAssignmentPolicy", CatalogWrite, 201, "assignmentPolicies", "Create an assignment policy";
    GET em!("/assignmentPolicies/{id}") => policies::get, "getAssignmentPolicy", EntitlementRead, 200, "assignmentPolicies", "Get an assignment policy ($expand=questions)";
    PUT em!("/assignmentPolicies/{id}") => policies::replace, "replaceAssignmentPolicy", CatalogWrite, 200, "assignmentPolicies", "Replace an assignment policy";
    DELETE em!("/assignmentPolicies/{id}") => policies::delete, "deleteAssignmentPolicy", CatalogWrite, 204, "assignmentPolicies", "Delete an assignment policy";

    GET em!("/settings") => settings::get, "getEntitlementManagementSettings", EntitlementRead, 200, "settings", "Get the entitlement-management settings";
    PATCH em!("/settings") => settings::update, "updateEntitlementManagementSettings", EntitlementWrite, 204, "settings", "Update the external user lifecycle settings";

    GET "/v1.0/users" => directory::list_users, "listUsers", Authenticated, 200, "directory", "List users (members: all; a guest sponsoring connected organizations: their guests)";
    POST "/v1.0/users" => directory::create_user, "createUser", DirectoryWrite, 201, "directory", "Create a user (member or guest)";
    GET "/v1.0/users/{id}" => directory::get_user, "getUser", Authenticated, 200, "directory", "Get a user (members: anyone; a guest sponsoring connected organizations: their guests)";
    PATCH "/v1.0/users/{id}" => directory::update_user, "updateUser", DirectoryWrite, 204, "directory", "Update a user";
    DELETE "/v1.0/users/{id}" => directory::delete_user, "deleteUser", DirectoryWrite, 204, "directory", "Delete a user";
    GET "/v1.0/users/{id}/manager" => directory::get_manager, "getUserManager", DirectoryRead, 200, "directory", "A user's manager";
    PUT "/v1.0/users/{id}/manager/$ref" => directory::set_manager, "setUserManager", DirectoryWrite, 204, "directory", "Set a user's manager (requestorManager approvers follow this chain)";
    DELETE "/v1.0/users/{id}/manager/$ref" => directory::remove_manager, "removeUserManager", DirectoryWrite, 204, "directory", "Remove a user's manager";
    GET "/v1.0/groups" => directory::list_groups, "listGroups", DirectoryRead, 200, "directory", "List groups";
    POST "/v1.0/groups" => directory::create_group, "createGroup", DirectoryWrite, 201, "directory", "Create a security group";
    GET "/v1.0/groups/{id}" => directory::get_group, "getGroup", DirectoryRead, 200, "directory", "Get a group";
    PATCH "/v1.0/groups/{id}" => directory::update_group, "updateGroup", DirectoryWrite, 204, "directory", "Update a group";
    DELETE "/v1.0/groups/{id}" => directory::delete_group, "deleteGroup", DirectoryWrite, 204, "directory", "Delete a group";
    GET "/v1.0/groups/{id}/members" => directory::list_members, "listGroupMembers", DirectoryRead, 200, "directory", "List a group's members";
    POST "/v1.0/groups/{id}/members/$ref" => directory::add_member, "addGroupMember", DirectoryWrite, 204, "directory", "Add a member to a group";
    DELETE "/v1.0/groups/{id}/members/{member_id}/$ref" => directory::remove_member, "removeGroupMember", DirectoryWrite, 204, "directory", "Remove a member from a group";
    GET "/v1.0/directoryObjects/{id}" => directory::get_directory_object, "getDirectoryObject", DirectoryRead, 200, "directory", "Get a user or group by id";
    GET "/v1.0/me" => directory::me, "getMe", Authenticated, 200, "directory", "The signed-in user";

    GET "/v1.0/roleManagement/entitlementManagement/roleAssignments" => role_assignments::list, "listEntitlementRoleAssignments", EntitlementRead, 200, "roleAssignments", "Catalog role assignments in the catalogs the caller may read";
    POST "/v1.0/roleManagement/entitlementManagement/roleAssignments" => role_assignments::create, "createEntitlementRoleAssignment", CatalogWrite, 201, "roleAssignments", "Assign a catalog role (roleDefinitionId, principalId, appScopeId /AccessPackageCatalog/{id}): administrators and the catalog's owners";
    GET "/v1.0/roleManagement/entitlementManagement/roleAssignments/{id}" => role_assignments::get, "getEntitlementRoleAssignment", EntitlementRead, 200, "roleAssignments", "Get a catalog role assignment";
    DELETE "/v1.0/roleManagement/entitlementManagement/roleAssignments/{id}" => role_assignments::delete, "deleteEntitlementRoleAssignment", CatalogWrite, 204, "roleAssignments", "Remove a catalog role assignment: administrators and the catalog's owners";

    GET "/v1.0/gatehouse/auditRecords" => audit::list, "listAuditRecords", TenantRead, 200, "audit", "The audit log: every change, who, when, before and after";
}

/// Permission lookup by route template and method, used by the authorization middleware.
#[derive(Debug, Default)]
pub struct RouteIndex(HashMap<&'static str, Vec<(Method, Permission, bool)>>);

impl RouteIndex {
    pub fn new(specs: impl IntoIterator<Item = RouteSpec>) -> Self {
        let mut map: HashMap<&'static str, Vec<(Method, Permission, bool)>> = HashMap::new();
        for s in specs {
            map.entry(s.path).or_default().push((s.method, s.permission, s.page));
        }
        RouteIndex(map)
    }

    pub fn permission(&self, method: &Method, path: &str) -> Option<Permission> {
        self.lookup(method, path).map(|(p, _)| p)
    }

    /// The route's permission and whether it is a page.
    pub fn lookup(&self, method: &Method, path: &str) -> Option<(Permission, bool)> {
        self.0.get(path)?.iter().find(|(m, _, _)| m == method).map(|(_, p, page)| (*p, *page))
    }
}

/// The route specs alone, for the OpenAPI document and the authorization matrix.
pub fn specs() -> Vec<RouteSpec> {
    table().into_iter().map(|r| r.spec).collect()
}
