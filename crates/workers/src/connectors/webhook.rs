//! Webhook targets: a signed POST to the grant or revoke URL per change, with the person, the
//! role, and the assignment and request behind it. The job's id is the message's
//! `webhook-id`, the same on every retry, so a receiver can drop a retry it already acted on.

use gatehouse_app::delivery::JobError;
use gatehouse_app::App;
use gatehouse_domain::connection::{Connection, ConnectionSettings, ORIGIN_WEBHOOK};
use gatehouse_domain::provisioning::{Grant, Person};
use serde_json::{json, Value};

use super::people::{person, Records};
use super::{fail_all, job_error, per_person, require, targets, BatchFuture, Change, Connector, PEOPLE_AT_ONCE};

pub struct WebhookConnector {
    app: App,
}

/// The message for one change.
pub fn message(grant: &Grant, person: &Person) -> Value {
    json!({
        "type": if grant.revoke { "revoke" } else { "grant" },
        "person": {
            "id": person.id,
            "userName": person.user_name,
            "displayName": person.display_name,
            "givenName": person.given_name,
            "surname": person.surname,
            "mail": person.mail,
            "userType": if person.guest { "Guest" } else { "Member" },
            "connectedOrganizationId": person.connected_organization_id,
        },
        "role": {"displayName": grant.role_display_name, "originId": grant.role_origin_id},
        "resource": {"originId": grant.resource_origin_id},
        "assignmentId": grant.assignment_id,
        "requestId": grant.request_id,
        "connectionId": grant.connection_id,
    })
}

impl WebhookConnector {
    pub fn new(app: App) -> Self {
        WebhookConnector { app }
    }

    async fn batch(&self, connection: Option<&Connection>, changes: &[Change]) -> Vec<Result<(), JobError>> {
        let prepared = async {
            let c = require(connection)?;
            let ConnectionSettings::Webhook(settings) = &c.settings else {
                return Err(JobError::Permanent(format!(
                    "connection '{}' is not a webhook connection",
                    c.display_name
                )));
            };
            let secret =
                c.secrets.signing_secret.clone().ok_or_else(|| {
                    JobError::Outage(format!("connection '{}' has no signing secret", c.display_name))
                })?;
            let people = Records { app: &self.app, connection: c.id }.people(targets(changes)).await?;
            Ok::<_, JobError>((settings, secret, people))
        };
        let (settings, secret, people) = match prepared.await {
            Ok(p) => p,
            Err(e) => return fail_all(changes, e),
        };
        let (secret, people) = (&secret, &people);
        per_person(changes, PEOPLE_AT_ONCE, |(id, grant)| {
            async move {
                let person = person(people, grant.target_id)?;
                let url = if grant.revoke { &settings.revoke_url } else { &settings.grant_url };
                // The signature's time is the wall clock: receivers compare it with theirs.
                let now = chrono::Utc::now().timestamp();
                let id = format!("msg_{}", id.simple());
                gatehouse_connectors::webhook::post(
                    &self.app.http,
                    url,
                    secret,
                    &id,
                    now,
                    &message(grant, person),
                    None,
                )
                .await
                .map_err(job_error)
            }
        })
        .await
    }
}

impl Connector for WebhookConnector {
    fn origin_systems(&self) -> &[&'static str] {
        &[ORIGIN_WEBHOOK]
    }

    fn apply_all<'a>(&'a self, connection: Option<&'a Connection>, changes: &'a [Change]) -> BatchFuture<'a> {
        Box::pin(self.batch(connection, changes))
    }
}
