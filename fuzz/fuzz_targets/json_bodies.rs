//! Request bodies into the domain's input types, then their validation, as the API does with
//! every body: deserializing and validating must be total (a value or an error, never a panic).
#![no_main]

use chrono::{DateTime, Utc};
use gatehouse_domain::access_package::NewAccessPackage;
use gatehouse_domain::catalog::{NewCatalog, NewResourceRequest};
use gatehouse_domain::connected_organization::NewConnectedOrganization;
use gatehouse_domain::directory::NewUser;
use gatehouse_domain::policy::{AssignmentPolicy, PolicyContext, PolicyInput};
use gatehouse_domain::request_input::NewAssignmentRequest;
use gatehouse_domain::settings::{Settings, SettingsPatch};
use libfuzzer_sys::fuzz_target;
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).expect("a fixed time")
}

fuzz_target!(|data: &[u8]| {
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    gatehouse_domain::input::strip_echo(&mut value);
    let id = Uuid::nil();
    if let Ok(r) = serde_json::from_value::<NewAssignmentRequest>(value.clone()) {
        let _ = r.validate(now());
    }
    if let Ok(p) = serde_json::from_value::<PolicyInput>(value.clone()) {
        let mut ids = Uuid::new_v4;
        let ctx = PolicyContext { id, access_package_id: id, catalog_id: id, now: now(), existing: None, new_id: &mut ids };
        let _ = AssignmentPolicy::build(p, ctx);
    }
    if let Ok(o) = serde_json::from_value::<NewConnectedOrganization>(value.clone()) {
        let _ = gatehouse_domain::connected_organization::ConnectedOrganization::create(o, id, now());
    }
    if let Ok(c) = serde_json::from_value::<NewCatalog>(value.clone()) {
        let _ = gatehouse_domain::catalog::Catalog::create(c, id, now());
    }
    if let Ok(p) = serde_json::from_value::<NewAccessPackage>(value.clone()) {
        let _ = gatehouse_domain::access_package::AccessPackage::create(p, id, now());
    }
    if let Ok(r) = serde_json::from_value::<NewResourceRequest>(value.clone()) {
        let _ = r.validate();
    }
    if let Ok(u) = serde_json::from_value::<NewUser>(value.clone()) {
        let _ = gatehouse_domain::directory::User::create(u, id, now());
    }
    if let Ok(patch) = serde_json::from_value::<SettingsPatch>(value) {
        let _ = Settings::default().apply(patch);
    }
});
