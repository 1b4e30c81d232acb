//! Reading portable column values back into domain types.

use chrono::{DateTime, Utc};
use gatehouse_domain::datetime;
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use crate::{Result, StoreError};

pub fn text(row: &AnyRow, col: &str) -> Result<String> {
    Ok(row.try_get::<String, _>(col)?)
}

pub fn opt_text(row: &AnyRow, col: &str) -> Result<Option<String>> {
    Ok(row.try_get::<Option<String>, _>(col)?)
}

pub fn uuid(row: &AnyRow, col: &str) -> Result<Uuid> {
    let s = text(row, col)?;
    Uuid::parse_str(&s).map_err(|_| StoreError::Corrupt(format!("{col} '{s}' is not a GUID")))
}

pub fn opt_uuid(row: &AnyRow, col: &str) -> Result<Option<Uuid>> {
    opt_text(row, col)?
        .map(|s| Uuid::parse_str(&s).map_err(|_| StoreError::Corrupt(format!("{col} '{s}' is not a GUID"))))
        .transpose()
}

pub fn boolean(row: &AnyRow, col: &str) -> Result<bool> {
    Ok(row.try_get::<i64, _>(col)? != 0)
}

pub fn int(row: &AnyRow, col: &str) -> Result<i64> {
    Ok(row.try_get::<i64, _>(col)?)
}

pub fn time(row: &AnyRow, col: &str) -> Result<DateTime<Utc>> {
    let s = text(row, col)?;
    datetime::parse(&s).map_err(StoreError::Corrupt)
}

pub fn opt_time(row: &AnyRow, col: &str) -> Result<Option<DateTime<Utc>>> {
    opt_text(row, col)?.map(|s| datetime::parse(&s).map_err(StoreError::Corrupt)).transpose()
}

/// Parse a stored enum value.
pub fn parsed<T: std::str::FromStr<Err = String>>(row: &AnyRow, col: &str) -> Result<T> {
    text(row, col)?.parse().map_err(StoreError::Corrupt)
}

pub fn json<T: serde::de::DeserializeOwned>(row: &AnyRow, col: &str) -> Result<T> {
    let s = text(row, col)?;
    serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub fn ts(t: &DateTime<Utc>) -> String {
    datetime::to_storage(t)
}

pub fn b(v: bool) -> i64 {
    i64::from(v)
}

pub fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("domain values always serialize")
}
