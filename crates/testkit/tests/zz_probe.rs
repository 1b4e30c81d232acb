use gatehouse_testkit::{both_backends, json, TestServer, EM};
use reqwest::Method;

async fn probe(s: TestServer) {
    let show = |label: &str, r: &gatehouse_testkit::Reply| println!("{label}: {} {:?} {}", r.status, r.headers.get("content-type"), r.body);
    let r = s.get(&format!("{EM}/catalogs?$select=colour")).await; show("empty select", &r);
    let r = s.get(&format!("{EM}/connectedOrganizations?$select=colour")).await; show("empty select orgs", &r);
    let org = s.post(&format!("{EM}/connectedOrganizations"), json!({"displayName": "F", "identitySources": [{"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": "f.example"}]})).await.expect(201);
    let oid = org["id"].as_str().unwrap();
    let big = format!("{{\"@odata.id\": \"{}\"}}", "x".repeat(70*1024));
    let r = s.raw(Method::POST, &format!("{EM}/connectedOrganizations/{oid}/internalSponsors/$ref"), Some(&s.admin_token), Some(("application/json", big.into_bytes()))).await; show("big ref", &r);
    let resp = s.http.post(s.url(&format!("{EM}/connectedOrganizations/{oid}/internalSponsors/$ref"))).bearer_auth(&s.admin_token).header("content-type","application/json").body(vec![b'x'; 70*1024]).send().await.unwrap();
    println!("big ref raw: {} {:?}", resp.status(), resp.text().await.unwrap());
    let resp = s.http.get(s.url(&format!("{EM}/accessPackages/%FF"))).bearer_auth(&s.admin_token).send().await.unwrap();
    let ct = resp.headers().get("content-type").cloned(); println!("bad utf8 path: {} {:?} {:?}", resp.status(), ct, resp.text().await.unwrap());
    let r = s.raw(Method::POST, &format!("{EM}/catalogs"), Some(&s.admin_token), Some(("application/json", b"".to_vec()))).await; show("empty body", &r);
    let r = s.get(&format!("{EM}/settings?$expand=colour")).await; show("settings expand", &r);
    let r = s.get(&format!("{EM}/settings?$select=colour")).await; show("settings select", &r);
    let r = s.get(&format!("{EM}/catalogs?$skip=5")).await; show("skip", &r);
    let r = s.get(&format!("{EM}/catalogs?$search=%22x%22")).await; show("catalog search", &r);
    let r = s.get(&format!("{EM}/assignmentPolicies?$search=%22x%22")).await; show("policy search", &r);
    let r = s.get(&format!("/v1.0/gatehouse/auditRecords?$orderby=activity")).await; show("audit orderby", &r);
    let r = s.get(&format!("{EM}/accessPackages/{}/resourceRoleScopes", uuid::Uuid::new_v4())).await; show("rrs missing pkg", &r);
    let r = s.get(&format!("{EM}/catalogs/{}/resources/{}", uuid::Uuid::new_v4(), uuid::Uuid::new_v4())).await; show("res missing", &r);
    let r = s.get(&format!("{EM}/resourceRequests?$filter=state%20eq%20'bogus'")).await; show("enum filter", &r);
    let r = s.get(&format!("{EM}/catalogs?$orderby=displayName%20sideways")).await; show("orderby", &r);
    let r = s.get(&format!("{EM}/catalogs?$filter=createdDateTime%20ge%202000-13-01T00:00:00Z")).await; show("bad date", &r);
    let r = s.get(&format!("{EM}/catalogs?$top=5&$skiptoken=bzotMQ")).await; show("neg skiptoken", &r);
    let r = s.get(&format!("{EM}/catalogs?$skip=4294967295&$skiptoken={}", "bzoxODQ0Njc0NDA3MzcwOTU1MTYxNQ")).await; show("huge skip", &r);
    let r = s.patch(&format!("{EM}/settings"), json!({"durationUntilExternalUserDeletedAfterBlocked": "P99999999D"})).await; show("huge dur", &r);
    let r = s.patch(&format!("{EM}/settings"), json!({"durationUntilExternalUserDeletedAfterBlocked": "-P1D"})).await; show("neg dur", &r);
    let r = s.get(&format!("{EM}/catalogs/('{}')", uuid::Uuid::new_v4())).await; show("paren key", &r);
    let r = s.delete(&format!("{EM}/connectedOrganizations/{oid}/internalSponsors/not-a-guid/$ref")).await; show("bad sponsor guid", &r);
    let r = s.delete(&format!("{EM}/accessPackages/{}/resourceRoleScopes/garbage", uuid::Uuid::new_v4())).await; show("bad rrs", &r);
}
both_backends!(probe);
