//! The wizard's form against the API's policy shape.
use super::*;

#[test]
fn a_stage_becomes_graphs_approval_stage() {
    let f = FormData::parse(
        b"who=specificConnectedOrganizationUsers&target_org=00000000-0000-0000-0000-000000000001&approval=yes\
          &stage.days.0=7&stage.approvers.0=externalSponsors&stage.fallback.0=pat@contoso.example&enabled=yes\
          &expiry=days&expiry_days=90&policy_name=P",
    );
    let d = Draft::read(&f);
    let pat = Uuid::from_u128(9);
    let mut errors = Errors::default();
    let body = d.policy_body(&|a| (a == "pat@contoso.example").then_some(pat), &mut errors);
    assert!(errors.is_empty());
    let stage = &body["requestApprovalSettings"]["stages"][0];
    assert_eq!(stage["durationBeforeAutomaticDenial"], "P7D");
    assert_eq!(stage["primaryApprovers"][0]["@odata.type"], "#microsoft.graph.externalSponsors");
    assert_eq!(stage["fallbackPrimaryApprovers"][0]["userId"], pat.to_string());
    assert_eq!(body["expiration"], json!({"type": "afterDuration", "duration": "P90D"}));
    assert_eq!(body["specificAllowedTargets"][0]["connectedOrganizationId"], "00000000-0000-0000-0000-000000000001");
    assert!(d.external());
}

/// Every part the form can produce is a shape `POST assignmentPolicies` accepts.
#[test]
fn a_full_form_makes_a_policy_the_api_accepts() {
    let f = FormData::parse(
        b"who=specificDirectoryUsers&target_group=00000000-0000-0000-0000-000000000002&target_emails=a@contoso.example\
          &approval=yes&requestor_justification=yes&stage.days.0=7&stage.approvers.0=requestorManager\
          &stage.escalation.0=yes&stage.escalation_days.0=2&stage.escalation_users.0=a@contoso.example\
          &stage.days.1=3&stage.group.1=00000000-0000-0000-0000-000000000002&enabled=yes\
          &q.text.0=Team&q.kind.0=choice&q.choices.0=Red%0ABlue&q.multiple.0=yes&q.required.0=yes&q.localized.0=fr:+Equipe\
          &q.text.1=Why&expiry=date&expiry_date=2099-01-31&extension=yes&extension_approval=yes&custom_schedule=yes\
          &review=yes&review_every_months=6&policy_name=P",
    );
    let d = Draft::read(&f);
    let mut errors = Errors::default();
    let body = d.policy_body(&|_| Some(Uuid::from_u128(7)), &mut errors);
    assert!(errors.is_empty(), "{:?}", errors.all().collect::<Vec<_>>());
    let input: gatehouse_domain::policy::PolicyInput = serde_json::from_value(body.clone()).expect("the API's shape");
    assert_eq!(input.questions.unwrap().len(), 2);
    assert_eq!(body["requestApprovalSettings"]["stages"].as_array().unwrap().len(), 2);
    assert_eq!(body["reviewSettings"]["primaryReviewers"][0]["@odata.type"], "#microsoft.graph.requestorManager");
}

/// Editing through the form and saving unchanged gives back the stored policy: what the
/// form does not show (a description, a pattern, choice texts and translations) survives.
#[test]
fn an_unchanged_edit_keeps_the_policy() {
    use gatehouse_domain::policy::{PolicyContext, PolicyInput};
    let input: PolicyInput = serde_json::from_value(json!({
        "displayName": "Fabrikam engineers", "description": "Kept",
        "allowedTargetScope": "specificConnectedOrganizationUsers",
        "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.connectedOrganizationMembers",
            "connectedOrganizationId": Uuid::from_u128(3)}],
        "expiration": {"type": "afterDuration", "duration": "P90D"},
        "requestorSettings": {"enableTargetsToSelfAddAccess": true, "enableTargetsToSelfUpdateAccess": true, "enableTargetsToSelfRemoveAccess": true},
        "requestApprovalSettings": {"isApprovalRequiredForAdd": true, "isRequestorJustificationRequired": true,
            "stages": [{"durationBeforeAutomaticDenial": "P7D", "primaryApprovers": [{"@odata.type": "#microsoft.graph.externalSponsors"}],
                "fallbackPrimaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": Uuid::from_u128(9)}]}]},
        "questions": [
            {"@odata.type": "#microsoft.graph.accessPackageMultipleChoiceQuestion", "sequence": 1, "isRequired": true, "text": "Workstream?",
             "localizations": [{"languageCode": "de", "text": "Arbeitsbereich?"}],
             "choices": [{"actualValue": "ws-hardware", "text": "Hardware", "localizations": [{"languageCode": "de", "text": "Gerätebau"}]},
                         {"actualValue": "ws-firmware", "text": "Firmware"}]},
            {"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "sequence": 2, "isRequired": true, "text": "PO?", "regexPattern": "^PO-[0-9]{6}$"}],
        "accessPackage": {"id": Uuid::from_u128(1)}
    }))
    .unwrap();
    let now = chrono::Utc::now();
    let mut ids = Uuid::new_v4;
    let ctx = PolicyContext {
        id: Uuid::from_u128(5),
        access_package_id: Uuid::from_u128(1),
        catalog_id: Uuid::from_u128(2),
        now,
        existing: None,
        new_id: &mut ids,
    };
    let stored = AssignmentPolicy::build(input, ctx).unwrap();
    let mail = |u: Uuid| (u == Uuid::from_u128(9)).then(|| "pat@contoso.example".to_owned());
    let d = Draft::from_policy(&stored, "Project Tango", Uuid::from_u128(2), &mail).unwrap();
    let mut errors = Errors::default();
    let body = d.policy_body(&|a| (a == "pat@contoso.example").then_some(Uuid::from_u128(9)), &mut errors);
    assert!(errors.is_empty(), "{:?}", errors.all().collect::<Vec<_>>());
    let again: PolicyInput = serde_json::from_value(over(&stored, body)).unwrap();
    let mut ids = Uuid::new_v4;
    let ctx = PolicyContext {
        id: stored.id,
        access_package_id: Uuid::from_u128(1),
        catalog_id: Uuid::from_u128(2),
        now,
        existing: Some(&stored),
        new_id: &mut ids,
    };
    let after = AssignmentPolicy::build(again, ctx).unwrap();
    assert_eq!(after.description.as_deref(), Some("Kept"));
    assert_eq!(after.questions, stored.questions);
    assert_eq!(after.request_approval_settings, stored.request_approval_settings);
    assert_eq!(after.specific_allowed_targets, stored.specific_allowed_targets);
    assert_eq!(after.expiration, stored.expiration);
}

#[test]
fn wrong_numbers_and_translations_are_named_by_field() {
    let f = FormData::parse(
        b"expiry=hours&expiry_hours=0&q.text.0=Why&q.localized.0=nonsense&q.kind.0=choice&q.choices.0=one",
    );
    let d = Draft::read(&f);
    let mut errors = Errors::default();
    d.policy_body(&|_| None, &mut errors);
    assert!(errors.get("expiry_hours").is_some());
    assert!(errors.get("q.localized.0").is_some());
    assert!(errors.get("q.choices.0").is_some());
}
