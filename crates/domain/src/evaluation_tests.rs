//! Tests of policy evaluation: one per scope rule, the catalog gates, requestor settings,
//! specificity ordering, policy choice and organization proposals; property tests of the
//! ordering and of the `proposed`-organization rule.

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use serde_json::{json, Value};
use uuid::Uuid;

use super::*;
use crate::catalog::NewCatalog;
use crate::policy::PolicyContext;
use crate::policy::PolicyInput;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000, 0).unwrap()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn policy_with_id(policy_id: Uuid, body: Value) -> AssignmentPolicy {
    let input: PolicyInput = serde_json::from_value(body).unwrap();
    let mut ids = Uuid::new_v4;
    let ctx = PolicyContext {
        id: policy_id,
        access_package_id: Uuid::nil(),
        catalog_id: Uuid::nil(),
        now: now(),
        existing: None,
        new_id: &mut ids,
    };
    AssignmentPolicy::build(input, ctx).unwrap()
}

fn policy(scope: &str) -> AssignmentPolicy {
    policy_with_id(Uuid::new_v4(), json!({"displayName": scope, "allowedTargetScope": scope}))
}

fn targeted(scope: &str, targets: Value) -> AssignmentPolicy {
    policy_with_id(
        Uuid::new_v4(),
        json!({"displayName": scope, "allowedTargetScope": scope, "specificAllowedTargets": targets}),
    )
}

fn user_target(u: Uuid) -> Value {
    json!({"@odata.type": "#microsoft.graph.singleUser", "userId": u})
}

fn group_target(g: Uuid) -> Value {
    json!({"@odata.type": "#microsoft.graph.groupMembers", "groupId": g})
}

fn org_target(o: Uuid) -> Value {
    json!({"@odata.type": "#microsoft.graph.connectedOrganizationMembers", "connectedOrganizationId": o})
}

fn catalog(body: Value) -> Catalog {
    Catalog::create(serde_json::from_value::<NewCatalog>(body).unwrap(), id(900), now()).unwrap()
}

fn open_catalog() -> Catalog {
    catalog(json!({"displayName": "Partners"}))
}

fn member(user: Uuid) -> Subject {
    Subject { user_id: Some(user), kind: SubjectKind::Member, groups: vec![] }
}

fn org(o: Uuid, state: ConnectedOrganizationState) -> Option<SubjectOrganization> {
    Some(SubjectOrganization { id: o, state })
}

fn guest(user: Uuid, organization: Option<SubjectOrganization>) -> Subject {
    Subject { user_id: Some(user), kind: SubjectKind::Guest { organization }, groups: vec![] }
}

fn external(domain: &str, organization: Option<SubjectOrganization>) -> Subject {
    Subject { user_id: None, kind: SubjectKind::External { domain: domain.into(), organization }, groups: vec![] }
}

const CONFIGURED: ConnectedOrganizationState = ConnectedOrganizationState::Configured;
const PROPOSED: ConnectedOrganizationState = ConnectedOrganizationState::Proposed;

#[test]
fn not_specified_admits_nobody() {
    let p = policy("notSpecified");
    for s in [member(id(1)), guest(id(2), org(id(10), CONFIGURED)), external("fabrikam.example", None)] {
        assert!(!policy_admits(&p, &s));
    }
}

#[test]
fn specific_directory_users_admit_named_users_and_group_members() {
    let p = targeted("specificDirectoryUsers", json!([user_target(id(1)), group_target(id(50))]));
    assert!(policy_admits(&p, &member(id(1))));
    assert!(policy_admits(&p, &guest(id(1), None)), "a named guest is a directory user");
    assert!(!policy_admits(&p, &member(id(2))));
    let in_group = Subject { groups: vec![id(49), id(50)], ..member(id(3)) };
    assert!(policy_admits(&p, &in_group));
    let outsider = Subject { user_id: Some(id(1)), groups: vec![id(50)], ..external("fabrikam.example", None) };
    assert!(!policy_admits(&p, &outsider), "external subjects never match directory targets");
}

#[test]
fn attribute_rule_targets_admit_nobody_for_now() {
    let rule = json!({"@odata.type": "#microsoft.graph.attributeRuleMembers", "membershipRule": "(user.department -eq \"Sales\")"});
    let p = targeted("specificDirectoryUsers", json!([rule]));
    assert!(!policy_admits(&p, &member(id(1))));
}

#[test]
fn specific_connected_organizations_admit_their_guests_and_externals_even_when_proposed() {
    let p = targeted("specificConnectedOrganizationUsers", json!([org_target(id(10))]));
    assert!(policy_admits(&p, &guest(id(2), org(id(10), CONFIGURED))));
    assert!(policy_admits(&p, &external("fabrikam.example", org(id(10), PROPOSED))));
    assert!(!policy_admits(&p, &external("contoso.example", org(id(11), CONFIGURED))));
    assert!(!policy_admits(&p, &guest(id(2), None)));
    assert!(!policy_admits(&p, &member(id(1))));
}

#[test]
fn all_member_users_admit_members_only() {
    let p = policy("allMemberUsers");
    assert!(policy_admits(&p, &member(id(1))));
    assert!(!policy_admits(&p, &guest(id(2), None)));
    assert!(!policy_admits(&p, &external("fabrikam.example", None)));
}

#[test]
fn all_directory_users_admit_members_and_guests() {
    let p = policy("allDirectoryUsers");
    assert!(policy_admits(&p, &member(id(1))));
    assert!(policy_admits(&p, &guest(id(2), None)));
    assert!(!policy_admits(&p, &external("fabrikam.example", org(id(10), CONFIGURED))));
}

#[test]
fn all_configured_organizations_exclude_proposed_ones_and_the_unaffiliated() {
    let p = policy("allConfiguredConnectedOrganizationUsers");
    assert!(policy_admits(&p, &guest(id(2), org(id(10), CONFIGURED))));
    assert!(policy_admits(&p, &external("fabrikam.example", org(id(10), CONFIGURED))));
    assert!(!policy_admits(&p, &external("fabrikam.example", org(id(10), PROPOSED))));
    assert!(!policy_admits(&p, &guest(id(2), org(id(10), PROPOSED))));
    assert!(!policy_admits(&p, &external("fabrikam.example", None)));
    assert!(!policy_admits(&p, &member(id(1))));
}

#[test]
fn all_external_users_admit_any_guest_or_external() {
    let p = policy("allExternalUsers");
    assert!(policy_admits(&p, &guest(id(2), None)));
    assert!(policy_admits(&p, &external("new.example", None)));
    assert!(policy_admits(&p, &external("fabrikam.example", org(id(10), PROPOSED))));
    assert!(!policy_admits(&p, &member(id(1))));
}

#[test]
fn service_principal_agent_and_unknown_scopes_admit_nobody() {
    // These scopes cannot be built; a stored or future policy carrying one must still admit nobody.
    let base = policy("allDirectoryUsers");
    for scope in [
        AllowedTargetScope::SpecificDirectoryServicePrincipals,
        AllowedTargetScope::AllDirectoryServicePrincipals,
        AllowedTargetScope::AllDirectoryAgentIdentities,
        AllowedTargetScope::UnknownFutureValue,
    ] {
        let p = AssignmentPolicy { allowed_target_scope: scope, ..base.clone() };
        assert!(!policy_admits(&p, &member(id(1))), "{scope}");
        assert!(!policy_admits(&p, &guest(id(2), org(id(10), CONFIGURED))), "{scope}");
        assert_eq!(specificity(scope), None);
    }
}

#[test]
fn a_disabled_catalog_admits_nobody_for_anything() {
    let c = catalog(json!({"displayName": "Old", "state": "unpublished"}));
    let ps = [policy("allMemberUsers")];
    for purpose in [Purpose::SelfAdd, Purpose::SelfUpdate, Purpose::SelfRemove] {
        assert!(admitting_policies(&member(id(1)), &c, &ps, purpose).is_empty());
        let e = choose_policy(&member(id(1)), &c, &ps, purpose, None).unwrap_err();
        assert_eq!(e, Refusal::CatalogDisabled { catalog: "Old".into() });
        assert!(e.to_string().contains("catalog 'Old' is not enabled"), "{e}");
    }
    let named = choose_policy(&member(id(1)), &c, &ps, Purpose::SelfAdd, Some(ps[0].id)).unwrap_err();
    assert!(matches!(named, Refusal::CatalogDisabled { .. }));
}

#[test]
fn an_internal_catalog_admits_no_guest_or_external_subject() {
    let c = catalog(json!({"displayName": "Internal", "isExternallyVisible": false}));
    let ps = [policy("allExternalUsers"), policy("allDirectoryUsers")];
    for s in [guest(id(2), org(id(10), CONFIGURED)), external("fabrikam.example", None)] {
        assert!(admitting_policies(&s, &c, &ps, Purpose::SelfAdd).is_empty());
        let e = choose_policy(&s, &c, &ps, Purpose::SelfAdd, None).unwrap_err();
        assert_eq!(e, Refusal::NotExternallyVisible { catalog: "Internal".into() });
        assert!(e.to_string().contains("only to members"), "{e}");
    }
    assert_eq!(choose_policy(&member(id(1)), &c, &ps, Purpose::SelfAdd, None).unwrap().id, ps[1].id);
}

#[test]
fn each_purpose_needs_its_requestor_setting() {
    let settings = |add: bool, update: bool, remove: bool| {
        policy_with_id(
            Uuid::new_v4(),
            json!({"displayName": "P", "allowedTargetScope": "allMemberUsers", "requestorSettings": {
                "enableTargetsToSelfAddAccess": add, "enableTargetsToSelfUpdateAccess": update,
                "enableTargetsToSelfRemoveAccess": remove}}),
        )
    };
    let c = open_catalog();
    let s = member(id(1));
    let only_add = [settings(true, false, false)];
    assert_eq!(admitting_policies(&s, &c, &only_add, Purpose::SelfAdd).len(), 1);
    assert!(admitting_policies(&s, &c, &only_add, Purpose::SelfUpdate).is_empty());
    assert!(admitting_policies(&s, &c, &only_add, Purpose::SelfRemove).is_empty());
    let only_update = [settings(false, true, false)];
    assert!(admitting_policies(&s, &c, &only_update, Purpose::SelfAdd).is_empty());
    assert_eq!(admitting_policies(&s, &c, &only_update, Purpose::SelfUpdate).len(), 1);
    let only_remove = [settings(false, false, true)];
    assert_eq!(admitting_policies(&s, &c, &only_remove, Purpose::SelfRemove).len(), 1);
    let e = choose_policy(&s, &c, &only_remove, Purpose::SelfAdd, None).unwrap_err();
    assert_eq!(e, Refusal::SelfRequestDisabled { purpose: Purpose::SelfAdd });
    assert!(e.to_string().contains("does not let you request this access package for yourself"), "{e}");
}

#[test]
fn an_admin_only_policy_does_not_turn_into_self_request_disabled() {
    // notSpecified defaults to no self-request, and admits nobody: the refusal is "no policy".
    let admin_only = [policy("notSpecified")];
    let e = choose_policy(&member(id(1)), &open_catalog(), &admin_only, Purpose::SelfAdd, None);
    assert_eq!(e.unwrap_err(), Refusal::NoAdmittingPolicy);
}

#[test]
fn most_specific_policy_first_and_ties_keep_creation_order() {
    let o = id(10);
    let ps = vec![
        policy("allExternalUsers"),
        policy("allConfiguredConnectedOrganizationUsers"),
        policy("allDirectoryUsers"),
        targeted("specificConnectedOrganizationUsers", json!([org_target(o)])),
        targeted("specificDirectoryUsers", json!([user_target(id(2))])),
        policy("allMemberUsers"),
    ];
    let g = guest(id(2), org(o, CONFIGURED));
    let order: Vec<Uuid> =
        admitting_policies(&g, &open_catalog(), &ps, Purpose::SelfAdd).iter().map(|p| p.id).collect();
    assert_eq!(order, vec![ps[3].id, ps[4].id, ps[2].id, ps[0].id, ps[1].id]);
    assert_eq!(choose_policy(&g, &open_catalog(), &ps, Purpose::SelfAdd, None).unwrap().id, ps[3].id);
    let m = member(id(7));
    let order: Vec<Uuid> =
        admitting_policies(&m, &open_catalog(), &ps, Purpose::SelfAdd).iter().map(|p| p.id).collect();
    assert_eq!(order, vec![ps[5].id, ps[2].id]);
}

#[test]
fn a_named_policy_must_exist_and_admit_the_subject() {
    let c = open_catalog();
    let ps = vec![policy("allMemberUsers"), policy("allExternalUsers"), policy("allDirectoryUsers")];
    let g = guest(id(2), None);
    // Named: the less specific policy is honoured when it admits the subject.
    assert_eq!(choose_policy(&g, &c, &ps, Purpose::SelfAdd, Some(ps[1].id)).unwrap().id, ps[1].id);
    assert_eq!(choose_policy(&g, &c, &ps, Purpose::SelfAdd, None).unwrap().id, ps[2].id);
    let e = choose_policy(&g, &c, &ps, Purpose::SelfAdd, Some(ps[0].id)).unwrap_err();
    assert_eq!(e, Refusal::PolicyNotApplicable { policy: ps[0].id, name: "allMemberUsers".into() });
    assert!(e.to_string().contains("'allMemberUsers' does not apply to you"), "{e}");
    let missing = id(404);
    let e = choose_policy(&g, &c, &ps, Purpose::SelfAdd, Some(missing)).unwrap_err();
    assert_eq!(e, Refusal::PolicyNotFound { policy: missing });
    assert!(e.to_string().contains(&missing.to_string()));
    let mut closed = ps[1].clone();
    closed.requestor_settings.enable_targets_to_self_update_access = false;
    let e = choose_policy(&g, &c, std::slice::from_ref(&closed), Purpose::SelfUpdate, Some(closed.id)).unwrap_err();
    assert_eq!(e, Refusal::SelfRequestDisabled { purpose: Purpose::SelfUpdate });
}

#[test]
fn nobody_admitted_is_a_clear_refusal() {
    let ps = vec![policy("allMemberUsers")];
    let e = choose_policy(&external("fabrikam.example", None), &open_catalog(), &ps, Purpose::SelfAdd, None);
    let e = e.unwrap_err();
    assert_eq!(e, Refusal::HostUsersOnly);
    assert!(e.to_string().contains("none of its policies applies to you"));
    assert!(e.is_not_admitted());
    assert_eq!(
        choose_policy(&member(id(1)), &open_catalog(), &[], Purpose::SelfAdd, None),
        Err(Refusal::NoAdmittingPolicy)
    );
}

#[test]
fn unknown_externals_under_all_external_users_propose_their_domain() {
    let all = policy("allExternalUsers");
    assert_eq!(proposes_organization(&all, &external("New.Example.", None)), Some("new.example".into()));
    assert_eq!(proposes_organization(&all, &external("fabrikam.example", org(id(10), PROPOSED))), None);
    assert_eq!(proposes_organization(&all, &guest(id(2), None)), None);
    assert_eq!(proposes_organization(&all, &external("not a domain", None)), None);
    let configured = policy("allConfiguredConnectedOrganizationUsers");
    assert_eq!(proposes_organization(&configured, &external("new.example", None)), None);
}

// ---- property tests ----

const SCOPES: &[AllowedTargetScope] = AllowedTargetScope::ALL;

fn arb_org() -> impl Strategy<Value = Option<SubjectOrganization>> {
    prop::option::of(
        (0u128..3, prop::sample::select(vec![CONFIGURED, PROPOSED]))
            .prop_map(|(n, state)| SubjectOrganization { id: id(10 + n), state }),
    )
}

fn arb_subject() -> impl Strategy<Value = Subject> {
    let kind = prop_oneof![
        Just(SubjectKind::Member),
        arb_org().prop_map(|organization| SubjectKind::Guest { organization }),
        (prop::sample::select(vec!["fabrikam.example", "new.example"]), arb_org())
            .prop_map(|(d, organization)| SubjectKind::External { domain: d.into(), organization }),
    ];
    (kind, 0u128..3, prop::collection::vec(0u128..3, 0..3)).prop_map(|(kind, u, groups)| Subject {
        user_id: (!matches!(kind, SubjectKind::External { .. })).then(|| id(1 + u)),
        kind,
        groups: groups.into_iter().map(|g| id(50 + g)).collect(),
    })
}

fn arb_target() -> impl Strategy<Value = SubjectSet> {
    prop_oneof![
        (0u128..3).prop_map(|n| SubjectSet::SingleUser { user_id: id(1 + n), description: None }),
        (0u128..3).prop_map(|n| SubjectSet::GroupMembers { group_id: id(50 + n), description: None }),
        (0u128..3).prop_map(|n| SubjectSet::ConnectedOrganizationMembers {
            connected_organization_id: id(10 + n),
            description: None
        }),
    ]
}

fn arb_policies() -> impl Strategy<Value = Vec<AssignmentPolicy>> {
    let one = (prop::sample::select(SCOPES.to_vec()), prop::collection::vec(arb_target(), 0..3), any::<[bool; 3]>());
    prop::collection::vec(one, 0..8).prop_map(|specs| {
        let base = policy("allMemberUsers");
        specs
            .into_iter()
            .enumerate()
            .map(|(i, (scope, targets, [add, update, remove]))| {
                let mut p = AssignmentPolicy {
                    id: id(1000 + i as u128),
                    allowed_target_scope: scope,
                    specific_allowed_targets: targets,
                    ..base.clone()
                };
                p.requestor_settings.enable_targets_to_self_add_access = add;
                p.requestor_settings.enable_targets_to_self_update_access = update;
                p.requestor_settings.enable_targets_to_self_remove_access = remove;
                p
            })
            .collect()
    })
}

fn arb_catalog() -> impl Strategy<Value = Catalog> {
    (any::<bool>(), any::<bool>()).prop_map(|(published, visible)| {
        let state = if published { "published" } else { "unpublished" };
        catalog(json!({"displayName": "C", "state": state, "isExternallyVisible": visible}))
    })
}

fn arb_purpose() -> impl Strategy<Value = Purpose> {
    prop::sample::select(vec![Purpose::SelfAdd, Purpose::SelfUpdate, Purpose::SelfRemove])
}

proptest! {
    #[test]
    fn admitting_policies_are_an_ordered_admitting_subset(
        subject in arb_subject(), catalog in arb_catalog(), policies in arb_policies(), purpose in arb_purpose(),
    ) {
        let admitted = admitting_policies(&subject, &catalog, &policies, purpose);
        let mut last_rank = 0u8;
        let mut last_index = 0usize;
        for p in &admitted {
            let index = policies.iter().position(|q| std::ptr::eq(q, *p));
            prop_assert!(index.is_some(), "returned a policy not in the input");
            prop_assert!(policy_admits(p, &subject));
            prop_assert!(purpose.enabled_by(&p.requestor_settings));
            let rank = specificity(p.allowed_target_scope);
            prop_assert!(rank.is_some());
            let (rank, index) = (rank.unwrap(), index.unwrap());
            prop_assert!(rank >= last_rank, "specificity must not decrease");
            if rank == last_rank {
                prop_assert!(index >= last_index, "ties keep creation order");
            }
            (last_rank, last_index) = (rank, index);
        }
        let chosen = choose_policy(&subject, &catalog, &policies, purpose, None);
        match admitted.first() {
            Some(first) => prop_assert_eq!(chosen.unwrap().id, first.id),
            None => prop_assert!(chosen.is_err()),
        }
    }

    #[test]
    fn proposed_organizations_never_reach_all_configured_policies(
        subject in arb_subject(), catalog in arb_catalog(), policies in arb_policies(), purpose in arb_purpose(),
        named in prop::option::of(0usize..8),
    ) {
        let configured = subject.organization().is_some_and(|o| o.state == ConnectedOrganizationState::Configured);
        let scope = AllowedTargetScope::AllConfiguredConnectedOrganizationUsers;
        for p in admitting_policies(&subject, &catalog, &policies, purpose) {
            prop_assert!(configured || p.allowed_target_scope != scope);
        }
        let requested = named.and_then(|i| policies.get(i)).map(|p| p.id);
        if let Ok(p) = choose_policy(&subject, &catalog, &policies, purpose, requested) {
            prop_assert!(configured || p.allowed_target_scope != scope);
        }
    }
}

#[test]
fn a_refusal_says_why_the_subject_is_not_admitted() {
    let c = open_catalog();
    let fabrikam = id(10);
    let northwind = id(11);
    let for_fabrikam = vec![targeted("specificConnectedOrganizationUsers", json!([org_target(fabrikam)]))];
    let why = |s: &Subject, ps: &[AssignmentPolicy]| choose_policy(s, &c, ps, Purpose::SelfAdd, None).unwrap_err();
    // A guest of another connected organization.
    assert_eq!(why(&guest(id(2), org(northwind, CONFIGURED)), &for_fabrikam), Refusal::OrganizationNotIncluded);
    // Someone whose organization is not connected at all.
    assert_eq!(why(&external("contractor.example", None), &for_fabrikam), Refusal::OrganizationNotConnected);
    let configured = vec![policy("allConfiguredConnectedOrganizationUsers")];
    assert_eq!(why(&guest(id(2), org(northwind, PROPOSED)), &configured), Refusal::OrganizationNotConnected);
    assert_eq!(why(&guest(id(2), None), &configured), Refusal::OrganizationNotConnected);
    // Members asking for a partners' package, partners asking for a members' one.
    assert_eq!(why(&member(id(1)), &for_fabrikam), Refusal::PartnersOnly);
    assert_eq!(why(&guest(id(2), org(fabrikam, CONFIGURED)), &[policy("allMemberUsers")]), Refusal::HostUsersOnly);
    // Nothing requestable at all.
    assert_eq!(why(&member(id(1)), &[policy("notSpecified")]), Refusal::NoAdmittingPolicy);
    for r in [Refusal::OrganizationNotIncluded, Refusal::OrganizationNotConnected, Refusal::PartnersOnly] {
        assert!(r.to_string().contains("none of its policies applies to you"), "{r}");
    }
}

fn arbitrary_subject() -> impl Strategy<Value = Subject> {
    let org = prop_oneof![
        Just(None),
        (10u128..13, any::<bool>())
            .prop_map(|(o, configured)| org(id(o), if configured { CONFIGURED } else { PROPOSED })),
    ];
    let groups = proptest::collection::vec(20u128..24, 0..3);
    (0u8..3, 1u128..4, org, groups).prop_map(|(kind, user, organization, groups)| {
        let mut s = match kind {
            0 => member(id(user)),
            1 => guest(id(user), organization),
            _ => external("x.example", organization),
        };
        if kind < 2 {
            s.groups = groups.into_iter().map(id).collect();
        }
        s
    })
}

fn arbitrary_policy() -> impl Strategy<Value = AssignmentPolicy> {
    let scopes = [
        "specificDirectoryUsers",
        "specificConnectedOrganizationUsers",
        "allMemberUsers",
        "allDirectoryUsers",
        "allConfiguredConnectedOrganizationUsers",
        "allExternalUsers",
        "notSpecified",
    ];
    (proptest::sample::select(scopes.to_vec()), proptest::collection::vec((0u8..3, 1u128..24), 1..4)).prop_map(
        |(scope, targets)| {
            let targets: Vec<Value> = targets
                .into_iter()
                .map(|(kind, n)| match (scope, kind) {
                    ("specificConnectedOrganizationUsers", _) => org_target(id(10 + n % 3)),
                    (_, 0) => user_target(id(n % 4)),
                    _ => group_target(id(20 + n % 4)),
                })
                .collect();
            if scope.starts_with("specific") {
                targeted(scope, json!(targets))
            } else {
                policy(scope)
            }
        },
    )
}

proptest! {
    /// The store reads only policies in a subject's reach: none that admits them may be outside it.
    #[test]
    fn every_admitting_policy_is_in_reach(subject in arbitrary_subject(), p in arbitrary_policy()) {
        let reach = subject.policy_reach();
        if policy_admits(&p, &subject) {
            let named = p.specific_allowed_targets.iter().any(|t| match t {
                SubjectSet::SingleUser { user_id, .. } => reach.named.contains(user_id),
                SubjectSet::GroupMembers { group_id, .. } => reach.named.contains(group_id),
                SubjectSet::ConnectedOrganizationMembers { connected_organization_id, .. } => {
                    reach.named.contains(connected_organization_id)
                }
                _ => false,
            });
            prop_assert!(reach.scopes.contains(&p.allowed_target_scope) || named, "{:?} admits {:?} outside {:?}", p.allowed_target_scope, subject, reach);
        }
        prop_assert_eq!(reach.from_outside, subject.is_from_outside());
    }
}
