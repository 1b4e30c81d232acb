//! Helpers for Graph's polymorphic JSON values, discriminated by `@odata.type`.
//! Input may carry the type with or without the leading `#` and in any case; output always
//! carries `#microsoft.graph.<name>` because the Python SDK only matches that form.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// The short type name (`singleUser`) of a polymorphic input value, without namespace or `#`.
pub fn type_name(value: &Value) -> Option<String> {
    let raw = value.get("@odata.type")?.as_str()?;
    let raw = raw.trim_start_matches('#');
    let short = raw.strip_prefix("microsoft.graph.").unwrap_or(raw);
    Some(short.to_owned())
}

/// Deserialize the subtype struct `T` from `value`, refusing unknown properties.
pub fn subtype<T: DeserializeOwned, E: serde::de::Error>(value: Value, what: &str) -> Result<T, E> {
    serde_json::from_value(value).map_err(|e| E::custom(format!("{what}: {e}")))
}

/// Build the error for a missing or unknown discriminator.
pub fn unknown_type<E: serde::de::Error>(kind: &str, found: Option<&str>, expected: &[&str]) -> E {
    match found {
        None => E::custom(format!("{kind} needs an @odata.type; expected one of: {}", expected.join(", "))),
        Some(t) => E::custom(format!("unknown {kind} type '{t}'; expected one of: {}", expected.join(", "))),
    }
}

/// Parse a value that must be a JSON object.
pub fn object<E: serde::de::Error>(value: Value, kind: &str) -> Result<Value, E> {
    if value.is_object() {
        Ok(value)
    } else {
        Err(E::custom(format!("{kind} must be a JSON object")))
    }
}

pub fn tagged(type_name: &str, mut body: Value) -> Value {
    let mut map = serde_json::Map::new();
    map.insert("@odata.type".into(), Value::String(format!("#microsoft.graph.{type_name}")));
    if let Value::Object(fields) = body.take() {
        map.extend(fields);
    }
    Value::Object(map)
}
