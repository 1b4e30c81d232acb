"""The seeds' admin path driven by Microsoft's own Python Graph SDK (msgraph-sdk), unchanged,
pointed at a Gatehouse server: proves wire compatibility the way customers' scripts use it.

Usage: walk.py BASE_URL TOKEN   (exit status 0 when every step behaved as Graph would)
"""

import asyncio
import datetime
import sys
import uuid

from kiota_abstractions.authentication import (AccessTokenProvider, AllowedHostsValidator,
                                               BaseBearerTokenAuthenticationProvider)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.identity_governance.entitlement_management.access_packages.access_packages_request_builder import \
    AccessPackagesRequestBuilder
from msgraph.generated.identity_governance.entitlement_management.catalogs.catalogs_request_builder import \
    CatalogsRequestBuilder
from msgraph.generated.identity_governance.entitlement_management.connected_organizations.connected_organizations_request_builder import \
    ConnectedOrganizationsRequestBuilder
from msgraph.generated.models.access_package import AccessPackage
from msgraph.generated.models.access_package_approval_stage import AccessPackageApprovalStage
from msgraph.generated.models.access_package_assignment_approval_settings import \
    AccessPackageAssignmentApprovalSettings
from msgraph.generated.models.access_package_assignment_policy import AccessPackageAssignmentPolicy
from msgraph.generated.models.access_package_catalog import AccessPackageCatalog
from msgraph.generated.models.access_package_catalog_state import AccessPackageCatalogState
from msgraph.generated.models.access_package_multiple_choice_question import AccessPackageMultipleChoiceQuestion
from msgraph.generated.models.access_package_answer_choice import AccessPackageAnswerChoice
from msgraph.generated.models.access_package_request_type import AccessPackageRequestType
from msgraph.generated.models.access_package_resource import AccessPackageResource
from msgraph.generated.models.access_package_resource_request import AccessPackageResourceRequest
from msgraph.generated.models.access_package_resource_role import AccessPackageResourceRole
from msgraph.generated.models.access_package_resource_role_scope import AccessPackageResourceRoleScope
from msgraph.generated.models.access_package_resource_scope import AccessPackageResourceScope
from msgraph.generated.models.access_package_text_input_question import AccessPackageTextInputQuestion
from msgraph.generated.models.allowed_target_scope import AllowedTargetScope
from msgraph.generated.models.connected_organization import ConnectedOrganization
from msgraph.generated.models.connected_organization_members import ConnectedOrganizationMembers
from msgraph.generated.models.connected_organization_state import ConnectedOrganizationState
from msgraph.generated.models.domain_identity_source import DomainIdentitySource
from msgraph.generated.models.entitlement_management_settings import EntitlementManagementSettings
from msgraph.generated.models.access_package_external_user_lifecycle_action import \
    AccessPackageExternalUserLifecycleAction
from msgraph.generated.models.expiration_pattern import ExpirationPattern
from msgraph.generated.models.expiration_pattern_type import ExpirationPatternType
from msgraph.generated.models.external_sponsors import ExternalSponsors
from msgraph.generated.models.group import Group
from msgraph.generated.models.internal_sponsors import InternalSponsors
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.reference_create import ReferenceCreate
from msgraph.generated.models.user import User


class StaticToken(AccessTokenProvider):
    def __init__(self, token):
        self.token = token

    async def get_authorization_token(self, uri, additional_authentication_context={}):
        return self.token

    def get_allowed_hosts_validator(self):
        return AllowedHostsValidator([])


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"ok: {what}")


async def expect_error(coro, status, what):
    try:
        await coro
    except ODataError as e:
        check(e.response_status_code == status and e.error is not None and e.error.code and e.error.message,
              f"{what} -> {status} {e.error.code if e.error else '?'}: {e.error.message if e.error else ''}")
        return
    raise AssertionError(f"{what}: expected HTTP {status}, got success")


async def main(base_url, token):
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticToken(token)))
    adapter.base_url = f"{base_url}/v1.0"
    graph = GraphServiceClient(request_adapter=adapter)
    em = graph.identity_governance.entitlement_management
    suffix = uuid.uuid4().hex[:8]
    domain = f"fabrikam-{suffix}.example"

    alex = await graph.users.post(User(display_name="Alex Wilber", mail=f"alex-{suffix}@contoso.example",
                                       account_enabled=True, mail_nickname="alex"))
    check(alex.id and alex.user_type == "Member", "create a member user")
    team = await graph.groups.post(Group(display_name="Cross-Org Team", security_enabled=True, mail_enabled=False,
                                         mail_nickname="crossorg"))
    check(team.id, "create a group")

    org = await em.connected_organizations.post(ConnectedOrganization(
        display_name=f"Fabrikam {suffix}", description="Tier-1 supplier",
        identity_sources=[DomainIdentitySource(domain_name=domain, display_name=domain)],
        state=ConnectedOrganizationState.Configured))
    check(org.id and org.state == ConnectedOrganizationState.Configured, "create a connected organization")
    check(isinstance(org.identity_sources[0], DomainIdentitySource) and org.identity_sources[0].domain_name == domain,
          "identity source comes back as the typed subclass (@odata.type with #)")
    await expect_error(em.connected_organizations.post(ConnectedOrganization(
        display_name="Copycat", identity_sources=[DomainIdentitySource(domain_name=domain)])), 409,
        "a domain belongs to one organization")

    query = ConnectedOrganizationsRequestBuilder.ConnectedOrganizationsRequestBuilderGetQueryParameters(
        filter=f"displayName eq 'Fabrikam {suffix}'", select=["id", "displayName"])
    found = await em.connected_organizations.get(request_configuration=RequestConfiguration(query_parameters=query))
    check(len(found.value) == 1 and found.value[0].id == org.id, "$filter (percent-encoded %24filter) and $select")
    query = ConnectedOrganizationsRequestBuilder.ConnectedOrganizationsRequestBuilderGetQueryParameters(search=f'"{domain}"')
    found = await em.connected_organizations.get(request_configuration=RequestConfiguration(query_parameters=query))
    check([o.id for o in found.value] == [org.id], "$search by domain")

    await em.connected_organizations.by_connected_organization_id(org.id).internal_sponsors.ref.post(
        ReferenceCreate(odata_id=f"https://graph.microsoft.com/v1.0/users/{alex.id}"))
    sponsors = await em.connected_organizations.by_connected_organization_id(org.id).internal_sponsors.get()
    check([s.id for s in sponsors.value] == [alex.id], "internal sponsor by $ref")

    catalog = await em.catalogs.post(AccessPackageCatalog(display_name=f"Partner extranet {suffix}",
                                                          state=AccessPackageCatalogState.Published,
                                                          is_externally_visible=True))
    check(catalog.id and catalog.is_externally_visible, "create a catalog")
    request = await em.resource_requests.post(AccessPackageResourceRequest(
        request_type=AccessPackageRequestType.AdminAdd,
        resource=AccessPackageResource(origin_id=team.id, origin_system="AadGroup"),
        catalog=AccessPackageCatalog(id=catalog.id)))
    check(request.id and request.request_type == AccessPackageRequestType.AdminAdd, "add the group by resource request")

    query = CatalogsRequestBuilder.CatalogsRequestBuilderGetQueryParameters(expand=["resources"])
    cat = await em.catalogs.by_access_package_catalog_id(catalog.id).get(
        request_configuration=RequestConfiguration(query_parameters=query))
    check(cat.resources and cat.resources[0].origin_system == "AadGroup", "$expand=resources")
    resource_id = cat.resources[0].id
    roles = await em.catalogs.by_access_package_catalog_id(catalog.id).resource_roles.get(
        request_configuration=RequestConfiguration(query_parameters=CatalogsRequestBuilder.CatalogsRequestBuilderGetQueryParameters(
            filter=f"(originSystem eq 'AadGroup' and resource/id eq '{resource_id}')", expand=["resource"])))
    member = next(r for r in roles.value if r.display_name == "Member")
    check(member.origin_id == f"Member_{team.id}", "resource roles of the group")

    package = await em.access_packages.post(AccessPackage(display_name="Project Tango", description="Cross-org work",
                                                          is_hidden=False, catalog=AccessPackageCatalog(id=catalog.id)))
    check(package.id, "create an access package")
    scope_rrs = await em.access_packages.by_access_package_id(package.id).resource_role_scopes.post(
        AccessPackageResourceRoleScope(
            role=AccessPackageResourceRole(id=member.id, origin_id=member.origin_id, origin_system="AadGroup",
                                           resource=AccessPackageResource(id=resource_id)),
            scope=AccessPackageResourceScope(origin_id=team.id, origin_system="AadGroup", is_root_scope=True)))
    check(scope_rrs.id and scope_rrs.id.startswith(member.id + "_"), "grant the Member role")

    stage = AccessPackageApprovalStage(
        duration_before_automatic_denial=datetime.timedelta(days=14),
        duration_before_escalation=datetime.timedelta(0),
        is_approver_justification_required=True, is_escalation_enabled=False,
        primary_approvers=[ExternalSponsors()], fallback_primary_approvers=[InternalSponsors()])
    policy = await em.assignment_policies.post(AccessPackageAssignmentPolicy(
        display_name="Fabrikam engineers", description="Sponsor approval, 90 days",
        allowed_target_scope=AllowedTargetScope.SpecificConnectedOrganizationUsers,
        specific_allowed_targets=[ConnectedOrganizationMembers(connected_organization_id=org.id)],
        expiration=ExpirationPattern(type=ExpirationPatternType.AfterDuration, duration=datetime.timedelta(days=90)),
        request_approval_settings=AccessPackageAssignmentApprovalSettings(
            is_approval_required_for_add=True, is_approval_required_for_update=True,
            is_requestor_justification_required=True, stages=[stage]),
        questions=[
            AccessPackageTextInputQuestion(text="Purchase order number?", sequence=1, is_required=True,
                                           is_single_line_question=True, regex_pattern="^PO-[0-9]{6}$"),
            AccessPackageMultipleChoiceQuestion(text="Team?", sequence=2, is_required=True,
                                                choices=[AccessPackageAnswerChoice(actual_value="hw", text="Hardware"),
                                                         AccessPackageAnswerChoice(actual_value="sw", text="Software")])],
        access_package=AccessPackage(id=package.id)))
    check(policy.id and policy.expiration.duration == datetime.timedelta(days=90),
          "create a policy with timedelta durations (the SDK sends '90 days, 0:00:00')")
    check(policy.request_approval_settings.stages[0].duration_before_automatic_denial == datetime.timedelta(days=14),
          "stage timeout read back as a duration")
    check(isinstance(policy.request_approval_settings.stages[0].primary_approvers[0], ExternalSponsors),
          "approvers come back typed")

    await em.access_packages.by_access_package_id(package.id).patch(AccessPackage(is_hidden=True))
    query = AccessPackagesRequestBuilder.AccessPackagesRequestBuilderGetQueryParameters(
        expand=["resourceRoleScopes($expand=role,scope)", "assignmentPolicies"])
    back = await em.access_packages.by_access_package_id(package.id).get(
        request_configuration=RequestConfiguration(query_parameters=query))
    check(back.is_hidden is True, "PATCH isHidden (204) and read back")
    check(back.resource_role_scopes[0].role.display_name == "Member" and back.resource_role_scopes[0].scope.is_root_scope,
          "nested $expand")
    check(back.assignment_policies[0].id == policy.id, "$expand=assignmentPolicies")

    for i in range(3):
        await em.access_packages.post(AccessPackage(display_name=f"Paged {suffix} {i}", catalog=AccessPackageCatalog(id=catalog.id)))
    query = AccessPackagesRequestBuilder.AccessPackagesRequestBuilderGetQueryParameters(
        filter=f"startswith(displayName,'Paged {suffix}')", top=2, count=True)
    page = await em.access_packages.get(request_configuration=RequestConfiguration(query_parameters=query))
    names = [p.display_name for p in page.value]
    check(page.odata_count == 3 and page.odata_next_link and page.odata_next_link.startswith("http"),
          "$top with $count gives an absolute @odata.nextLink")
    page = await em.access_packages.with_url(page.odata_next_link).get()
    names += [p.display_name for p in page.value]
    check(sorted(names) == [f"Paged {suffix} {i}" for i in range(3)] and page.odata_next_link is None,
          "following @odata.nextLink yields the rest exactly once")

    await em.settings.patch(EntitlementManagementSettings(
        external_user_lifecycle_action=AccessPackageExternalUserLifecycleAction.BlockSignInAndDelete,
        duration_until_external_user_deleted_after_blocked=datetime.timedelta(days=4)))
    settings = await em.settings.get()
    check(settings.duration_until_external_user_deleted_after_blocked == datetime.timedelta(days=4),
          "settings PATCH and GET")

    await expect_error(em.catalogs.by_access_package_catalog_id(catalog.id).delete(), 409,
                       "deleting a catalog that holds packages")
    await expect_error(em.access_packages.by_access_package_id("not-a-guid").get(), 400, "a malformed id")
    await expect_error(em.access_packages.by_access_package_id(str(uuid.uuid4())).get(), 404, "an unknown id")
    print("graph sdk walk: all steps passed")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
