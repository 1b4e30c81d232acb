//! Shared rules for request bodies.
//!
//! Bodies are strict: an unknown property is a 400, because a misspelt `isHiden` silently
//! ignored would leave a package visible that an admin meant to hide. Clients that PUT back
//! what they read are still accepted: the read-only properties Graph emits are dropped first.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use uuid::Uuid;

/// Server-set properties a client may echo back; they are ignored on input.
const READ_ONLY: &[&str] = &["id", "createdDateTime", "modifiedDateTime", "createdBy", "modifiedBy"];

/// Remove echoed read-only properties and OData annotations from a top-level body.
pub fn strip_echo(value: &mut Value) {
    if let Value::Object(map) = value {
        map.retain(|k, _| !READ_ONLY.contains(&k.as_str()) && !k.starts_with("@odata."));
    }
}

/// As [`strip_echo`], keeping `@odata.type`: for bodies whose type says what they are (a
/// custom extension's subtype).
pub fn strip_echo_keeping_type(value: &mut Value) {
    if let Value::Object(map) = value {
        map.retain(|k, _| !READ_ONLY.contains(&k.as_str()) && (k == "@odata.type" || !k.starts_with("@odata.")));
    }
}

/// Deserializer for `Option<Option<T>>`: absent → `None`, `null` → `Some(None)`.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A reference to another entity in a body, such as `"catalog": {"id": "…"}`. Other properties
/// of the referenced entity (a client may send it expanded) are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub struct EntityRef {
    pub id: Uuid,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strip_echo_keeps_real_properties() {
        let mut v = json!({"@odata.context": "x", "id": "1", "createdDateTime": "t", "displayName": "n"});
        strip_echo(&mut v);
        assert_eq!(v, json!({"displayName": "n"}));
    }
}
