//! Form bodies as the pages post them. Read as ordered pairs rather than with serde: a
//! multiple-selection question sends one field several times, which `serde_urlencoded`
//! cannot map.

pub struct FormData(Vec<(String, String)>);

impl FormData {
    pub fn parse(body: &[u8]) -> FormData {
        FormData(url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
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
}
