//! Unit tests of the validation rules of policies, catalogs, packages, resource requests and
//! settings: each rule refused with a message naming what to fix, and its boundary accepted.

use chrono::{DateTime, Duration as Span, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::access_package::{AccessPackage, AccessPackagePatch, NewAccessPackage};
use crate::catalog::{Catalog, NewCatalog, NewResourceRequest};
use crate::directory::{Group, NewGroup};
use crate::policy::{AssignmentPolicy, PolicyContext, PolicyInput};
use crate::settings::{Settings, SettingsPatch};

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000, 0).unwrap()
}

fn policy(body: Value) -> Result<AssignmentPolicy, String> {
    let input: PolicyInput = serde_json::from_value(body).map_err(|e| e.to_string())?;
    let mut ids = Uuid::new_v4;
    let ctx = PolicyContext {
        id: Uuid::nil(),
        access_package_id: Uuid::nil(),
        catalog_id: Uuid::nil(),
        now: now(),
        existing: None,
        new_id: &mut ids,
    };
    AssignmentPolicy::build(input, ctx).map_err(|e| e.message)
}

fn base() -> Value {
    json!({"displayName": "P", "allowedTargetScope": "allMemberUsers"})
}

fn with(mut v: Value, key: &str, value: Value) -> Value {
    v[key] = value;
    v
}

fn stage(extra: Value) -> Value {
    let mut s = json!({"primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": Uuid::nil()}]});
    if let (Value::Object(s), Value::Object(e)) = (&mut s, extra) {
        s.extend(e);
    }
    s
}

fn approval(stages: Vec<Value>) -> Value {
    json!({"isApprovalRequiredForAdd": true, "stages": stages})
}

#[test]
fn a_policy_needs_a_name() {
    assert!(policy(json!({"allowedTargetScope": "allMemberUsers"})).unwrap_err().contains("displayName is required"));
}

#[test]
fn scopes_and_their_targets_must_agree() {
    let org = json!([{"@odata.type": "#microsoft.graph.connectedOrganizationMembers", "connectedOrganizationId": Uuid::nil()}]);
    let user = json!([{"@odata.type": "#microsoft.graph.singleUser", "userId": Uuid::nil()}]);
    let specific = with(base(), "allowedTargetScope", json!("specificConnectedOrganizationUsers"));
    assert!(policy(specific.clone()).unwrap_err().contains("needs at least one specificAllowedTargets"));
    assert!(policy(with(specific.clone(), "specificAllowedTargets", user.clone()))
        .unwrap_err()
        .contains("cannot be a target"));
    assert!(policy(with(specific, "specificAllowedTargets", org.clone())).is_ok());
    assert!(policy(with(base(), "specificAllowedTargets", org)).unwrap_err().contains("must be empty"));
    let sp = with(base(), "allowedTargetScope", json!("allDirectoryServicePrincipals"));
    assert!(policy(sp).unwrap_err().contains("not supported"));
}

#[test]
fn approval_stages_are_bounded_and_complete() {
    let ok = with(base(), "requestApprovalSettings", approval(vec![stage(json!({})); 3]));
    assert!(policy(ok).is_ok(), "three stages are allowed");
    let four = with(base(), "requestApprovalSettings", approval(vec![stage(json!({})); 4]));
    assert!(policy(four).unwrap_err().contains("at most 3"));
    let none = with(base(), "requestApprovalSettings", approval(vec![]));
    assert!(policy(none).unwrap_err().contains("no stages"));
    let nobody = with(base(), "requestApprovalSettings", approval(vec![json!({"primaryApprovers": []})]));
    assert!(policy(nobody).unwrap_err().contains("at least one approver"));
    let long = stage(json!({"durationBeforeAutomaticDenial": "P15D"}));
    assert!(policy(with(base(), "requestApprovalSettings", approval(vec![long]))).unwrap_err().contains("14 days"));
    let escalation = stage(json!({"isEscalationEnabled": true, "durationBeforeEscalation": "P20D"}));
    let e = policy(with(base(), "requestApprovalSettings", approval(vec![escalation]))).unwrap_err();
    assert!(e.contains("escalationApprovers is empty"), "{e}");
    let late = stage(json!({"isEscalationEnabled": true, "durationBeforeEscalation": "P14D",
        "escalationApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": Uuid::nil()}]}));
    let e = policy(with(base(), "requestApprovalSettings", approval(vec![late]))).unwrap_err();
    assert!(e.contains("less than durationBeforeAutomaticDenial"), "{e}");
}

#[test]
fn sponsors_approve_only_for_connected_organization_requestors() {
    let sponsors = stage(json!({"primaryApprovers": [{"@odata.type": "#microsoft.graph.externalSponsors"}]}));
    let e = policy(with(base(), "requestApprovalSettings", approval(vec![sponsors.clone()]))).unwrap_err();
    assert!(e.contains("only resolve for requestors from connected organizations"), "{e}");
    let external = with(base(), "allowedTargetScope", json!("allExternalUsers"));
    assert!(policy(with(external, "requestApprovalSettings", approval(vec![sponsors]))).is_ok());
    let manager =
        stage(json!({"primaryApprovers": [{"@odata.type": "#microsoft.graph.requestorManager", "managerLevel": 3}]}));
    assert!(policy(with(base(), "requestApprovalSettings", approval(vec![manager]))).unwrap_err().contains("1 or 2"));
}

#[test]
fn expiration_patterns_are_consistent() {
    let exp = |v: Value| policy(with(base(), "expiration", v));
    assert!(exp(json!({"type": "afterDuration"})).unwrap_err().contains("needs duration"));
    assert!(exp(json!({"type": "afterDuration", "duration": "P3661D"})).unwrap_err().contains("3660"));
    assert!(exp(json!({"type": "afterDuration", "duration": "P3660D"})).is_ok());
    let past = (now() - Span::days(1)).to_rfc3339();
    assert!(exp(json!({"type": "afterDateTime", "endDateTime": past})).unwrap_err().contains("future"));
    assert!(exp(json!({"type": "noExpiration", "duration": "P1D"})).unwrap_err().contains("neither"));
    let p = exp(json!({"type": "afterDateTime", "endDateTime": "2099-01-01T00:00:00"})).unwrap();
    assert_eq!(p.expiration.end_date_time.unwrap().to_rfc3339(), "2099-01-01T00:00:00+00:00");
}

#[test]
fn questions_are_checked_and_get_ids() {
    let q = |v: Value| policy(with(base(), "questions", json!([v])));
    let text = json!({"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "text": "PO?", "regexPattern": "^PO-[0-9]+$"});
    let p = q(text).unwrap();
    assert!(p.questions[0].id.is_some());
    let bad_regex =
        json!({"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "text": "PO?", "regexPattern": "(["});
    assert!(q(bad_regex).unwrap_err().contains("not a valid regular expression"));
    let no_choices =
        json!({"@odata.type": "#microsoft.graph.accessPackageMultipleChoiceQuestion", "text": "Team?", "choices": []});
    assert!(q(no_choices).unwrap_err().contains("at least one choice"));
    let dup = json!({"@odata.type": "#microsoft.graph.accessPackageMultipleChoiceQuestion", "text": "Team?",
        "choices": [{"actualValue": "a", "text": "A"}, {"actualValue": "a", "text": "B"}]});
    assert!(q(dup).unwrap_err().contains("repeat the actualValue"));
    let blank = json!({"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "text": "  "});
    assert!(q(blank).unwrap_err().contains("text is required"));
}

#[test]
fn reviews_need_reviewers_and_a_schedule() {
    let r = |v: Value| policy(with(base(), "reviewSettings", v));
    assert!(r(json!({"isEnabled": true, "schedule": {}})).unwrap_err().contains("primaryReviewers or isSelfReview"));
    assert!(r(json!({"isEnabled": true, "isSelfReview": true})).unwrap_err().contains("need a schedule"));
    assert!(r(json!({"isEnabled": true, "isSelfReview": true, "schedule": {"recurrence": {"pattern": {"type": "absoluteMonthly", "interval": 3}}}})).is_ok());
    assert!(r(json!({"isEnabled": false})).is_ok());
}

#[test]
fn custom_extension_stage_settings_name_a_stage_and_an_extension() {
    let e = policy(with(base(), "customExtensionStageSettings", json!([{"stage": "assignmentRequestCreated"}])))
        .unwrap_err();
    assert!(e.contains("needs customExtension"), "{e}");
    let e = policy(with(
        base(),
        "customExtensionStageSettings",
        json!([{"stage": "later", "customExtension": {"id": Uuid::nil()}}]),
    ))
    .unwrap_err();
    assert!(e.contains("unknown stage"), "{e}");
}

#[test]
fn catalogs_open_to_outsiders_only_when_published_and_visible() {
    let catalog = |v: Value| Catalog::create(serde_json::from_value::<NewCatalog>(v).unwrap(), Uuid::nil(), now());
    assert!(catalog(json!({"displayName": "C"})).unwrap().open_to_external_users().is_ok());
    let hidden = catalog(json!({"displayName": "C", "isExternallyVisible": false})).unwrap();
    assert!(hidden.open_to_external_users().unwrap_err().message.contains("not enabled for external users"));
    let disabled = catalog(json!({"displayName": "C", "state": "unpublished"})).unwrap();
    assert!(disabled.open_to_external_users().unwrap_err().message.contains("not enabled"));
    assert!(catalog(json!({"displayName": "C", "catalogType": "serviceDefault"}))
        .unwrap_err()
        .message
        .contains("set by the service"));
}

#[test]
fn packages_need_a_catalog_and_stay_in_it() {
    let input: NewAccessPackage = serde_json::from_value(json!({"displayName": "P"})).unwrap();
    assert!(AccessPackage::create(input, Uuid::nil(), now()).unwrap_err().message.contains("catalog"));
    let input: NewAccessPackage =
        serde_json::from_value(json!({"displayName": "P", "catalog": {"id": Uuid::nil()}})).unwrap();
    let mut p = AccessPackage::create(input, Uuid::nil(), now()).unwrap();
    let patch: AccessPackagePatch = serde_json::from_value(json!({"catalog": {"id": Uuid::new_v4()}})).unwrap();
    assert!(p.apply(patch, now()).unwrap_err().message.contains("cannot move"));
    assert_eq!(
        p.my_access_link("https://gh.example/"),
        format!("https://gh.example/myaccess/packages/{}", Uuid::nil())
    );
}

#[test]
fn resource_requests_name_a_supported_origin() {
    let req = |v: Value| serde_json::from_value::<NewResourceRequest>(v).unwrap().validate().map_err(|e| e.message);
    let catalog = json!({"id": Uuid::nil()});
    assert!(req(json!({"requestType": "adminAdd", "catalog": catalog, "resource": {"originSystem": "SharePointOnline", "originId": "x"}}))
        .unwrap_err()
        .contains("not supported"));
    assert!(req(json!({"requestType": "userAdd", "catalog": catalog, "resource": {}}))
        .unwrap_err()
        .contains("not valid for a resource request"));
    assert!(req(json!({"requestType": "adminRemove", "catalog": catalog, "resource": {}}))
        .unwrap_err()
        .contains("resource.id is required"));
    assert!(req(json!({"requestType": "adminAdd", "resource": {}})).unwrap_err().contains("catalog"));
}

#[test]
fn only_security_groups() {
    let g: NewGroup = serde_json::from_value(json!({"displayName": "G", "groupTypes": ["Unified"]})).unwrap();
    assert!(Group::create(g, Uuid::nil(), now()).unwrap_err().message.contains("security groups"));
}

#[test]
fn settings_refuse_unknown_actions_and_huge_delays() {
    let mut s = Settings::default();
    let patch = |v: Value| serde_json::from_value::<SettingsPatch>(v).unwrap();
    assert!(s.apply(patch(json!({"externalUserLifecycleAction": "unknownFutureValue"}))).is_err());
    assert!(s.apply(patch(json!({"durationUntilExternalUserDeletedAfterBlocked": "P3661D"}))).is_err());
    assert_eq!(s, Settings::default(), "a refused patch changes nothing");
    s.apply(patch(
        json!({"externalUserLifecycleAction": "blockSignIn", "durationUntilExternalUserDeletedAfterBlocked": "P0D"}),
    ))
    .unwrap();
    assert!(s.duration_until_external_user_deleted_after_blocked.is_zero());
}

#[test]
fn domain_allow_and_deny_lists() {
    let mut s = Settings::default();
    assert_eq!(s.refuses_domain("fabrikam.example"), None, "no lists: everyone may");
    let patch = |v: Value| serde_json::from_value::<SettingsPatch>(v).unwrap();
    assert!(s.apply(patch(json!({"externalDomainDenyList": ["not a domain"]}))).is_err());
    s.apply(patch(json!({"externalDomainDenyList": ["Spam.Example", "spam.example"]}))).unwrap();
    assert_eq!(s.external_domain_deny_list, vec!["spam.example"], "normalised and deduplicated");
    assert!(s.refuses_domain("SPAM.example").unwrap().contains("deny list"));
    s.apply(patch(json!({"externalDomainAllowList": ["fabrikam.example"]}))).unwrap();
    assert_eq!(s.refuses_domain("fabrikam.example"), None);
    assert!(s.refuses_domain("contoso.example").unwrap().contains("not on the allow list"));
}
