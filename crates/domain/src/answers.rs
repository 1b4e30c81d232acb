//! A request's answers to its policy's questions, and its justification: parsed from Graph's
//! `accessPackageAnswerString` shape and checked against the policy before a request is created.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use regex::{Regex, RegexBuilder};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::error::{invalid, ValidationError};
use crate::policy::AssignmentPolicy;
use crate::polymorphic;
use crate::question::{AnswerChoice, Question, QuestionKind};

/// Longest answer value and longest justification, in characters.
pub const ANSWER_MAX: usize = 4000;
pub const JUSTIFICATION_MAX: usize = 4000;
/// Compiled-size limit for a question's `regexPattern` (as when the policy was saved).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

const ANSWER_TYPE: &str = "accessPackageAnswerString";
const QUESTION_TYPES: &[&str] =
    &["accessPackageQuestion", "accessPackageTextInputQuestion", "accessPackageMultipleChoiceQuestion"];

/// An answer as sent in a request (Graph `accessPackageAnswerString`).
///
/// In: `{"@odata.type"?: "#microsoft.graph.accessPackageAnswerString", "value", "displayValue"?,
/// "answeredQuestion": {"@odata.type"?, "id"}}`; the answer's type is checked case-insensitively
/// with or without `#`, other answer properties are refused. `answeredQuestion` is a reference:
/// its `@odata.type`, if sent, must name a question type, and other properties of the question
/// (a client may pass back the question it read) are ignored. A missing or null `value` reads as
/// the empty string, i.e. "not answered".
///
/// Out: `{"@odata.type": "#microsoft.graph.accessPackageAnswerString", "value", "displayValue",
/// "answeredQuestion": {"id"}}`; [`Answer::to_graph`] also types `answeredQuestion`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "AnswerIn", into = "AnswerOut")]
pub struct Answer {
    pub question_id: Uuid,
    pub value: String,
    pub display_value: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AnswerIn {
    #[serde(rename = "@odata.type")]
    odata_type: Option<String>,
    answered_question: Option<QuestionRefIn>,
    value: Option<String>,
    display_value: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
struct QuestionRefIn {
    #[serde(rename = "@odata.type")]
    odata_type: Option<String>,
    id: Option<Uuid>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct AnswerOut {
    #[serde(rename = "@odata.type")]
    odata_type: String,
    value: String,
    display_value: Option<String>,
    answered_question: QuestionRefOut,
}

#[derive(Serialize, JsonSchema)]
struct QuestionRefOut {
    id: Uuid,
}

/// The short name of an `@odata.type` value: without `#` and `microsoft.graph.`.
fn short_type(raw: &str) -> &str {
    let raw = raw.trim_start_matches('#');
    raw.strip_prefix("microsoft.graph.").unwrap_or(raw)
}

impl TryFrom<AnswerIn> for Answer {
    type Error = String;

    fn try_from(a: AnswerIn) -> Result<Self, String> {
        if let Some(t) = &a.odata_type {
            if !short_type(t).eq_ignore_ascii_case(ANSWER_TYPE) {
                return Err(format!("unknown answer type '{}'; expected: {ANSWER_TYPE}", short_type(t)));
            }
        }
        let question = a.answered_question.ok_or("an answer needs answeredQuestion with the question's id")?;
        if let Some(t) = &question.odata_type {
            if !QUESTION_TYPES.iter().any(|q| short_type(t).eq_ignore_ascii_case(q)) {
                return Err(format!(
                    "unknown answeredQuestion type '{}'; expected one of: {}",
                    short_type(t),
                    QUESTION_TYPES.join(", ")
                ));
            }
        }
        let question_id = question.id.ok_or("answeredQuestion needs the question's id")?;
        Ok(Answer { question_id, value: a.value.unwrap_or_default(), display_value: a.display_value })
    }
}

impl From<Answer> for AnswerOut {
    fn from(a: Answer) -> Self {
        AnswerOut {
            odata_type: format!("#microsoft.graph.{ANSWER_TYPE}"),
            value: a.value,
            display_value: a.display_value,
            answered_question: QuestionRefOut { id: a.question_id },
        }
    }
}

impl Answer {
    /// The Graph JSON of this answer with `answeredQuestion` typed after the policy's question
    /// (`#microsoft.graph.accessPackageTextInputQuestion` …), as SDKs expect on every polymorphic
    /// value. Untyped when the question is no longer in `questions`.
    pub fn to_graph(&self, questions: &[Question]) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Some(q) = questions.iter().find(|q| q.id == Some(self.question_id)) {
            v["answeredQuestion"] = polymorphic::tagged(q.type_name(), json!({"id": self.question_id}));
        }
        v
    }
}

/// Check `answers` against the policy's `questions` and return them normalised: text answers
/// trimmed (with `displayValue` = the value), multiple-choice answers with `displayValue` filled
/// from the choice, blank answers to optional questions dropped. Input order is kept.
///
/// Refused, with `target` `answers[i]` (or `answers` for a missing answer): an unknown question
/// id; a second answer to a question (a multiple-selection question takes several distinct
/// values); a value over [`ANSWER_MAX`] characters or with control characters; a text answer
/// that does not match the question's `regexPattern` (used as given: Graph patterns carry their
/// own `^…$`) or, for a single-line question, that has a line break; a multiple-choice value
/// that is not one of the choices' `actualValue`; a required question left unanswered or blank.
pub fn validate_answers(questions: &[Question], answers: &[Answer]) -> Result<Vec<Answer>, ValidationError> {
    let by_id: HashMap<Uuid, &Question> = questions.iter().filter_map(|q| q.id.map(|id| (id, q))).collect();
    let mut patterns: HashMap<Uuid, Regex> = HashMap::new();
    let mut answered: HashMap<Uuid, Vec<String>> = HashMap::new();
    let mut out = Vec::with_capacity(answers.len());
    for (i, answer) in answers.iter().enumerate() {
        let target = format!("answers[{i}]");
        let Some(question) = by_id.get(&answer.question_id) else {
            return invalid(
                &target,
                format!("{target} answers question {}, which this policy does not ask", answer.question_id),
            );
        };
        let Some(accepted) = check_answer(question, answer, &target, &mut patterns)? else {
            continue; // blank: not an answer; a required question is caught below
        };
        let previous = answered.entry(answer.question_id).or_default();
        if !previous.is_empty() {
            if !matches!(question.kind, QuestionKind::MultipleChoice { is_multiple_selection_allowed: true, .. }) {
                return invalid(
                    &target,
                    format!("{target}: {} is answered more than once; send one answer", quoted(question)),
                );
            }
            if previous.contains(&accepted.value) {
                return invalid(
                    &target,
                    format!("{target}: '{}' is selected twice for {}", accepted.value, quoted(question)),
                );
            }
        }
        previous.push(accepted.value.clone());
        out.push(accepted);
    }
    for q in questions {
        let Some(id) = q.id else { continue };
        if q.is_required && !answered.contains_key(&id) {
            return invalid("answers", format!("{} is required; answer it to submit the request", quoted(q)));
        }
    }
    Ok(out)
}

/// One answer checked against its question: `None` when blank, else the answer normalised.
/// `patterns` caches compiled `regexPattern`s by question id.
fn check_answer(
    question: &Question,
    answer: &Answer,
    target: &str,
    patterns: &mut HashMap<Uuid, Regex>,
) -> Result<Option<Answer>, ValidationError> {
    let about = quoted(question);
    if answer.value.chars().count() > ANSWER_MAX {
        return invalid(target, format!("{target}: the answer to {about} is longer than {ANSWER_MAX} characters"));
    }
    let multi_line = matches!(question.kind, QuestionKind::TextInput { is_single_line_question: false, .. });
    let allowed = |c: char| !c.is_control() || (multi_line && matches!(c, '\n' | '\r' | '\t'));
    if let Some(bad) = answer.value.chars().find(|c| !allowed(*c)) {
        let what = if matches!(bad, '\n' | '\r') { "a line break" } else { "a control character" };
        return invalid(target, format!("{target}: the answer to {about} must not contain {what}"));
    }
    if answer.value.trim().is_empty() {
        return Ok(None);
    }
    let (value, display_value) = match &question.kind {
        QuestionKind::TextInput { regex_pattern, .. } => {
            let value = answer.value.trim();
            if let Some(pattern) = regex_pattern {
                let Some(re) = compiled(patterns, answer.question_id, pattern) else {
                    let why =
                        format!("{target}: the pattern of {about} is invalid; ask the package's manager to fix it");
                    return invalid(target, why);
                };
                if !re.is_match(value) {
                    return invalid(
                        target,
                        format!("{target}: the answer to {about} must match the pattern {pattern}"),
                    );
                }
            }
            (value.to_owned(), value.to_owned())
        }
        QuestionKind::MultipleChoice { choices, .. } => {
            let Some(choice) = choices.iter().find(|c| c.actual_value == answer.value) else {
                let expected: Vec<&str> = choices.iter().map(|c| c.actual_value.as_str()).collect();
                return invalid(
                    target,
                    format!(
                        "{target}: '{}' is not a choice of {about}; choose one of: {}",
                        answer.value,
                        expected.join(", ")
                    ),
                );
            };
            (choice.actual_value.clone(), choice_display(choice, answer.display_value.as_deref()))
        }
    };
    Ok(Some(Answer { question_id: answer.question_id, value, display_value: Some(display_value) }))
}

/// The question's pattern, compiled once per validation (with the size limit policies are saved
/// with); `None` if it does not compile.
fn compiled<'a>(patterns: &'a mut HashMap<Uuid, Regex>, question: Uuid, pattern: &str) -> Option<&'a Regex> {
    match patterns.entry(question) {
        Entry::Occupied(e) => Some(e.into_mut()),
        Entry::Vacant(e) => {
            RegexBuilder::new(pattern).size_limit(REGEX_SIZE_LIMIT).build().ok().map(|re| &*e.insert(re))
        }
    }
}

/// The display value of a chosen answer: the requestor's, when it is the choice's text or one of
/// its translations (the portal shows the requestor's language); otherwise the choice's text, so
/// that approvers never read a label that differs from the value chosen.
fn choice_display(choice: &AnswerChoice, sent: Option<&str>) -> String {
    let sent = sent.map(str::trim).filter(|s| !s.is_empty());
    match sent {
        Some(s) if s == choice.text.trim() || choice.localizations.iter().any(|l| l.text.trim() == s) => s.to_owned(),
        _ => choice.text.clone(),
    }
}

fn quoted(q: &Question) -> String {
    format!("question '{}'", q.text)
}

/// Check a request's justification against the policy and return it trimmed (`None` when blank).
///
/// Required (non-blank) when the policy's `requestApprovalSettings.isRequestorJustificationRequired`
/// is set; Graph applies that flag to new requests and to updates alike, so `for_update` only
/// changes the wording. Never longer than [`JUSTIFICATION_MAX`] characters; line breaks are
/// allowed, other control characters are not.
pub fn validate_justification(
    policy: &AssignmentPolicy,
    justification: Option<&str>,
    for_update: bool,
) -> Result<Option<String>, ValidationError> {
    let t = "justification";
    let value = justification.map(str::trim).filter(|s| !s.is_empty());
    let Some(value) = value else {
        if policy.request_approval_settings.is_requestor_justification_required {
            let why = if for_update { "why you need this change to your access" } else { "why you need this access" };
            return invalid(
                t,
                format!("a justification is required by policy '{}': explain {why}", policy.display_name),
            );
        }
        return Ok(None);
    };
    if value.chars().count() > JUSTIFICATION_MAX {
        return invalid(t, format!("the justification must be at most {JUSTIFICATION_MAX} characters"));
    }
    if value.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return invalid(t, "the justification must not contain control characters");
    }
    Ok(Some(value.to_owned()))
}

#[cfg(test)]
#[path = "answers_tests.rs"]
mod tests;
