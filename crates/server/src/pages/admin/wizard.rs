//! Wizards without drafts on the server. Every tab's fields are in one form and only the
//! current tab is visible (the others are `hidden`, and the browser still submits their
//! controls), so a tab, Next, Back and Create all post everything entered. The server checks
//! the tabs before the one asked for and shows the first that is wrong, its messages next to
//! their fields; Create checks them all and writes in one transaction. Nothing is stored before
//! Create — an abandoned wizard leaves nothing behind — and a refusal never loses what was
//! typed (the anchor's wizard must be restarted after some errors).

use crate::pages::forms::FormData;

/// One tab of a wizard, as the template shows it.
pub struct Tab {
    pub key: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// The tabs of a wizard, `current` marked.
pub fn tabs(all: &[(&'static str, &'static str)], current: &str) -> Vec<Tab> {
    all.iter().map(|(key, label)| Tab { key, label, current: *key == current }).collect()
}

/// The tab after and before `current`, for Next and Back.
pub fn neighbours(all: &[(&'static str, &'static str)], current: &str) -> (Option<Tab>, Option<Tab>) {
    let at = all.iter().position(|(k, _)| *k == current).unwrap_or(0);
    let tab = |i: usize| all.get(i).map(|(key, label)| Tab { key, label, current: false });
    (tab(at + 1), at.checked_sub(1).and_then(tab))
}

/// What the button pressed asks: go to a tab, create, or an action within a tab.
pub fn asked<'f>(f: &'f FormData, all: &[(&'static str, &'static str)]) -> (&'static str, &'f str) {
    let go = f.get("go").unwrap_or("");
    let tab = all.iter().find(|(k, _)| *k == go).map(|(k, _)| *k);
    (tab.unwrap_or(all[0].0), go)
}

/// Messages per field. Each field belongs to a tab, so the wizard can show the first wrong tab.
#[derive(Default)]
pub struct Errors(Vec<(String, String)>);

impl Errors {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        let field = field.into();
        if self.get(&field).is_none() {
            self.0.push((field, message.into()));
        }
    }

    /// The message for `field`, if it is wrong.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether any field whose name starts with one of `prefixes` is wrong.
    pub fn any(&self, prefixes: &[&str]) -> bool {
        self.0.iter().any(|(f, _)| prefixes.iter().any(|p| f.starts_with(p)))
    }

    /// The messages in order, for the summary at the top of a refused tab.
    pub fn all(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(f, m)| (f.as_str(), m.as_str()))
    }
}

/// Indexed rows of a form (`domain.0`, `domain.1`, …): the rows the form sent, in order.
pub fn rows(f: &FormData, prefix: &str, max: usize) -> Vec<usize> {
    (0..max).filter(|i| f.raw(&format!("{prefix}.{i}")).is_some()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABS: &[(&str, &str)] = &[("a", "A"), ("b", "B"), ("c", "C")];

    #[test]
    fn the_button_names_the_tab_and_anything_else_stays_on_the_first() {
        let f = FormData::parse(b"go=b");
        assert_eq!(asked(&f, TABS).0, "b");
        let f = FormData::parse(b"go=create");
        assert_eq!(asked(&f, TABS), ("a", "create"));
        let (next, back) = neighbours(TABS, "a");
        assert_eq!(next.map(|t| t.key), Some("b"));
        assert!(back.is_none());
        let (next, back) = neighbours(TABS, "c");
        assert!(next.is_none());
        assert_eq!(back.map(|t| t.key), Some("b"));
    }

    #[test]
    fn the_first_message_for_a_field_is_kept() {
        let mut e = Errors::default();
        e.add("name", "first");
        e.add("name", "second");
        e.add("domain.1", "taken");
        assert_eq!(e.get("name"), Some("first"));
        assert!(e.any(&["domain"]));
        assert!(!e.any(&["sponsor"]));
    }
}
