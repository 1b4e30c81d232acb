//! Delivery through the outbox and the workers, on both backends: grants and revokes reach the
//! directory group exactly once, a role two packages grant survives removing one, and a
//! failing delivery is retried, reported on the request, and reprocessed.

use gatehouse_testkit::fixtures::partner::{self, as_user, org_policy, submit, user_add};
use gatehouse_testkit::gatehouse_app::Actor;
use gatehouse_testkit::{both_backends, json, TestServer, EM};
use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

struct Setup {
    group: String,
    user: String,
    packages: Vec<(String, String)>,
}

/// A catalog with one group resource and `n` packages granting its Member role, each with an
/// admin-assignment policy that expires after 90 days.
async fn setup(s: &TestServer, n: usize) -> Setup {
    let group = s.post("/v1.0/groups", json!({"displayName": "Cross-Org Team"})).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let user =
        s.post("/v1.0/users", json!({"displayName": "Megan", "mail": "megan@contoso.example"})).await.expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let catalog = s.post(&format!("{EM}/catalogs"), json!({"displayName": "C"})).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.post(
        &format!("{EM}/resourceRequests"),
        json!({"requestType": "adminAdd", "catalog": {"id": catalog}, "resource": {"originId": group, "originSystem": "AadGroup"}}),
    )
    .await
    .expect(201);
    let mut packages = Vec::new();
    for i in 0..n {
        let p = s
            .post(&format!("{EM}/accessPackages"), json!({"displayName": format!("P{i}"), "catalog": {"id": catalog}}))
            .await
            .expect(201);
        let pid = p["id"].as_str().unwrap().to_owned();
        s.post(
            &format!("{EM}/accessPackages/{pid}/resourceRoleScopes"),
            json!({"role": {"originId": format!("Member_{group}"), "originSystem": "AadGroup"}}),
        )
        .await
        .expect(201);
        let policy = s
            .post(
                &format!("{EM}/assignmentPolicies"),
                json!({"displayName": "Direct", "accessPackage": {"id": pid}, "expiration": {"type": "afterDuration", "duration": "P90D"}}),
            )
            .await
            .expect(201);
        packages.push((pid, policy["id"].as_str().unwrap().to_owned()));
    }
    Setup { group, user, packages }
}

async fn admin_request(
    s: &TestServer,
    body: Value,
) -> gatehouse_testkit::gatehouse_app::Result<gatehouse_domain::request::AssignmentRequest> {
    let admin = s.app.authenticate(&s.admin_token).await.unwrap();
    let input = serde_json::from_value(body).unwrap();
    s.app.create_assignment_request(&Actor::user(admin, None), input).await
}

async fn members(s: &TestServer, group: &str) -> Vec<String> {
    let body = s.get(&format!("/v1.0/groups/{group}/members")).await.expect(200);
    body["value"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_owned()).collect()
}

async fn assign(s: &TestServer, setup: &Setup, i: usize) -> gatehouse_domain::request::AssignmentRequest {
    let (pid, policy) = &setup.packages[i];
    admin_request(s, json!({"requestType": "adminAdd", "assignment": {"accessPackageId": pid, "assignmentPolicyId": policy, "targetId": setup.user}}))
        .await
        .unwrap()
}

async fn grant_and_revoke_reach_the_group_once(s: TestServer) {
    let setup = setup(&s, 2).await;
    let request = assign(&s, &setup, 0).await;
    assert_eq!(request.state.as_str(), "delivering");
    assert!(members(&s, &setup.group).await.is_empty(), "nothing is granted before the workers run");
    s.run_workers().await;
    assert_eq!(members(&s, &setup.group).await, vec![setup.user.clone()]);
    let mut conn = s.app.store.conn().await.unwrap();
    let stored = gatehouse_store::requests::get(&mut conn, request.id).await.unwrap().unwrap();
    assert_eq!(stored.state.as_str(), "delivered");
    let assignment =
        gatehouse_store::assignments::get(&mut conn, stored.assignment_id.unwrap()).await.unwrap().unwrap();
    assert_eq!(assignment.state.as_str(), "delivered");
    let days = (assignment.end_date_time.unwrap() - assignment.start_date_time).num_days();
    assert_eq!(days, 90);
    drop(conn);
    // Running the workers again changes nothing: every job ran exactly once.
    let audit = s.audit_count().await;
    s.run_workers().await;
    assert_eq!(s.audit_count().await, audit);
    let adds = s
        .get(&format!(
            "/v1.0/gatehouse/auditRecords?$filter=activity eq 'group.addMember' and targetId eq '{}'",
            setup.group
        ))
        .await
        .expect(200);
    assert_eq!(adds["value"].as_array().unwrap().len(), 1);

    // A second package granting the same role: removing the first keeps the membership.
    assign(&s, &setup, 1).await;
    s.run_workers().await;
    let removal =
        admin_request(&s, json!({"requestType": "adminRemove", "assignment": {"id": assignment.id}})).await.unwrap();
    s.run_workers().await;
    assert_eq!(members(&s, &setup.group).await, vec![setup.user.clone()], "still granted by the second package");
    let mut conn = s.app.store.conn().await.unwrap();
    assert_eq!(
        gatehouse_store::requests::get(&mut conn, removal.id).await.unwrap().unwrap().state.as_str(),
        "delivered"
    );
    assert_eq!(
        gatehouse_store::assignments::get(&mut conn, assignment.id).await.unwrap().unwrap().state.as_str(),
        "expired"
    );
    let second = gatehouse_store::assignments::active_for(
        &mut conn,
        Uuid::parse_str(&setup.packages[1].0).unwrap(),
        Uuid::parse_str(&setup.user).unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    drop(conn);
    admin_request(&s, json!({"requestType": "adminRemove", "assignment": {"id": second.id}})).await.unwrap();
    s.run_workers().await;
    assert!(members(&s, &setup.group).await.is_empty(), "the last grant is revoked");
}

async fn failed_delivery_is_reported_and_reprocessed(s: TestServer) {
    let setup = setup(&s, 1).await;
    // The group disappears from under the catalog (as if deleted in the origin system).
    let mut conn = s.app.store.conn().await.unwrap();
    let saved = sqlx::query("SELECT display_name, created_date_time FROM groups WHERE id = $1")
        .bind(setup.group.clone())
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let created: String = sqlx::Row::try_get(&saved, "created_date_time").unwrap();
    sqlx::query("DELETE FROM groups WHERE id = $1").bind(setup.group.clone()).execute(&mut *conn).await.unwrap();
    drop(conn);
    let request = assign(&s, &setup, 0).await;
    // Five attempts with backoff: let the clock pass the retry delays.
    for _ in 0..8 {
        s.run_workers().await;
        s.clock.advance(chrono::Duration::hours(2));
    }
    s.run_workers().await;
    let mut conn = s.app.store.conn().await.unwrap();
    let failed = gatehouse_store::requests::get(&mut conn, request.id).await.unwrap().unwrap();
    assert_eq!(failed.state.as_str(), "deliveryFailed");
    assert!(failed.failure.as_deref().unwrap().contains("no longer exists"), "{:?}", failed.failure);
    // The group comes back; reprocess delivers.
    sqlx::query("INSERT INTO groups (id, display_name, security_enabled, mail_enabled, created_date_time) VALUES ($1, 'Cross-Org Team', 1, 0, $2)")
        .bind(setup.group.clone())
        .bind(created)
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    let admin = s.app.authenticate(&s.admin_token).await.unwrap();
    s.app.reprocess_request(&Actor::user(admin, None), request.id).await.unwrap();
    s.run_workers().await;
    let mut conn = s.app.store.conn().await.unwrap();
    let done = gatehouse_store::requests::get(&mut conn, request.id).await.unwrap().unwrap();
    assert_eq!(done.state.as_str(), "delivered");
    assert!(done.failure.is_none());
    drop(conn);
    assert_eq!(members(&s, &setup.group).await, vec![setup.user.clone()]);
}

/// A group connector whose directory is down.
struct Unreachable;

impl gatehouse_workers::Connector for Unreachable {
    fn origin_systems(&self) -> &[&'static str] {
        &["AadGroup"]
    }
    fn apply_all<'a>(
        &'a self,
        _: Option<&'a gatehouse_domain::connection::Connection>,
        changes: &'a [gatehouse_workers::Change],
    ) -> gatehouse_workers::connectors::BatchFuture<'a> {
        let failed = gatehouse_app::delivery::JobError::Transient("the directory is unreachable".into());
        Box::pin(async move { changes.iter().map(|_| Err(failed.clone())).collect() })
    }
}

/// The same over HTTP, for a guest's request: the failure and its reason are visible to the
/// requestor, only administrators reprocess, and a delivered request cannot be reprocessed.
async fn failed_delivery_is_reprocessed(s: TestServer) {
    let w = partner::world(&s).await;
    let policy = org_policy(&s, &w, &w.package, vec![]).await;
    let created = submit(&s, &w.ana, user_add(&w.package, &policy, "PO-000006")).await;
    assert_eq!(created["state"], "delivering", "no approval needed");
    let request = partner::id(&created);
    let down = gatehouse_workers::Workers::new(s.app.clone(), std::sync::Arc::new(gatehouse_workers::LogMailer))
        .with_connector(std::sync::Arc::new(Unreachable));
    let path = format!("{EM}/assignmentRequests/{request}");
    for _ in 0..10 {
        down.run_until_idle().await.expect("workers");
        if as_user(&s, &w.ana, &path).await.expect(200)["state"] != "delivering" {
            break;
        }
        s.clock.advance(chrono::Duration::hours(1)); // past the retry backoff
    }
    let r = as_user(&s, &w.ana, &format!("{path}?$expand=assignment")).await.expect(200);
    assert_eq!(r["state"], "deliveryFailed", "{r}");
    assert_eq!(r["status"], "DeliveryFailed");
    assert!(r["failureReason"].as_str().unwrap().contains("unreachable"), "{r}");
    assert_eq!(r["assignment"]["state"], "deliveryFailed");

    let reprocess = format!("{path}/reprocess");
    s.call(Method::POST, &reprocess, &w.ana.token, None).await.expect_error(403, "Identity Governance Administrator");
    let reply = s.call(Method::POST, &reprocess, &s.admin_token, None).await;
    assert_eq!(reply.status.as_u16(), 202, "{}", reply.body);
    assert_eq!(as_user(&s, &w.ana, &path).await.expect(200)["state"], "delivering");
    s.run_workers().await;
    let r = as_user(&s, &w.ana, &format!("{path}?$expand=assignment")).await.expect(200);
    assert_eq!(r["state"], "delivered", "{r}");
    assert!(r.get("failureReason").is_none());
    assert_eq!(r["assignment"]["state"], "delivered");
    assert_eq!(
        partner::ids(&s.get(&format!("/v1.0/groups/{}/members", w.group)).await.expect(200)),
        vec![w.ana.id.clone()]
    );
    s.post(&reprocess, json!({})).await.expect_error(409, "delivery failed");
}

both_backends!(
    grant_and_revoke_reach_the_group_once,
    failed_delivery_is_reported_and_reprocessed,
    failed_delivery_is_reprocessed,
);
