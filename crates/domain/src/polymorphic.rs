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

/// The schema of a polymorphic value: one object schema per subtype, each with its
/// `@odata.type` pinned, so that exactly one matches. `variants` are (full type name, the
/// subtype's schema, properties that subtype requires beyond what its schema says).
pub fn schema(variants: Vec<(&str, schemars::Schema, &[&str])>) -> schemars::Schema {
    let one_of: Vec<Value> = variants
        .into_iter()
        .map(|(type_name, schema, required)| {
            let mut v = schema.to_value();
            if let Some(obj) = v.as_object_mut() {
                obj.insert("type".into(), "object".into());
                let props = obj.entry("properties").or_insert_with(|| serde_json::json!({}));
                props["@odata.type"] = serde_json::json!({"type": "string", "enum": [type_name]});
                let mut req: Vec<Value> = obj.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
                for name in std::iter::once("@odata.type").chain(required.iter().copied()) {
                    if !req.iter().any(|r| r == name) {
                        req.push(name.into());
                    }
                }
                obj.insert("required".into(), Value::Array(req));
            }
            v
        })
        .collect();
    schemars::json_schema!({"oneOf": one_of})
}

/// A subtype's schema as its input struct describes it, inline. Always read as input: the
/// output of these types is written by hand from the same fields, all of which the input
/// struct declares, and an input contract keeps absent optional properties optional.
pub fn subtype_schema<T: schemars::JsonSchema>() -> schemars::Schema {
    let mut generator = schemars::generate::SchemaSettings::openapi3()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .into_generator();
    let mut schema = generator.root_schema_for::<T>();
    schema.remove("title");
    schema
}
