//! Output shared by the admin commands, so every kind prints the same way: tables for people, the API's own JSON
//! for scripts (`--json`), and blanks rather than "null" when the server leaves a field out.

use anyhow::Result;
use comfy_table::{presets, Table};
use serde_json::Value;

/// Builds one table row from one API entity.
pub type RowFn = fn(&Value) -> Vec<String>;

pub fn rows_table(headers: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> Table {
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED).set_header(headers.iter().copied());
    for row in rows {
        table.add_row(row);
    }
    table
}

/// A two-column FIELD / VALUE table for `show`.
pub fn details_table(fields: &[(&str, String)]) -> Table {
    rows_table(&["FIELD", "VALUE"], fields.iter().map(|(name, value)| vec![(*name).to_owned(), value.clone()]))
}

/// A scalar as plain text: strings unquoted, missing or `null` as "".
pub fn text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => yes_no(*b).to_owned(),
        Some(other) => other.to_string(),
    }
}

/// `text` of a top-level property.
pub fn field(entity: &Value, name: &str) -> String {
    text(entity.get(name))
}

/// `text` of a nested property, by JSON pointer (`/role/displayName`).
pub fn at(entity: &Value, pointer: &str) -> String {
    text(entity.pointer(pointer))
}

pub fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// The first non-empty of several candidate properties (pointers).
pub fn first_of(entity: &Value, pointers: &[&str]) -> String {
    pointers.iter().map(|p| at(entity, p)).find(|s| !s.is_empty()).unwrap_or_default()
}

pub fn print_json(value: &Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A whole collection: a table, or with `--json` one JSON array of every item across all pages.
pub fn print_list(json: bool, items: Vec<Value>, headers: &[&str], row: RowFn) -> Result<()> {
    if json {
        return print_json(&Value::Array(items));
    }
    if items.is_empty() {
        println!("(none)");
    } else {
        println!("{}", rows_table(headers, items.iter().map(row)));
    }
    Ok(())
}

/// A single entity (typically a 201 response) as a one-row table, or as JSON.
pub fn print_one(json: bool, item: &Value, headers: &[&str], row: RowFn) -> Result<()> {
    if json {
        return print_json(item);
    }
    println!("{}", rows_table(headers, [row(item)]));
    Ok(())
}

/// A titled sub-table of a `show`, e.g. the sponsors of an organization.
pub fn print_section(title: &str, items: &[Value], headers: &[&str], row: RowFn) {
    println!("\n{title}:");
    if items.is_empty() {
        println!("(none)");
    } else {
        println!("{}", rows_table(headers, items.iter().map(row)));
    }
}

/// The items of an array property (e.g. an `$expand`ed navigation), or nothing.
pub fn array<'a>(entity: &'a Value, name: &str) -> &'a [Value] {
    entity.get(name).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_print_plainly() {
        let v = json!({"s": "x", "b": true, "n": 3, "z": null, "o": {"k": "v"}});
        assert_eq!(field(&v, "s"), "x");
        assert_eq!(field(&v, "b"), "yes");
        assert_eq!(field(&v, "n"), "3");
        assert_eq!(field(&v, "z"), "");
        assert_eq!(field(&v, "missing"), "");
        assert_eq!(at(&v, "/o/k"), "v");
        assert_eq!(first_of(&v, &["/z", "/missing", "/s"]), "x");
        assert_eq!(first_of(&v, &["/z"]), "");
    }

    #[test]
    fn tables_contain_headers_and_cells() {
        let rendered = rows_table(&["ID", "NAME"], [vec!["1".into(), "One".into()]]).to_string();
        assert!(rendered.contains("ID") && rendered.contains("NAME"), "{rendered}");
        assert!(rendered.contains("One"), "{rendered}");
        let details = details_table(&[("ID", "x1".into())]).to_string();
        assert!(details.contains("FIELD") && details.contains("x1"), "{details}");
    }

    #[test]
    fn arrays_default_to_empty() {
        let v = json!({"a": [1, 2], "b": "no"});
        assert_eq!(array(&v, "a").len(), 2);
        assert!(array(&v, "b").is_empty());
        assert!(array(&v, "c").is_empty());
    }
}
