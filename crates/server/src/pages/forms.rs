//! Form bodies as the pages post them. Read as ordered pairs rather than with serde: a
//! multiple-selection question sends one field several times, which `serde_urlencoded`
//! cannot map.

pub struct FormData(Vec<(String, String)>);

impl FormData {
    /// Control characters other than line breaks and tabs are dropped: no form field means
    /// them, and PostgreSQL cannot even store a NUL (the API refuses them in bodies alike).
    pub fn parse(body: &[u8]) -> FormData {
        FormData(url::form_urlencoded::parse(body).map(|(k, v)| (clean(&k), clean(&v))).collect())
    }

    /// The first value of `name`, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    /// Every non-blank value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty()).collect()
    }

    /// Every field in order, for names that carry a key (`role.<id>`).
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn raw(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// `s` without control characters other than line breaks and tabs.
pub fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t')).collect()
}

/// A search box's text from a page's query: trimmed, cleaned, at most 200 characters.
pub fn search_text(raw: Option<&str>) -> String {
    clean(raw.unwrap_or("")).trim().chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_fields_are_all_kept() {
        let f = FormData::parse(b"q=1&q=2&j=+why+&blank=+&q=");
        assert_eq!(f.all("q"), ["1", "2"]);
        assert_eq!(f.get("j"), Some("why"));
        assert_eq!(f.get("blank"), None);
        assert_eq!(f.raw("blank"), Some(" "));
        assert_eq!(f.get("missing"), None);
    }

    #[test]
    fn control_characters_never_arrive() {
        let f = FormData::parse(b"name=a%00b%07c&note=line%0Aline");
        assert_eq!(f.get("name"), Some("abc"));
        assert_eq!(f.get("note"), Some("line\nline"));
        assert_eq!(search_text(Some(" \u{0}x\u{1b} ")), "x");
    }
}
