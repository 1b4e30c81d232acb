//! What a provisioning job asks of a connector: make one person hold (or stop holding) one
//! resource role in its origin system.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The payload of a `provision` job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    pub revoke: bool,
    pub request_id: Uuid,
    pub assignment_id: Uuid,
    pub target_id: Uuid,
    pub origin_system: String,
    /// The role's origin id, e.g. `Member_<groupId>`.
    pub role_origin_id: String,
    /// The resource's origin id, e.g. the group id.
    pub resource_origin_id: String,
    pub role_display_name: String,
    /// The connection the resource lives in; none for directory groups. (Jobs queued before
    /// connections existed have none either.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<Uuid>,
}

/// What a target learns of a person whose account Gatehouse makes there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Their Gatehouse id: a SCIM user's `externalId`, the mark of accounts Gatehouse made.
    pub id: Uuid,
    /// The sign-in name the target knows them by: a member's user principal name, a guest's
    /// mail address (a guest's principal name is Gatehouse's own `…#EXT#` form).
    pub user_name: String,
    pub display_name: String,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub mail: Option<String>,
    pub guest: bool,
    pub connected_organization_id: Option<Uuid>,
}

impl Person {
    pub fn of(user: &crate::directory::User) -> Person {
        let guest = user.user_type == crate::enums::UserType::Guest;
        let user_name = match (&user.mail, guest) {
            (Some(m), true) => m.clone(),
            _ => user.user_principal_name.clone(),
        };
        Person {
            id: user.id,
            user_name,
            display_name: user.display_name.clone(),
            given_name: user.given_name.clone(),
            surname: user.surname.clone(),
            mail: user.mail.clone(),
            guest,
            connected_organization_id: user.connected_organization_id,
        }
    }
}
