//! Tests of answers and justifications: the wire shape, one test per rule, and property tests
//! that validation is total and that what it accepts obeys the questions.

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use serde_json::{json, Value};
use uuid::Uuid;

use super::*;
use crate::policy::{PolicyContext, PolicyInput};

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000, 0).unwrap()
}

fn policy(extra: Value) -> AssignmentPolicy {
    let mut body = json!({"displayName": "Fabrikam engineers", "allowedTargetScope": "allExternalUsers"});
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    let input: PolicyInput = serde_json::from_value(body).unwrap();
    let mut n = 0u128;
    let mut ids = move || {
        n += 1;
        Uuid::from_u128(n)
    };
    let ctx = PolicyContext {
        id: Uuid::nil(),
        access_package_id: Uuid::nil(),
        catalog_id: Uuid::nil(),
        now: now(),
        existing: None,
        new_id: &mut ids,
    };
    AssignmentPolicy::build(input, ctx).unwrap()
}

/// The policy's questions, in sequence order: PO number (required, single line, pattern),
/// team (required, one choice), comments (optional, multi-line), regions (optional, several).
fn questions() -> Vec<Question> {
    policy(json!({"questions": [
        {"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "sequence": 1, "isRequired": true,
         "text": "Purchase order number?", "isSingleLineQuestion": true, "regexPattern": "^PO-[0-9]{6}$"},
        {"@odata.type": "#microsoft.graph.accessPackageMultipleChoiceQuestion", "sequence": 2, "isRequired": true,
         "text": "Team?", "choices": [
            {"actualValue": "hw", "text": "Hardware", "localizations": [{"languageCode": "de-DE", "text": "Hardware-Team"}]},
            {"actualValue": "sw", "text": "Software"}]},
        {"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "sequence": 3,
         "text": "Comments?", "isSingleLineQuestion": false},
        {"@odata.type": "#microsoft.graph.accessPackageMultipleChoiceQuestion", "sequence": 4,
         "text": "Regions?", "isMultipleSelectionAllowed": true, "choices": [
            {"actualValue": "eu", "text": "Europe"}, {"actualValue": "us", "text": "Americas"}]}
    ]}))
    .questions
}

fn qid(qs: &[Question], i: usize) -> Uuid {
    qs[i].id.unwrap()
}

fn answer(question_id: Uuid, value: &str) -> Answer {
    Answer { question_id, value: value.into(), display_value: None }
}

/// Answers to the two required questions.
fn required(qs: &[Question]) -> Vec<Answer> {
    vec![answer(qid(qs, 0), "PO-004711"), answer(qid(qs, 1), "hw")]
}

fn refused(qs: &[Question], answers: &[Answer]) -> ValidationError {
    validate_answers(qs, answers).unwrap_err()
}

#[test]
fn reads_the_graph_shape_with_or_without_hash_in_any_case() {
    let q = Uuid::from_u128(7);
    let a: Answer = serde_json::from_value(json!({
        "@odata.type": "#microsoft.graph.accessPackageAnswerString", "value": "PO-004711", "displayValue": "PO-004711",
        "answeredQuestion": {"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "id": q}}))
    .unwrap();
    assert_eq!(a, Answer { question_id: q, value: "PO-004711".into(), display_value: Some("PO-004711".into()) });
    let b: Answer = serde_json::from_value(json!({"@odata.type": "microsoft.graph.AccessPackageAnswerString",
        "value": "PO-004711", "displayValue": "PO-004711", "answeredQuestion": {"id": q}}))
    .unwrap();
    assert_eq!(a, b);
    let bare: Answer = serde_json::from_value(json!({"answeredQuestion": {"id": q}})).unwrap();
    assert_eq!(bare.value, "", "a missing value is an empty answer");
    // A client may pass back the whole question it read; only the id counts.
    let echoed: Answer = serde_json::from_value(json!({"value": "x", "answeredQuestion": {
        "@odata.type": "#microsoft.graph.accessPackageMultipleChoiceQuestion", "id": q, "text": "Team?", "sequence": 2}}))
    .unwrap();
    assert_eq!(echoed.question_id, q);
}

#[test]
fn refuses_other_types_unknown_properties_and_a_missing_question() {
    let q = Uuid::from_u128(7);
    let err = |v: Value| serde_json::from_value::<Answer>(v).unwrap_err().to_string();
    let e = err(json!({"@odata.type": "#microsoft.graph.accessPackageAnswerNumber", "answeredQuestion": {"id": q}}));
    assert!(e.contains("unknown answer type 'accessPackageAnswerNumber'"), "{e}");
    assert!(err(json!({"value": "x", "answeredQuestion": {"id": q}, "valu": "y"})).contains("valu"));
    assert!(err(json!({"value": "x"})).contains("needs answeredQuestion"));
    assert!(err(json!({"value": "x", "answeredQuestion": {}})).contains("needs the question's id"));
    let e = err(json!({"value": "x", "answeredQuestion": {"@odata.type": "#microsoft.graph.user", "id": q}}));
    assert!(e.contains("unknown answeredQuestion type 'user'"), "{e}");
}

#[test]
fn writes_the_graph_shape() {
    let qs = questions();
    let a = Answer { question_id: qid(&qs, 1), value: "hw".into(), display_value: Some("Hardware".into()) };
    let v = serde_json::to_value(&a).unwrap();
    assert_eq!(
        v,
        json!({"@odata.type": "#microsoft.graph.accessPackageAnswerString", "value": "hw",
            "displayValue": "Hardware", "answeredQuestion": {"id": qid(&qs, 1)}})
    );
    assert_eq!(serde_json::from_value::<Answer>(v).unwrap(), a, "round trip");
    let typed = a.to_graph(&qs);
    assert_eq!(typed["answeredQuestion"]["@odata.type"], "#microsoft.graph.accessPackageMultipleChoiceQuestion");
    assert_eq!(typed["answeredQuestion"]["id"], json!(qid(&qs, 1)));
    assert!(a.to_graph(&[])["answeredQuestion"].get("@odata.type").is_none());
}

#[test]
fn required_questions_must_be_answered_with_a_non_blank_value() {
    let qs = questions();
    assert_eq!(validate_answers(&qs, &required(&qs)).unwrap().len(), 2);
    let e = refused(&qs, &required(&qs)[..1]);
    assert_eq!(e.target.as_deref(), Some("answers"));
    assert!(e.message.contains("question 'Team?' is required"), "{}", e.message);
    let blank = vec![answer(qid(&qs, 0), "   "), answer(qid(&qs, 1), "hw")];
    assert!(refused(&qs, &blank).message.contains("'Purchase order number?' is required"));
    assert!(refused(&qs, &[]).message.contains("is required"));
}

#[test]
fn blank_answers_to_optional_questions_are_dropped() {
    let qs = questions();
    let mut answers = required(&qs);
    answers.push(answer(qid(&qs, 2), "  \n "));
    answers.push(answer(qid(&qs, 3), ""));
    assert_eq!(validate_answers(&qs, &answers).unwrap(), validate_answers(&qs, &required(&qs)).unwrap());
}

#[test]
fn answers_to_unknown_questions_are_refused_by_id() {
    let qs = questions();
    let stranger = Uuid::from_u128(0xdead);
    let mut answers = required(&qs);
    answers.insert(1, answer(stranger, "x"));
    let e = refused(&qs, &answers);
    assert_eq!(e.target.as_deref(), Some("answers[1]"));
    assert!(e.message.contains(&stranger.to_string()), "{}", e.message);
}

#[test]
fn one_answer_per_question() {
    let qs = questions();
    let mut answers = required(&qs);
    answers.push(answer(qid(&qs, 0), "PO-000001"));
    let e = refused(&qs, &answers);
    assert_eq!(e.target.as_deref(), Some("answers[2]"));
    assert!(e.message.contains("answered more than once"), "{}", e.message);
    let mut answers = required(&qs);
    answers.push(answer(qid(&qs, 1), "sw"));
    assert!(refused(&qs, &answers).message.contains("'Team?' is answered more than once"));
}

#[test]
fn multiple_selection_takes_several_distinct_choices() {
    let qs = questions();
    let mut answers = required(&qs);
    answers.push(answer(qid(&qs, 3), "eu"));
    answers.push(answer(qid(&qs, 3), "us"));
    let ok = validate_answers(&qs, &answers).unwrap();
    assert_eq!(ok.iter().filter(|a| a.question_id == qid(&qs, 3)).count(), 2);
    answers.push(answer(qid(&qs, 3), "eu"));
    let e = refused(&qs, &answers);
    assert_eq!(e.target.as_deref(), Some("answers[4]"));
    assert!(e.message.contains("'eu' is selected twice"), "{}", e.message);
}

#[test]
fn text_answers_must_match_the_pattern_as_given() {
    let qs = questions();
    let bad = vec![answer(qid(&qs, 0), "PO-47"), answer(qid(&qs, 1), "hw")];
    let e = refused(&qs, &bad);
    assert_eq!(e.target.as_deref(), Some("answers[0]"));
    assert!(e.message.contains("must match the pattern ^PO-[0-9]{6}$"), "{}", e.message);
    let padded = vec![answer(qid(&qs, 0), "  PO-004711 "), answer(qid(&qs, 1), "hw")];
    let ok = validate_answers(&qs, &padded).unwrap();
    assert_eq!(ok[0].value, "PO-004711", "text answers are trimmed");
    assert_eq!(ok[0].display_value.as_deref(), Some("PO-004711"));
    // A pattern without anchors is used as given: it may match part of the answer.
    let loose = policy(json!({"questions": [{"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion",
        "text": "Ticket?", "isRequired": true, "regexPattern": "[0-9]{3}"}]}))
    .questions;
    assert!(validate_answers(&loose, &[answer(qid(&loose, 0), "ticket 123 please")]).is_ok());
    assert!(validate_answers(&loose, &[answer(qid(&loose, 0), "ticket twelve")]).is_err());
}

#[test]
fn a_stored_pattern_that_no_longer_compiles_is_refused_not_a_panic() {
    let mut qs = questions();
    qs[0].kind = QuestionKind::TextInput { is_single_line_question: true, regex_pattern: Some("([".into()) };
    let e = refused(&qs, &required(&qs));
    assert_eq!(e.target.as_deref(), Some("answers[0]"));
    assert!(e.message.contains("pattern of question 'Purchase order number?' is invalid"), "{}", e.message);
}

#[test]
fn single_line_questions_refuse_line_breaks_and_multi_line_ones_take_them() {
    let qs = questions();
    let e = refused(&qs, &[answer(qid(&qs, 0), "PO-004711\nPO-000002"), answer(qid(&qs, 1), "hw")]);
    assert!(e.message.contains("must not contain a line break"), "{}", e.message);
    let e = refused(&qs, &[answer(qid(&qs, 0), "PO-004711\n"), answer(qid(&qs, 1), "hw")]);
    assert!(e.message.contains("line break"), "a trailing newline is refused, not trimmed away");
    let mut answers = required(&qs);
    answers.push(answer(qid(&qs, 2), "first line\nsecond line"));
    assert_eq!(validate_answers(&qs, &answers).unwrap()[2].value, "first line\nsecond line");
    answers[2].value = "nul\0byte".into();
    assert!(refused(&qs, &answers).message.contains("control character"));
}

#[test]
fn multiple_choice_values_are_actual_values_and_get_their_display_text() {
    let qs = questions();
    let e = refused(&qs, &[answer(qid(&qs, 0), "PO-004711"), answer(qid(&qs, 1), "Hardware")]);
    assert_eq!(e.target.as_deref(), Some("answers[1]"));
    assert!(
        e.message.contains("'Hardware' is not a choice of question 'Team?'; choose one of: hw, sw"),
        "{}",
        e.message
    );
    let ok = validate_answers(&qs, &required(&qs)).unwrap();
    assert_eq!(ok[1].display_value.as_deref(), Some("Hardware"), "filled from the choice");
    let localized = Answer { display_value: Some("Hardware-Team".into()), ..answer(qid(&qs, 1), "hw") };
    let ok = validate_answers(&qs, &[answer(qid(&qs, 0), "PO-004711"), localized]).unwrap();
    assert_eq!(ok[1].display_value.as_deref(), Some("Hardware-Team"), "a translation of the choice is kept");
    let lying = Answer { display_value: Some("Software".into()), ..answer(qid(&qs, 1), "hw") };
    let ok = validate_answers(&qs, &[answer(qid(&qs, 0), "PO-004711"), lying]).unwrap();
    assert_eq!(ok[1].display_value.as_deref(), Some("Hardware"), "a label of another choice is replaced");
}

#[test]
fn answers_are_at_most_4000_characters() {
    let qs = questions();
    let mut answers = required(&qs);
    answers.push(answer(qid(&qs, 2), &"é".repeat(ANSWER_MAX)));
    assert!(validate_answers(&qs, &answers).is_ok());
    answers[2].value.push('x');
    let e = refused(&qs, &answers);
    assert_eq!(e.target.as_deref(), Some("answers[2]"));
    assert!(e.message.contains("longer than 4000 characters"), "{}", e.message);
}

#[test]
fn justification_is_required_when_the_policy_says_so() {
    let strict = policy(json!({"requestApprovalSettings": {"isRequestorJustificationRequired": true}}));
    for blank in [None, Some(""), Some("  \n ")] {
        let e = validate_justification(&strict, blank, false).unwrap_err();
        assert_eq!(e.target.as_deref(), Some("justification"));
        assert!(e.message.contains("justification is required by policy 'Fabrikam engineers'"), "{}", e.message);
    }
    let e = validate_justification(&strict, None, true).unwrap_err();
    assert!(e.message.contains("change to your access"), "{}", e.message);
    assert_eq!(
        validate_justification(&strict, Some("  For PO-004711 \n"), false).unwrap().as_deref(),
        Some("For PO-004711")
    );
    let relaxed = policy(json!({}));
    assert_eq!(validate_justification(&relaxed, None, false).unwrap(), None);
    assert_eq!(validate_justification(&relaxed, Some("   "), true).unwrap(), None);
    assert_eq!(validate_justification(&relaxed, Some(" why "), true).unwrap().as_deref(), Some("why"));
}

#[test]
fn justification_is_bounded_and_plain_text() {
    let p = policy(json!({"requestApprovalSettings": {"isRequestorJustificationRequired": true}}));
    assert!(validate_justification(&p, Some(&"a".repeat(JUSTIFICATION_MAX)), false).is_ok());
    let e = validate_justification(&p, Some(&"a".repeat(JUSTIFICATION_MAX + 1)), false).unwrap_err();
    assert!(e.message.contains("at most 4000 characters"), "{}", e.message);
    assert!(validate_justification(&p, Some("line one\nline two"), false).is_ok());
    let e = validate_justification(&p, Some("bell\u{7}"), false).unwrap_err();
    assert!(e.message.contains("control characters"));
}

fn arb_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ \\n]{0,2}PO-[0-9]{4,7}[ \\n]{0,2}",
        prop::sample::select(vec!["hw", "sw", "eu", "us", "Hardware", " hw", ""]).prop_map(String::from),
        ".{3990,4010}",
    ]
}

proptest! {
    #[test]
    fn validation_is_total_and_accepted_answers_obey_the_questions(
        with_required in any::<bool>(),
        picks in prop::collection::vec((0usize..5, arb_value(), prop::option::of(".{0,12}")), 0..6),
    ) {
        let qs = questions();
        // Starting from valid answers to the required questions makes acceptance common.
        let mut answers = if with_required { required(&qs) } else { Vec::new() };
        answers.extend(picks
            .into_iter()
            .map(|(i, value, display_value)| Answer {
                question_id: qs.get(i).and_then(|q| q.id).unwrap_or(Uuid::from_u128(0xdead)),
                value,
                display_value,
            }));
        let pattern = Regex::new("^PO-[0-9]{6}$").unwrap();
        if let Ok(accepted) = validate_answers(&qs, &answers) {
            for a in &accepted {
                let q = qs.iter().find(|q| q.id == Some(a.question_id));
                prop_assert!(q.is_some());
                prop_assert!(!a.value.trim().is_empty() && a.value.chars().count() <= ANSWER_MAX);
                match &q.unwrap().kind {
                    QuestionKind::TextInput { is_single_line_question, regex_pattern } => {
                        if regex_pattern.is_some() {
                            prop_assert!(pattern.is_match(&a.value));
                        }
                        if *is_single_line_question {
                            prop_assert!(!a.value.contains(['\n', '\r']));
                        }
                    }
                    QuestionKind::MultipleChoice { choices, .. } => {
                        let choice = choices.iter().find(|c| c.actual_value == a.value);
                        prop_assert!(choice.is_some());
                        let display = a.display_value.as_deref().unwrap_or_default();
                        let choice = choice.unwrap();
                        prop_assert!(display == choice.text || choice.localizations.iter().any(|l| l.text == display));
                    }
                }
            }
            for q in qs.iter().filter(|q| q.is_required) {
                prop_assert!(accepted.iter().any(|a| Some(a.question_id) == q.id));
            }
        }
    }

    #[test]
    fn justification_validation_is_total(s in any::<String>(), required in any::<bool>(), update in any::<bool>()) {
        let p = policy(json!({"requestApprovalSettings": {"isRequestorJustificationRequired": required}}));
        if let Ok(Some(j)) = validate_justification(&p, Some(&s), update) {
            prop_assert_eq!(j.trim(), j.as_str());
            prop_assert!(!j.is_empty() && j.chars().count() <= JUSTIFICATION_MAX);
        }
    }
}
