//! The lifecycle over time, on both backends, with the manual clock and a real SMTP server
//! receiving the mail: reminders before expiry,
//! expiry at day 90 (a systemRemove request revokes the group membership), the guest blocked
//! when their last assignment ends and deleted after the configured days, and a guest who gets
//! access again before deletion restored cleanly.

use std::sync::Arc;

use chrono::Duration;
use gatehouse_testkit::gatehouse_app::Actor;
use gatehouse_testkit::peers::SmtpSink;
use gatehouse_testkit::{both_backends, json, TestServer, EM};
use gatehouse_workers::{Mailer, SmtpMailer};

struct Setup {
    group: String,
    package: String,
    policy: String,
    sink: SmtpSink,
    mailer: Arc<dyn Mailer>,
}

async fn setup(s: &TestServer) -> Setup {
    let fixture = s.group_package("Tango").await;
    let (group, package) = (fixture.group, fixture.package);
    let policy = s
        .add_policy(
            &package,
            json!({"displayName": "Externals", "allowedTargetScope": "allExternalUsers",
            "expiration": {"type": "afterDuration", "duration": "P90D"}}),
        )
        .await;
    let sink = SmtpSink::start();
    let mailer: Arc<dyn Mailer> = Arc::new(SmtpMailer::new(&sink.settings()).unwrap());
    Setup { group, package, policy, sink, mailer }
}

async fn assign_guest(s: &TestServer, setup: &Setup, email: &str) -> uuid::Uuid {
    let admin = s.app.authenticate(&s.admin_token).await.unwrap();
    let body = json!({"requestType": "adminAdd", "assignment": {"accessPackageId": setup.package, "assignmentPolicyId": setup.policy,
                      "target": {"email": email}}});
    let request = s
        .app
        .create_assignment_request(&Actor::user(admin, None), serde_json::from_value(body).unwrap())
        .await
        .unwrap();
    s.run_workers_with(setup.mailer.clone()).await;
    request.target_id.expect("a guest account was created for the external target")
}

async fn members(s: &TestServer, group: &str) -> usize {
    s.get(&format!("/v1.0/groups/{group}/members")).await.expect(200)["value"].as_array().unwrap().len()
}

async fn advance(s: &TestServer, setup: &Setup, days: i64) {
    s.clock.advance(Duration::days(days));
    s.run_workers_with(setup.mailer.clone()).await;
}

async fn expiry_reminders_block_and_delete(s: TestServer) {
    let setup = setup(&s).await;
    let guest = assign_guest(&s, &setup, "pat@partner.example").await;
    let user = s.get(&format!("/v1.0/users/{guest}")).await.expect(200);
    assert_eq!(user["userType"], "Guest");
    assert_eq!(members(&s, &setup.group).await, 1);
    let proposed = s.get(&format!("{EM}/connectedOrganizations?$filter=state eq 'proposed'")).await.expect(200);
    assert_eq!(proposed["value"][0]["displayName"], "partner.example", "an approved unknown domain is proposed");

    let pat = "pat@partner.example";
    assert_eq!(setup.sink.count(pat, "Access granted: Tango"), 1);
    advance(&s, &setup, 75).await;
    assert_eq!(setup.sink.count(pat, "ends on"), 0, "no reminder 15 days before");
    advance(&s, &setup, 2).await;
    assert_eq!(setup.sink.count(pat, "Your access to Tango ends on"), 1, "a reminder 14 days before");
    advance(&s, &setup, 12).await;
    assert_eq!(setup.sink.count(pat, "ends on"), 2, "and one a day before");
    assert_eq!(members(&s, &setup.group).await, 1, "still a member on day 89");

    advance(&s, &setup, 1).await;
    assert_eq!(members(&s, &setup.group).await, 0, "membership revoked at expiry");
    let expired = s.get("/v1.0/gatehouse/auditRecords?$filter=activity eq 'assignment.expire'").await.expect(200);
    assert_eq!(expired["value"].as_array().unwrap().len(), 1);
    let blocked = s.get(&format!("/v1.0/users/{guest}")).await.expect(200);
    assert_eq!(blocked["accountEnabled"], false, "the guest's last assignment ended: blocked");

    advance(&s, &setup, 29).await;
    s.get(&format!("/v1.0/users/{guest}")).await.expect(200);
    advance(&s, &setup, 2).await;
    s.get(&format!("/v1.0/users/{guest}")).await.expect_error(404, "was not found");
    let deletions = s
        .get(&format!("/v1.0/gatehouse/auditRecords?$filter=activity eq 'user.delete' and targetId eq '{guest}'"))
        .await
        .expect(200);
    assert_eq!(deletions["value"][0]["before"]["mail"], "pat@partner.example");
}

async fn access_again_before_deletion_restores_the_guest(s: TestServer) {
    let setup = setup(&s).await;
    let guest = assign_guest(&s, &setup, "lee@partner.example").await;
    advance(&s, &setup, 91).await;
    assert_eq!(s.get(&format!("/v1.0/users/{guest}")).await.expect(200)["accountEnabled"], false);
    // Before the 30 days are over, the same person is assigned again (by email).
    let again = assign_guest(&s, &setup, "lee@partner.example").await;
    assert_eq!(again, guest, "the existing guest account is reused");
    assert_eq!(s.get(&format!("/v1.0/users/{guest}")).await.expect(200)["accountEnabled"], true);
    assert_eq!(members(&s, &setup.group).await, 1);
    advance(&s, &setup, 40).await;
    s.get(&format!("/v1.0/users/{guest}")).await.expect(200);
}

async fn lifecycle_action_none_leaves_guests_alone(s: TestServer) {
    s.patch(&format!("{EM}/settings"), json!({"externalUserLifecycleAction": "none"})).await.expect(204);
    let setup = setup(&s).await;
    let guest = assign_guest(&s, &setup, "kim@partner.example").await;
    advance(&s, &setup, 200).await;
    assert_eq!(members(&s, &setup.group).await, 0, "access still expires");
    assert_eq!(s.get(&format!("/v1.0/users/{guest}")).await.expect(200)["accountEnabled"], true);
}

both_backends!(
    expiry_reminders_block_and_delete,
    access_again_before_deletion_restores_the_guest,
    lifecycle_action_none_leaves_guests_alone
);
