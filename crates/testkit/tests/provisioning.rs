//! Provisioning into real systems: a package holding a SCIM group (scim2-server), an LDAP group
//! (slapd) and a webhook role (a receiver that verifies Standard Webhooks signatures) is
//! approved, expires, and drifts — read back from the peers themselves, on both backends.

use gatehouse_testkit::fixtures::partner::{self, id, org_policy, submit, user_add, World};
use gatehouse_testkit::targets::{ScimPeer, Slapd, WebhookPeer, LDAP_ADMIN, LDAP_GROUPS, LDAP_PASSWORD, LDAP_PEOPLE};
use gatehouse_testkit::{both_backends, json, TestServer, EM};
use serde_json::Value;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

struct Targets {
    scim: ScimPeer,
    slapd: Slapd,
    hook: WebhookPeer,
    scim_connection: String,
    ldap_connection: String,
    hook_connection: String,
    scim_group: String,
    ldap_group: String,
}

pub async fn connection(s: &TestServer, body: Value) -> Value {
    s.post("/v1.0/gatehouse/connections", body).await.expect(201)
}

fn scim_body(peer: &ScimPeer) -> Value {
    json!({"displayName": "Team wiki", "kind": "scim", "scim": {"baseUrl": peer.base_url(), "bearerToken": peer.token}})
}

fn ldap_body(slapd: &Slapd, password: &str) -> Value {
    json!({"displayName": "Corporate directory", "kind": "ldap", "ldap": {"url": slapd.url(), "bindDn": LDAP_ADMIN,
        "bindPassword": password, "peopleBaseDn": LDAP_PEOPLE, "groupsBaseDn": LDAP_GROUPS}})
}

/// Add a resource from a connection to the catalog; returns it with roles and scopes.
async fn add_resource(
    s: &TestServer,
    w: &World,
    connection: &str,
    origin_system: &str,
    origin_id: Option<&str>,
) -> Value {
    let mut resource = json!({"originSystem": origin_system, "environment": {"id": connection}});
    if let Some(o) = origin_id {
        resource["originId"] = json!(o);
    }
    let added = s
        .post(
            &format!("{EM}/resourceRequests"),
            json!({"requestType": "adminAdd", "catalog": {"id": w.catalog}, "resource": resource}),
        )
        .await
        .expect(201);
    assert_eq!(added["state"], "delivered");
    let all = s.get(&format!("{EM}/catalogs/{}/resources?$expand=roles,scopes", w.catalog)).await.expect(200);
    all["value"].as_array().unwrap().iter().find(|r| r["originSystem"] == origin_system).cloned().expect("the resource")
}

/// Grant the resource's `role` through the package.
async fn grant_through(s: &TestServer, package: &str, resource: &Value, role: &str) {
    let r = resource["roles"].as_array().unwrap().iter().find(|r| r["displayName"] == role).expect("role");
    let scope = &resource["scopes"][0];
    s.post(
        &format!("{EM}/accessPackages/{package}/resourceRoleScopes"),
        json!({"role": {"id": r["id"], "originSystem": r["originSystem"], "originId": r["originId"], "resource": {"id": resource["id"]}},
               "scope": {"id": scope["id"], "originId": scope["originId"], "originSystem": scope["originSystem"]}}),
    )
    .await
    .expect(201);
}

async fn targets(s: &TestServer, w: &World) -> Targets {
    let scim = ScimPeer::start();
    let slapd = Slapd::start().await;
    let hook = WebhookPeer::start(SECRET);
    let scim_group = scim.create_group("Wiki editors").await;
    let keeper = slapd.add_person("keeper", "keeper@contoso.example").await;
    let ldap_group = slapd.add_group("tango", &keeper).await;

    let c = connection(s, scim_body(&scim)).await;
    assert_eq!(c["status"], "healthy", "{c}");
    assert!(c.get("bearerToken").is_none() && c["scim"].get("bearerToken").is_none(), "write-only: {c}");
    assert_eq!(c["secretsSet"], json!(["bearerToken"]));
    let scim_connection = id(&c);
    let read = s.get(&format!("/v1.0/gatehouse/connections/{scim_connection}")).await.expect(200);
    assert_eq!(read["secretsSet"], json!(["bearerToken"]), "which credentials are set, read back: {read}");
    assert!(!read.to_string().contains(&scim.token));
    let c = connection(s, ldap_body(&slapd, LDAP_PASSWORD)).await;
    assert_eq!(c["status"], "healthy", "{c}");
    let ldap_connection = id(&c);
    let c = connection(
        s,
        json!({"displayName": "Tango team site", "kind": "webhook", "webhook": {"grantUrl": hook.url("/grant"),
            "revokeUrl": hook.url("/revoke"), "roles": ["Visitor", "Member"], "signingSecret": SECRET}}),
    )
    .await;
    assert_eq!(c["status"], "healthy", "the signed ping verified: {c}");
    assert!(c.get("signingSecret").is_none(), "a secret given is never echoed: {c}");
    let hook_connection = id(&c);

    // The target's groups, found by name.
    let found = s.get(&format!("/v1.0/gatehouse/connections/{scim_connection}/groups?search=wiki")).await.expect(200);
    assert_eq!(found["value"][0]["originId"], scim_group.as_str(), "{found}");
    let found = s.get(&format!("/v1.0/gatehouse/connections/{ldap_connection}/groups?search=TAN")).await.expect(200);
    assert_eq!(
        found["value"][0]["originId"].as_str().map(str::to_lowercase),
        Some(ldap_group.to_lowercase()),
        "{found}"
    );

    let r = add_resource(s, w, &scim_connection, "ScimGroup", Some(&scim_group)).await;
    assert_eq!(r["displayName"], "Wiki editors");
    grant_through(s, &w.package, &r, "Member").await;
    let r = add_resource(s, w, &ldap_connection, "LdapGroup", Some(&ldap_group)).await;
    grant_through(s, &w.package, &r, "Member").await;
    let r = add_resource(s, w, &hook_connection, "Webhook", None).await;
    assert_eq!(r["displayName"], "Tango team site");
    grant_through(s, &w.package, &r, "Member").await;
    Targets { scim, slapd, hook, scim_connection, ldap_connection, hook_connection, scim_group, ldap_group }
}

/// Ana (a Fabrikam guest) requests Project Tango; no approval. Returns the request.
async fn ana_gets_tango(s: &TestServer, w: &World) -> Value {
    let policy = org_policy(s, w, &w.package, vec![]).await;
    let r = submit(s, &w.ana, user_add(&w.package, &policy, "PO-000001")).await;
    s.run_workers().await;
    let r = s.get(&format!("{EM}/assignmentRequests/{}", id(&r))).await.expect(200);
    assert_eq!(r["state"], "delivered", "{r}");
    r
}

fn ana_dn() -> String {
    format!("uid=ana@fabrikam.example,{LDAP_PEOPLE}").to_lowercase()
}

async fn scim_account(t: &Targets, w: &World) -> Value {
    let users = t.scim.users_where("externalId", &w.ana.id).await;
    assert_eq!(users.len(), 1, "exactly one account: {users:?}");
    users[0].clone()
}

async fn grant_and_expiry_reach_every_target(s: TestServer) {
    let w = partner::world(&s).await;
    let t = targets(&s, &w).await;
    let r = ana_gets_tango(&s, &w).await;

    // SCIM: an account with her Gatehouse id, active, in the group.
    let account = scim_account(&t, &w).await;
    assert_eq!(account["userName"], "ana@fabrikam.example");
    assert_eq!(account["active"], true);
    assert_eq!(t.scim.members(&t.scim_group).await, vec![account["id"].as_str().unwrap().to_owned()]);
    // LDAP: an inetOrgPerson made for the guest, in the group.
    assert!(t.slapd.members(&t.ldap_group).await.contains(&ana_dn()), "{:?}", t.slapd.members(&t.ldap_group).await);
    // Webhook: one signed grant with the person, the role, the assignment and the request.
    let got = t.hook.received().await;
    let grants: Vec<&Value> = got.iter().filter(|m| m["body"]["type"] == "grant").collect();
    assert_eq!(grants.len(), 1, "{got:?}");
    let g = &grants[0];
    assert_eq!(g["path"], "/grant");
    assert_eq!(g["body"]["person"]["id"], w.ana.id.as_str());
    assert_eq!(g["body"]["person"]["userType"], "Guest");
    assert_eq!(g["body"]["role"]["displayName"], "Member");
    assert_eq!(g["body"]["requestId"], r["id"]);
    let assignment = s.get(&format!("{EM}/assignments?$filter=target/objectId eq '{}'", w.ana.id)).await.expect(200);
    let assignment = id(&assignment["value"][0]);
    assert_eq!(g["body"]["assignmentId"], assignment.as_str());
    assert!(g["id"].as_str().unwrap().starts_with("msg_"), "{g}");
    assert_eq!(t.hook.refused().await, 0);
    // Every grant is on the record.
    let audit = s.get("/v1.0/gatehouse/auditRecords?$filter=activity eq 'connection.grant'&$top=50").await.expect(200);
    assert_eq!(audit["value"].as_array().unwrap().len(), 3, "{audit}");

    // Granting again changes nothing: reprocess the assignment.
    s.post(&format!("{EM}/assignments/{assignment}/reprocess"), json!({})).await.expect(202);
    s.run_workers().await;
    assert_eq!(t.scim.members(&t.scim_group).await.len(), 1);
    assert_eq!(t.scim.users_where("externalId", &w.ana.id).await.len(), 1);
    assert_eq!(t.slapd.members(&t.ldap_group).await.iter().filter(|m| **m == ana_dn()).count(), 1);

    // Expiry: every target shows the revoke, the SCIM account is inactive, the LDAP entry
    // Gatehouse made is gone, and the directory's own group member stays.
    s.clock.advance(chrono::Duration::days(91));
    s.run_workers().await;
    assert!(t.scim.members(&t.scim_group).await.is_empty());
    assert_eq!(scim_account(&t, &w).await["active"], false);
    let members = t.slapd.members(&t.ldap_group).await;
    assert!(!members.contains(&ana_dn()), "{members:?}");
    assert!(members.iter().any(|m| m.starts_with("uid=keeper")), "{members:?}");
    assert!(!t.slapd.exists(&ana_dn()).await, "the entry Gatehouse made is removed");
    let got = t.hook.received().await;
    let revokes: Vec<&Value> = got.iter().filter(|m| m["body"]["type"] == "revoke").collect();
    assert_eq!(revokes.len(), 1, "{got:?}");
    assert_eq!(revokes[0]["path"], "/revoke");
    let _ = (&t.hook_connection, &t.scim_connection, &t.ldap_connection);
}

/// LDAP: the last member of a groupOfNames is swapped for the placeholder, and a member the
/// directory itself made is never deleted by Gatehouse.
async fn ldap_last_member_and_foreign_entries(s: TestServer) {
    let w = partner::world(&s).await;
    let slapd = Slapd::start().await;
    // Ana has an entry already (made by the directory's administrators), the group's only member.
    let ana = slapd.add_person("ana", "ana@fabrikam.example").await;
    let group = slapd.add_group("solo", &ana).await;
    let c = id(&connection(&s, ldap_body(&slapd, LDAP_PASSWORD)).await);
    let r = add_resource(&s, &w, &c, "LdapGroup", Some(&group)).await;
    grant_through(&s, &w.package, &r, "Member").await;
    ana_gets_tango(&s, &w).await;
    assert_eq!(slapd.members(&group).await, vec![ana.to_lowercase()], "found by mail, not made again");
    assert_eq!(slapd.people().await, vec![ana.to_lowercase()]);
    s.clock.advance(chrono::Duration::days(91));
    s.run_workers().await;
    assert_eq!(slapd.members(&group).await, vec![group.to_lowercase()], "the placeholder keeps the group valid");
    assert!(slapd.exists(&ana).await, "an entry Gatehouse did not make stays");
    // Reconciliation does not count the placeholder as a holder.
    let run = reconcile(&s, &c, false).await;
    assert_eq!(run["summary"]["holders"], 0, "{run}");
}

async fn reconcile(s: &TestServer, connection: &str, fix: bool) -> Value {
    let run =
        s.post(&format!("/v1.0/gatehouse/connections/{connection}/reconcile"), json!({"fix": fix})).await.expect(202);
    assert_eq!(run["state"], "running");
    s.run_workers().await;
    let done = s.get(&format!("/v1.0/gatehouse/reconciliations/{}", id(&run))).await.expect(200);
    assert_eq!(done["state"], "succeeded", "{done}");
    done
}

/// Out-of-band grants in both directories are reported, then removed under enforce; a grant
/// removed behind Gatehouse's back is re-applied.
async fn drift_is_reported_then_enforced(s: TestServer) {
    let w = partner::world(&s).await;
    let t = targets(&s, &w).await;
    ana_gets_tango(&s, &w).await;
    // Out of band: Mallory added to the SCIM group by the application's owner; Eve (an LDAP
    // person) added to the LDAP group; Ana taken out of the SCIM group.
    let mallory = t.scim.create_user("mallory@fabrikam.example").await;
    t.scim.add_member(&t.scim_group, &mallory).await;
    let eve = t.slapd.add_person("eve", "eve@fabrikam.example").await;
    t.slapd.add_member(&t.ldap_group, &eve).await;
    let ana_scim = scim_account(&t, &w).await["id"].as_str().unwrap().to_owned();
    let remove = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "remove", "path": format!("members[value eq \"{ana_scim}\"]")}]});
    t.scim.call(reqwest::Method::PATCH, &format!("/Groups/{}", t.scim_group), Some(remove)).await;

    let audit_before = s.audit_count().await;
    let run = reconcile(&s, &t.scim_connection, false).await;
    let findings = run["findings"].as_array().unwrap();
    let unexplained: Vec<&Value> = findings.iter().filter(|f| f["kind"] == "unexplained").collect();
    assert_eq!(unexplained.len(), 1, "{run}");
    assert_eq!(unexplained[0]["holder"], mallory.as_str());
    assert_eq!(unexplained[0]["action"], "reported");
    let missing: Vec<&Value> = findings.iter().filter(|f| f["kind"] == "missing").collect();
    assert_eq!(missing.len(), 1, "{run}");
    assert_eq!(missing[0]["userId"], w.ana.id.as_str());
    assert!(t.scim.members(&t.scim_group).await.contains(&mallory), "report only changes nothing");
    assert!(!t.scim.members(&t.scim_group).await.contains(&ana_scim));
    assert!(s.audit_count().await > audit_before);
    let detected = s.get("/v1.0/gatehouse/auditRecords?$filter=activity eq 'drift.detected'").await.expect(200);
    assert_eq!(detected["value"].as_array().unwrap().len(), 1, "{detected}");

    let run = reconcile(&s, &t.ldap_connection, false).await;
    let unexplained: Vec<&Value> =
        run["findings"].as_array().unwrap().iter().filter(|f| f["kind"] == "unexplained").collect();
    assert_eq!(unexplained.len(), 2, "keeper and eve: {run}");
    assert!(unexplained.iter().any(|f| f["holder"].as_str().unwrap().eq_ignore_ascii_case(&eve)));

    // A second report finds the same, and audits nothing new as detected.
    reconcile(&s, &t.scim_connection, false).await;
    let detected = s.get("/v1.0/gatehouse/auditRecords?$filter=activity eq 'drift.detected'").await.expect(200);
    assert_eq!(detected["value"].as_array().unwrap().len(), 3, "one SCIM, two LDAP: {detected}");

    // Enforce: fix removes the out-of-band holders and re-applies the missing grant.
    for c in [&t.scim_connection, &t.ldap_connection] {
        s.patch(&format!("/v1.0/gatehouse/connections/{c}"), json!({"reconcileMode": "enforce"})).await.expect(204);
    }
    let run = reconcile(&s, &t.scim_connection, true).await;
    assert_eq!(run["summary"]["removed"], 1, "{run}");
    assert_eq!(run["summary"]["reapplied"], 1, "{run}");
    assert_eq!(t.scim.members(&t.scim_group).await, vec![ana_scim.clone()]);
    let run = reconcile(&s, &t.ldap_connection, true).await;
    assert_eq!(run["summary"]["removed"], 2, "{run}");
    assert_eq!(t.slapd.members(&t.ldap_group).await, vec![ana_dn()]);
    let removed = s.get("/v1.0/gatehouse/auditRecords?$filter=activity eq 'drift.removed'").await.expect(200);
    assert_eq!(removed["value"].as_array().unwrap().len(), 3, "{removed}");
    // Nothing left to find.
    let run = reconcile(&s, &t.scim_connection, true).await;
    assert_eq!(run["findings"], json!([]), "{run}");
}

/// Bad input and broken targets: clear errors on the connection or the job, nothing lost.
async fn bad_targets_are_clear_errors(s: TestServer) {
    let w = partner::world(&s).await;
    // Unreachable: stored, degraded, with the reason.
    let c = connection(&s, json!({"displayName": "Gone", "kind": "scim", "scim": {"baseUrl": "http://127.0.0.1:9/v2", "bearerToken": "x"}})).await;
    assert_eq!(c["status"], "degraded", "{c}");
    assert!(c["lastError"].as_str().unwrap().contains("cannot be reached"), "{c}");
    // Wrong token and wrong bind password: said so.
    let scim = ScimPeer::start();
    let mut body = scim_body(&scim);
    body["scim"]["bearerToken"] = json!("wrong");
    let c = connection(&s, body).await;
    assert_eq!(c["status"], "degraded");
    assert!(c["lastError"].as_str().unwrap().contains("credentials"), "{c}");
    let slapd = Slapd::start().await;
    let c = connection(&s, ldap_body(&slapd, "wrong")).await;
    assert!(c["lastError"].as_str().unwrap().contains("invalid credentials"), "{c}");
    // Fixing the password makes it healthy.
    let fixed = s
        .patch(&format!("/v1.0/gatehouse/connections/{}", id(&c)), json!({"ldap": {"bindPassword": LDAP_PASSWORD}}))
        .await;
    assert_eq!(fixed.status.as_u16(), 204, "{}", fixed.body);
    assert_eq!(s.get(&format!("/v1.0/gatehouse/connections/{}", id(&c))).await.expect(200)["status"], "healthy");
    // An LDAP group that does not exist cannot be added.
    let before = s.audit_count().await;
    s.post(
        &format!("{EM}/resourceRequests"),
        json!({"requestType": "adminAdd", "catalog": {"id": w.catalog},
               "resource": {"originSystem": "LdapGroup", "originId": format!("cn=nope,{LDAP_GROUPS}"), "environment": {"id": id(&c)}}}),
    )
    .await
    .expect_error(400, "has no group");
    // Neither can a connection of another kind, nor none.
    s.post(
        &format!("{EM}/resourceRequests"),
        json!({"requestType": "adminAdd", "catalog": {"id": w.catalog},
               "resource": {"originSystem": "ScimGroup", "originId": "x", "environment": {"id": id(&c)}}}),
    )
    .await
    .expect_error(400, "is a ldap connection");
    s.post(
        &format!("{EM}/resourceRequests"),
        json!({"requestType": "adminAdd", "catalog": {"id": w.catalog}, "resource": {"originSystem": "LdapGroup", "originId": "cn=x"}}),
    )
    .await
    .expect_error(400, "environment");
    // Plain LDAP off loopback, and unknown properties, are refused.
    let mut body = ldap_body(&slapd, LDAP_PASSWORD);
    body["ldap"]["url"] = json!("ldap://directory.contoso.example");
    s.post("/v1.0/gatehouse/connections", body).await.expect_error(400, "in clear");
    s.post("/v1.0/gatehouse/connections", json!({"displayName": "x", "kind": "scim", "scim": {"baseUrl": "https://x.example", "bearerToken": "t", "token": "t"}}))
        .await
        .expect_error(400, "unknown field");
    assert_eq!(s.audit_count().await, before, "refusals write nothing");

    // A SCIM server answering garbage fails the job with its words, and reprocess retries.
    let junk = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let junk_url = format!("http://{}/v2", junk.local_addr().unwrap());
    tokio::spawn(async move {
        let app = axum_like_garbage();
        let _ = app(junk).await;
    });
    let c = connection(
        &s,
        json!({"displayName": "Junk", "kind": "scim", "scim": {"baseUrl": junk_url, "bearerToken": "t"}}),
    )
    .await;
    assert!(c["lastError"].as_str().unwrap().contains("not SCIM JSON"), "{c}");
    // Secrets never appear in any answer or audit record.
    let all = s.get("/v1.0/gatehouse/connections").await.expect(200).to_string();
    let audit = s.get("/v1.0/gatehouse/auditRecords?$top=200").await.expect(200).to_string();
    assert!(!all.contains(&scim.token) && !audit.contains(&scim.token), "the bearer token leaked");
    for secret in [LDAP_PASSWORD, "wrong"] {
        let quoted = format!("\"{secret}\"");
        assert!(!all.contains(&quoted) && !audit.contains(&quoted), "{secret} leaked");
    }
}

/// A webhook target that refuses (4xx) fails its part of the delivery with its own words:
/// partially delivered, and `reprocess` tries it again once the target takes it.
async fn a_refusal_fails_the_job_and_reprocess_retries(s: TestServer) {
    let w = partner::world(&s).await;
    let hook = WebhookPeer::start(SECRET);
    let c = connection(
        &s,
        json!({"displayName": "Team site", "kind": "webhook", "webhook": {"grantUrl": hook.url("/grant"),
            "revokeUrl": hook.url("/revoke"), "roles": ["Member"], "signingSecret": SECRET}}),
    )
    .await;
    let r = add_resource(&s, &w, &id(&c), "Webhook", None).await;
    grant_through(&s, &w.package, &r, "Member").await;
    hook.answer(400, r#"{"reason": "the site is archived"}"#).await;
    let policy = org_policy(&s, &w, &w.package, vec![]).await;
    let request = id(&submit(&s, &w.ana, user_add(&w.package, &policy, "PO-000002")).await);
    s.run_workers().await;
    let path = format!("{EM}/assignmentRequests/{request}");
    let r = s.get(&path).await.expect(200);
    assert_eq!(r["state"], "partiallyDelivered", "the directory group was granted, the site refused: {r}");
    assert!(r["failureReason"].as_str().unwrap().contains("the site is archived"), "{r}");
    let grants = |all: Vec<Value>| all.into_iter().filter(|m| m["body"]["type"] == "grant").count();
    assert_eq!(grants(hook.received().await), 0);
    // The site takes it now: reprocess delivers the rest, once.
    hook.answer(204, "").await;
    s.post(&format!("{path}/reprocess"), json!({})).await.expect(202);
    s.run_workers().await;
    assert_eq!(s.get(&path).await.expect(200)["state"], "delivered");
    assert_eq!(grants(hook.received().await), 1);
}

/// The schedule reconciles every SCIM and LDAP connection, fixing; webhooks are not listed.
async fn reconciliation_runs_on_schedule(s: TestServer) {
    let scim = ScimPeer::start();
    let hook = WebhookPeer::start(SECRET);
    let c = id(&connection(&s, scim_body(&scim)).await);
    connection(&s, json!({"displayName": "Site", "kind": "webhook", "webhook": {"grantUrl": hook.url("/g"), "revokeUrl": hook.url("/r"),
        "roles": ["Member"], "signingSecret": SECRET}})).await;
    let every = Some(chrono::Duration::minutes(60));
    let workers = || {
        gatehouse_workers::Workers::new(s.app.clone(), std::sync::Arc::new(gatehouse_workers::LogMailer))
            .with_reconcile_every(every)
    };
    workers().run_until_idle().await.unwrap();
    let runs = s.get(&format!("/v1.0/gatehouse/connections/{c}/reconciliations")).await.expect(200);
    let runs = runs["value"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(
        (runs[0]["scheduled"].as_bool(), runs[0]["fix"].as_bool(), runs[0]["state"].as_str()),
        (Some(true), Some(true), Some("succeeded"))
    );
    // Not again within the hour; again after it.
    workers().run_until_idle().await.unwrap();
    s.clock.advance(chrono::Duration::minutes(61));
    workers().run_until_idle().await.unwrap();
    let runs = s.get(&format!("/v1.0/gatehouse/connections/{c}/reconciliations")).await.expect(200);
    assert_eq!(runs["value"].as_array().unwrap().len(), 2);
    let all = s.get("/v1.0/gatehouse/auditRecords?$filter=activity eq 'reconciliation.start'").await.expect(200);
    assert_eq!(all["value"].as_array().unwrap().len(), 2, "the webhook target is never scheduled: {all}");
}

/// A server that answers every request with 200 and HTML.
fn axum_like_garbage(
) -> impl FnOnce(tokio::net::TcpListener) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    |listener| {
        Box::pin(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { return };
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = sock.read(&mut buf).await;
                    let body = "<html><body>It works!</body></html>";
                    let reply = format!("HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
                    let _ = sock.write_all(reply.as_bytes()).await;
                });
            }
        })
    }
}

both_backends!(
    grant_and_expiry_reach_every_target,
    ldap_last_member_and_foreign_entries,
    drift_is_reported_then_enforced,
    bad_targets_are_clear_errors,
    a_refusal_fails_the_job_and_reprocess_retries,
    reconciliation_runs_on_schedule,
);
