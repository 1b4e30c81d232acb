//! Questions a policy asks requestors.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::error::{invalid, ValidationError};
use crate::polymorphic::{self, tagged};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LocalizedText {
    /// Accepted on input (clients may annotate any complex value), never emitted.
    #[serde(rename = "@odata.type", default, skip_serializing)]
    pub odata_type: Option<String>,
    pub language_code: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AnswerChoice {
    /// Accepted on input (clients may annotate any complex value), never emitted.
    #[serde(rename = "@odata.type", default, skip_serializing)]
    pub odata_type: Option<String>,
    pub actual_value: String,
    pub text: String,
    #[serde(default)]
    pub localizations: Vec<LocalizedText>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuestionKind {
    TextInput { is_single_line_question: bool, regex_pattern: Option<String> },
    MultipleChoice { choices: Vec<AnswerChoice>, is_multiple_selection_allowed: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// Server-assigned; `None` on input for a new question.
    pub id: Option<Uuid>,
    pub text: String,
    pub localizations: Vec<LocalizedText>,
    pub sequence: i32,
    pub is_required: bool,
    pub is_answer_editable: bool,
    pub kind: QuestionKind,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct QuestionIn {
    #[serde(rename = "@odata.type")]
    _t: Option<String>,
    id: Option<Uuid>,
    text: Option<String>,
    #[serde(default)]
    localizations: Vec<LocalizedText>,
    sequence: Option<i32>,
    is_required: Option<bool>,
    is_answer_editable: Option<bool>,
    is_single_line_question: Option<bool>,
    regex_pattern: Option<String>,
    choices: Option<Vec<AnswerChoice>>,
    is_multiple_selection_allowed: Option<bool>,
}

const TYPES: &[&str] = &["accessPackageTextInputQuestion", "accessPackageMultipleChoiceQuestion"];

impl schemars::JsonSchema for Question {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "accessPackageQuestion".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let fields = polymorphic::subtype_schema::<QuestionIn>();
        let only = |drop: &[&str]| {
            let mut s = fields.clone();
            if let Some(props) = s.get_mut("properties").and_then(Value::as_object_mut) {
                for d in drop {
                    props.remove(*d);
                }
            }
            s
        };
        let text = only(&["choices", "isMultipleSelectionAllowed"]);
        let choice = only(&["isSingleLineQuestion", "regexPattern"]);
        polymorphic::schema(vec![
            ("#microsoft.graph.accessPackageTextInputQuestion", text, &[]),
            ("#microsoft.graph.accessPackageMultipleChoiceQuestion", choice, &[]),
        ])
    }
}

impl<'de> Deserialize<'de> for Question {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = polymorphic::object::<D::Error>(Value::deserialize(d)?, "question")?;
        let t = polymorphic::type_name(&value);
        let q: QuestionIn = polymorphic::subtype(value, "question")?;
        let kind = match t.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("accesspackagetextinputquestion") => {
                if q.choices.is_some() || q.is_multiple_selection_allowed.is_some() {
                    return Err(D::Error::custom("a text input question has no choices"));
                }
                QuestionKind::TextInput {
                    is_single_line_question: q.is_single_line_question.unwrap_or(true),
                    regex_pattern: q.regex_pattern.filter(|p| !p.is_empty()),
                }
            }
            Some("accesspackagemultiplechoicequestion") => {
                if q.regex_pattern.is_some() || q.is_single_line_question.is_some() {
                    return Err(D::Error::custom(
                        "a multiple choice question has no regexPattern or isSingleLineQuestion",
                    ));
                }
                QuestionKind::MultipleChoice {
                    choices: q.choices.unwrap_or_default(),
                    is_multiple_selection_allowed: q.is_multiple_selection_allowed.unwrap_or(false),
                }
            }
            _ => return Err(polymorphic::unknown_type("question", t.as_deref(), TYPES)),
        };
        Ok(Question {
            id: q.id,
            text: q.text.unwrap_or_default(),
            localizations: q.localizations,
            sequence: q.sequence.unwrap_or(0),
            is_required: q.is_required.unwrap_or(false),
            is_answer_editable: q.is_answer_editable.unwrap_or(false),
            kind,
        })
    }
}

impl Serialize for Question {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut body = json!({
            "id": self.id,
            "text": self.text,
            "localizations": self.localizations,
            "sequence": self.sequence,
            "isRequired": self.is_required,
            "isAnswerEditable": self.is_answer_editable,
        });
        let extra = match &self.kind {
            QuestionKind::TextInput { is_single_line_question, regex_pattern } => {
                json!({"isSingleLineQuestion": is_single_line_question, "regexPattern": regex_pattern})
            }
            QuestionKind::MultipleChoice { choices, is_multiple_selection_allowed } => {
                json!({"choices": choices, "isMultipleSelectionAllowed": is_multiple_selection_allowed})
            }
        };
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            b.extend(e);
        }
        tagged(self.type_name(), body).serialize(s)
    }
}

impl Question {
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            QuestionKind::TextInput { .. } => "accessPackageTextInputQuestion",
            QuestionKind::MultipleChoice { .. } => "accessPackageMultipleChoiceQuestion",
        }
    }

    pub fn validate(&self, at: usize) -> Result<(), ValidationError> {
        let target = format!("questions[{at}]");
        if self.text.trim().is_empty() {
            return invalid(&target, format!("{target}.text is required"));
        }
        if self.text.chars().count() > 1024 {
            return invalid(&target, format!("{target}.text must be at most 1024 characters"));
        }
        for l in &self.localizations {
            if l.language_code.trim().is_empty() || l.text.trim().is_empty() {
                return invalid(&target, format!("{target}.localizations need a languageCode and a text"));
            }
        }
        match &self.kind {
            QuestionKind::TextInput { regex_pattern: Some(p), .. } => {
                if p.len() > 1000 {
                    return invalid(&target, format!("{target}.regexPattern is too long"));
                }
                if let Err(e) = regex::RegexBuilder::new(p).size_limit(1 << 20).build() {
                    return invalid(&target, format!("{target}.regexPattern is not a valid regular expression: {e}"));
                }
            }
            QuestionKind::TextInput { .. } => {}
            QuestionKind::MultipleChoice { choices, .. } => {
                if choices.is_empty() {
                    return invalid(&target, format!("{target} needs at least one choice"));
                }
                let mut seen = std::collections::HashSet::new();
                for c in choices {
                    if c.actual_value.trim().is_empty() || c.text.trim().is_empty() {
                        return invalid(&target, format!("{target}.choices need an actualValue and a text"));
                    }
                    if !seen.insert(c.actual_value.as_str()) {
                        return invalid(
                            &target,
                            format!("{target}.choices repeat the actualValue '{}'", c.actual_value),
                        );
                    }
                }
            }
        }
        Ok(())
    }
}

/// The text for a reader whose preferred languages are `languages` (best first, as read from
/// `Accept-Language`): for the first language that any localization serves, the one with that
/// exact code, else one sharing its primary language (`fr` for `fr-CA` and the other way
/// round); the default text when none does. Codes compare case-insensitively.
pub fn localized<'a>(default: &'a str, localizations: &'a [LocalizedText], languages: &[String]) -> &'a str {
    let primary = |code: &str| code.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
    for wanted in languages {
        let wanted = wanted.trim();
        if wanted.is_empty() || wanted == "*" {
            continue;
        }
        if let Some(l) = localizations.iter().find(|l| l.language_code.trim().eq_ignore_ascii_case(wanted)) {
            return &l.text;
        }
        let p = primary(wanted);
        if let Some(l) = localizations.iter().find(|l| primary(l.language_code.trim()) == p) {
            return &l.text;
        }
    }
    default
}

impl Question {
    /// The question's text in the reader's language (see [`localized`]).
    pub fn text_for<'a>(&'a self, languages: &[String]) -> &'a str {
        localized(&self.text, &self.localizations, languages)
    }
}

impl AnswerChoice {
    /// The choice's shown text in the reader's language; its `actual_value` is never shown.
    pub fn text_for<'a>(&'a self, languages: &[String]) -> &'a str {
        localized(&self.text, &self.localizations, languages)
    }
}

#[cfg(test)]
mod localization_tests {
    use super::*;

    fn l(code: &str, text: &str) -> LocalizedText {
        LocalizedText { odata_type: None, language_code: code.into(), text: text.into() }
    }

    fn langs(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_first_served_language_wins_exact_before_primary() {
        let ls = [l("fr-FR", "Bonjour (France)"), l("fr-CA", "Allô"), l("de", "Hallo")];
        assert_eq!(localized("Hello", &ls, &langs(&["fr-CA", "de"])), "Allô");
        assert_eq!(localized("Hello", &ls, &langs(&["FR-ca"])), "Allô", "codes compare case-insensitively");
        // No fr-BE: another French one serves it before German is considered.
        assert_eq!(localized("Hello", &ls, &langs(&["fr-BE", "de"])), "Bonjour (France)");
        assert_eq!(localized("Hello", &ls, &langs(&["de-AT"])), "Hallo");
        assert_eq!(localized("Hello", &ls, &langs(&["es", "de"])), "Hallo", "skips languages nobody serves");
    }

    #[test]
    fn without_a_match_the_default_text_is_shown() {
        let ls = [l("de", "Hallo")];
        assert_eq!(localized("Hello", &ls, &langs(&["en-GB"])), "Hello");
        assert_eq!(localized("Hello", &ls, &langs(&["*"])), "Hello");
        assert_eq!(localized("Hello", &ls, &[]), "Hello");
        assert_eq!(localized("Hello", &[], &langs(&["de"])), "Hello");
    }
}
