//! A target outage loses nothing and duplicates nothing: the SCIM application is stopped while
//! 1,000 assignments are approved, and started again 60 seconds later. Meanwhile the connection
//! shows degraded and its jobs wait; afterwards every grant is in the target exactly once and the
//! audit chain verifies. On both backends, with the workers running as `serve` runs them.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use gatehouse_testkit::targets::{scim_package, ScimPeer};
use gatehouse_testkit::{each_backend, json, spawn, Backend, EM};

const USERS: usize = 1000;

async fn outage(backend: Backend) {
    let mut s = spawn(backend).await;
    let mut scim = ScimPeer::start();
    let p = scim_package(&s.base_url, &s.admin_token, &scim).await;
    let mut users = Vec::with_capacity(USERS);
    for i in 0..USERS {
        users.push(s.member(&format!("Outage {i}"), &format!("outage{i}@contoso.example")).await);
    }
    // The workers run in the background and the test clock follows the wall clock.
    s.start_workers(std::sync::Arc::new(gatehouse_workers::LogMailer));
    let clock = s.clock.clone();
    let ticker = tokio::spawn(async move {
        let mut last = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let now = Instant::now();
            clock.advance(chrono::Duration::from_std(now - last).unwrap());
            last = now;
        }
    });

    scim.down();
    let down_at = Instant::now();
    for user in &users {
        s.post(
            &format!("{EM}/assignmentRequests"),
            json!({"requestType": "adminAdd", "assignment": {"accessPackageId": p.package, "assignmentPolicyId": p.policy, "targetId": user}}),
        )
        .await
        .expect(201);
    }
    let path = format!("/v1.0/gatehouse/connections/{}", p.connection);
    let mut saw_degraded = false;
    let mut waiting = 0;
    while down_at.elapsed() < Duration::from_secs(60) {
        let c = s.get(&path).await.expect(200);
        if c["status"] == "degraded" {
            saw_degraded = true;
            waiting = waiting.max(c["waitingJobs"].as_i64().unwrap());
            assert!(c["lastError"].as_str().unwrap().contains("cannot be reached"), "{c}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(saw_degraded, "the connection showed degraded during the outage");
    assert_eq!(waiting, USERS as i64, "every grant waited for the target");
    let failed = s
        .get(&format!(
            "{EM}/assignmentRequests?$filter=state eq 'deliveryFailed' or state eq 'partiallyDelivered'&$count=true"
        ))
        .await
        .expect(200);
    assert_eq!(failed["@odata.count"], 0, "an outage fails nothing");

    scim.up();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let done = s
            .get(&format!("{EM}/assignmentRequests?$filter=state eq 'delivered'&$count=true&$top=1"))
            .await
            .expect(200);
        if done["@odata.count"] == USERS {
            break;
        }
        assert!(Instant::now() < deadline, "not all delivered after the outage: {}", done["@odata.count"]);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    ticker.abort();
    let c = s.get(&path).await.expect(200);
    assert_eq!(c["status"], "healthy", "{c}");
    assert_eq!(c["waitingJobs"], 0);

    // Exactly once: one account per person, one membership per account.
    let members = scim.members(&p.group).await;
    assert_eq!(members.len(), USERS, "one membership per grant");
    assert_eq!(members.iter().collect::<HashSet<_>>().len(), USERS, "no membership twice");
    assert_eq!(scim.user_count().await, USERS as u64, "one account per person");
    for user in users.iter().step_by(97) {
        assert_eq!(scim.users_where("externalId", user).await.len(), 1, "{user}");
    }
    let audit = s.get("/v1.0/gatehouse/auditRecords?$filter=activity eq 'connection.degraded' or activity eq 'connection.recovered'").await.expect(200);
    let activities: Vec<&str> =
        audit["value"].as_array().unwrap().iter().filter_map(|r| r["activity"].as_str()).collect();
    assert!(
        activities.contains(&"connection.degraded") && activities.contains(&"connection.recovered"),
        "{activities:?}"
    );
    let mut conn = s.app.store.conn().await.unwrap();
    let verdict = gatehouse_store::audit::verify(&mut conn).await.unwrap();
    assert!(matches!(verdict, gatehouse_store::audit::Verification::Intact { .. }), "{verdict:?}");
}

each_backend!(outage);
