//! Notifications through a real SMTP server (aiosmtpd), on both backends: approvers are asked,
//! requestors hear of delivery, and an SMTP outage delays mail without losing it or holding up
//! the request.

use std::sync::Arc;

use chrono::Duration;
use gatehouse_domain::principal::TokenScope;
use gatehouse_domain::request::Verdict;
use gatehouse_testkit::gatehouse_app::Actor;
use gatehouse_testkit::peers::SmtpSink;
use gatehouse_testkit::{both_backends, json, TestServer};
use gatehouse_workers::{Mailer, SmtpMailer};
use uuid::Uuid;

async fn user(s: &TestServer, name: &str, mail: &str) -> Uuid {
    s.post("/v1.0/users", json!({"displayName": name, "mail": mail})).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// A package granting a group's Member role, requestable by all members, with the given approval.
async fn package(s: &TestServer, approval: serde_json::Value) -> String {
    let p = s.group_package("Wiki").await.package;
    s.add_policy(&p, json!({"allowedTargetScope": "allMemberUsers", "requestApprovalSettings": approval})).await;
    p
}

async fn actor(s: &TestServer, user: Uuid) -> Actor {
    let token = s.token_for(user, TokenScope::ReadWrite).await;
    Actor::user(s.app.authenticate(&token).await.unwrap(), None)
}

async fn request(s: &TestServer, who: Uuid, package: &str) -> gatehouse_domain::request::AssignmentRequest {
    let body = json!({"requestType": "userAdd", "assignment": {"accessPackageId": package}});
    s.app.create_assignment_request(&actor(s, who).await, serde_json::from_value(body).unwrap()).await.unwrap()
}

async fn approvers_and_requestors_get_mail(s: TestServer) {
    let sink = SmtpSink::start();
    let mailer: Arc<dyn Mailer> = Arc::new(SmtpMailer::new(&sink.settings()).unwrap());
    let requestor = user(&s, "Megan", "megan@contoso.example").await;
    let boss = user(&s, "Alex", "alex@contoso.example").await;
    let approval = json!({"isApprovalRequiredForAdd": true, "stages": [{"primaryApprovers": [
        {"@odata.type": "#microsoft.graph.singleUser", "userId": boss}]}]});
    let p = package(&s, approval).await;
    let r = request(&s, requestor, &p).await;
    s.run_workers_with(mailer.clone()).await;
    assert_eq!(sink.count("alex@contoso.example", "Approval needed: Wiki"), 1);
    assert_eq!(sink.count("megan@contoso.example", "Access granted"), 0);
    s.app.decide_stage(&actor(&s, boss).await, r.id, r.stages[0].id, Verdict::Approve, None).await.unwrap();
    s.run_workers_with(mailer).await;
    assert_eq!(sink.count("megan@contoso.example", "Request approved: Wiki"), 1);
    assert_eq!(sink.count("megan@contoso.example", "Access granted: Wiki"), 1);
    assert_eq!(sink.messages().len(), 3, "nothing else was sent");
    let approval_mail = sink.messages().into_iter().find(|m| m.subject.starts_with("Approval")).unwrap();
    assert!(approval_mail.data.contains("From: gatehouse@contoso.example"), "{}", approval_mail.data);
}

async fn smtp_outage_delays_mail_but_never_loses_it(s: TestServer) {
    // A port nobody listens on: the SMTP server is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let settings = SmtpSink::settings_for_port(port);
    let mailer: Arc<dyn Mailer> = Arc::new(SmtpMailer::new(&settings).unwrap());
    let requestor = user(&s, "Megan", "megan@contoso.example").await;
    let p = package(&s, json!({"isApprovalRequiredForAdd": false})).await;
    let r = request(&s, requestor, &p).await;
    s.run_workers_with(mailer.clone()).await;
    let mut conn = s.app.store.conn().await.unwrap();
    let stored = gatehouse_store::requests::get(&mut conn, r.id).await.unwrap().unwrap();
    assert_eq!(stored.state.as_str(), "delivered", "an SMTP outage never holds up a request");
    let pending = sqlx::query("SELECT last_error FROM jobs WHERE kind = 'mail' AND state = 'pending'")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    assert_eq!(pending.len(), 1, "the mail waits in the queue");
    let error: Option<String> = sqlx::Row::try_get(&pending[0], "last_error").unwrap();
    assert!(error.unwrap().contains("SMTP"), "the failure is recorded");
    drop(conn);
    // The server comes back; after the retry delay the mail goes out, once.
    let sink = SmtpSink::start_on(Some(port));
    s.clock.advance(Duration::minutes(5));
    s.run_workers_with(mailer).await;
    assert_eq!(sink.count("megan@contoso.example", "Access granted: Wiki"), 1);
}

both_backends!(approvers_and_requestors_get_mail, smtp_outage_delays_mail_but_never_loses_it);
