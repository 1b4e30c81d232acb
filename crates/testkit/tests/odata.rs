//! OData query options over HTTP: paging with absolute next links, `$count`, `$orderby`,
//! `$select`, `$filter` functions and operators, `$expand` refusals, and URL spellings clients
//! really send (percent-encoded option names, doubled slashes).

use std::collections::HashSet;

use gatehouse_testkit::{both_backends, encode, json, TestServer, EM};
use serde_json::Value;

fn values(body: &Value) -> &Vec<Value> {
    body["value"].as_array().unwrap_or_else(|| panic!("no value array in {body}"))
}

fn display_names(body: &Value) -> Vec<String> {
    values(body).iter().map(|v| v["displayName"].as_str().expect("displayName").to_owned()).collect()
}

/// Display names of `path` with `$filter` set to `filter`, sorted.
async fn filtered(s: &TestServer, path: &str, filter: &str) -> Vec<String> {
    let mut n = display_names(&s.get(&format!("{path}?$filter={}", encode(filter))).await.expect(200));
    n.sort();
    n
}

async fn five_catalogs(s: &TestServer) -> Vec<String> {
    let mut ids = Vec::new();
    for name in ["Bravo", "Echo", "Alpha", "Delta", "Charlie"] {
        let c = s.post(&format!("{EM}/catalogs"), json!({"displayName": name})).await.expect(201);
        ids.push(c["id"].as_str().unwrap().to_owned());
    }
    ids
}

async fn paging_follows_absolute_next_links(s: TestServer) {
    let ids = five_catalogs(&s).await;
    let first = s.get(&format!("{EM}/catalogs?$top=2")).await.expect(200);
    assert_eq!(values(&first).len(), 2);
    let link = first["@odata.nextLink"].as_str().expect("a next link").to_owned();
    assert!(link.starts_with("http"), "next links are absolute: {link}");
    assert!(link.contains("/v1.0/identityGovernance/entitlementManagement/catalogs?"), "{link}");

    let mut seen: Vec<String> = values(&first).iter().map(|v| v["id"].as_str().unwrap().to_owned()).collect();
    let mut next = Some(link);
    let mut pages = 1;
    while let Some(url) = next {
        let page = s.get(&url).await.expect(200);
        assert!(values(&page).len() <= 2, "every page honours $top=2");
        seen.extend(values(&page).iter().map(|v| v["id"].as_str().unwrap().to_owned()));
        next = page["@odata.nextLink"].as_str().map(str::to_owned);
        pages += 1;
        assert!(pages <= 5, "paging does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 5, "each catalog exactly once: {seen:?}");
    assert_eq!(seen.iter().collect::<HashSet<_>>(), ids.iter().collect::<HashSet<_>>());

    let counted = s.get(&format!("{EM}/catalogs?$count=true&$top=1")).await.expect(200);
    assert_eq!(counted["@odata.count"], 5);
    assert_eq!(values(&counted).len(), 1);
    let uncounted = s.get(&format!("{EM}/catalogs")).await.expect(200);
    assert!(uncounted.get("@odata.count").is_none());
    assert!(uncounted.get("@odata.nextLink").is_none(), "one page holds all five");
}

async fn orderby_and_select(s: TestServer) {
    five_catalogs(&s).await;
    let desc = s.get(&format!("{EM}/catalogs?$orderby={}", encode("displayName desc"))).await.expect(200);
    assert_eq!(display_names(&desc), ["Echo", "Delta", "Charlie", "Bravo", "Alpha"]);
    let asc = s.get(&format!("{EM}/catalogs?$orderby=displayName")).await.expect(200);
    assert_eq!(display_names(&asc), ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]);

    let selected = s.get(&format!("{EM}/catalogs?$select=displayName")).await.expect(200);
    assert_eq!(values(&selected).len(), 5);
    for item in values(&selected) {
        let keys: Vec<&str> = item.as_object().unwrap().keys().map(String::as_str).collect();
        assert!(keys.contains(&"id") && keys.contains(&"displayName"), "{item}");
        assert!(keys.iter().all(|k| *k == "id" || *k == "displayName" || k.starts_with('@')), "{item}");
    }
    let one = values(&selected)[0]["id"].as_str().unwrap().to_owned();
    let single = s.get(&format!("{EM}/catalogs/{one}?$select=displayName,state")).await.expect(200);
    assert!(single["state"].is_string() && single.get("description").is_none(), "{single}");

    s.get(&format!("{EM}/catalogs?$select=colour")).await.expect_error(400, "colour");
    s.get(&format!("{EM}/catalogs/{one}?$select=colour")).await.expect_error(400, "colour");
    s.get(&format!("{EM}/catalogs?$orderby=colour")).await.expect_error(400, "colour");
}

async fn url_spellings_clients_send(s: TestServer) {
    for name in ["x", "y"] {
        s.post(&format!("{EM}/catalogs"), json!({"displayName": name})).await.expect(201);
    }
    let encoded = s.get(&format!("{EM}/catalogs?%24filter=displayName%20eq%20%27x%27")).await.expect(200);
    assert_eq!(display_names(&encoded), ["x"]);
    let plus = s.get(&format!("{EM}/catalogs?$filter=displayName+eq+%27y%27")).await.expect(200);
    assert_eq!(display_names(&plus), ["y"]);
    let doubled =
        s.get("/v1.0//identityGovernance/entitlementManagement/catalogs?$orderby=displayName").await.expect(200);
    assert_eq!(display_names(&doubled), ["x", "y"]);
    let upper = s.get(&format!("{EM}/catalogs?$FILTER={}", encode("displayName eq 'y'"))).await.expect(200);
    assert_eq!(display_names(&upper), ["y"]);
}

async fn filters_on_access_packages(s: TestServer) {
    let cat = s.post(&format!("{EM}/catalogs"), json!({"displayName": "Main"})).await.expect(201);
    for (name, hidden) in
        [("Project Tango", false), ("TANGO Reloaded", true), ("Foxtrot", false), ("Hidden Sierra", true)]
    {
        let body = json!({"displayName": name, "isHidden": hidden, "catalog": {"id": cat["id"]}});
        s.post(&format!("{EM}/accessPackages"), body).await.expect(201);
    }
    let p = format!("{EM}/accessPackages");
    assert_eq!(filtered(&s, &p, "contains(tolower(displayName),'tan')").await, ["Project Tango", "TANGO Reloaded"]);
    assert_eq!(filtered(&s, &p, "startswith(displayName,'Fox')").await, ["Foxtrot"]);
    assert_eq!(filtered(&s, &p, "isHidden eq true").await, ["Hidden Sierra", "TANGO Reloaded"]);
    assert_eq!(filtered(&s, &p, "not(isHidden)").await, ["Foxtrot", "Project Tango"]);
    assert_eq!(
        filtered(&s, &p, "displayName in ('Foxtrot','Hidden Sierra','Nope')").await,
        ["Foxtrot", "Hidden Sierra"]
    );
    assert_eq!(filtered(&s, &p, "createdDateTime ge 2000-01-01T00:00:00Z").await.len(), 4);
    assert!(filtered(&s, &p, "createdDateTime lt 2000-01-01T00:00:00Z").await.is_empty());
    let both = "isHidden eq false and (contains(displayName,'Tango') or displayName eq 'Foxtrot')";
    assert_eq!(filtered(&s, &p, both).await, ["Foxtrot", "Project Tango"]);
    let in_catalog = format!("catalog/id eq '{}'", cat["id"].as_str().unwrap());
    assert_eq!(filtered(&s, &p, &in_catalog).await.len(), 4);
}

async fn invalid_options_are_400(s: TestServer) {
    five_catalogs(&s).await;
    let c = format!("{EM}/catalogs");
    let e = s.get(&format!("{c}?$expand=colour")).await.expect_error(400, "colour");
    let message = e["error"]["message"].as_str().unwrap();
    assert!(message.contains("accessPackages") && message.contains("resources"), "names the navigations: {message}");
    let e = s.get(&format!("{EM}/accessPackages?$expand=colour")).await.expect_error(400, "supported");
    assert!(e["error"]["message"].as_str().unwrap().contains("assignmentPolicies"), "{e}");
    s.get(&format!("{c}?$skiptoken=garbage!")).await.expect_error(400, "$skiptoken");
    s.get(&format!("{c}?$skiptoken={}", encode("bm90LWEtdG9rZW4"))).await.expect_error(400, "$skiptoken");
    // Offsets past what the databases take are refused, not passed on (they were a 500, or an
    // arithmetic overflow with $skip).
    s.get(&format!("{c}?$skiptoken=bzoxODQ0Njc0NDA3MzcwOTU1MTYxNQ")).await.expect_error(400, "$skiptoken");
    let i64_max = "bzo5MjIzMzcyMDM2ODU0Nzc1ODA3";
    assert!(values(&s.get(&format!("{c}?$skiptoken={i64_max}")).await.expect(200)).is_empty());
    s.get(&format!("{c}?$skip=4294967295&$skiptoken={i64_max}")).await.expect_error(400, "out of range");
    s.get(&format!("{c}?$top=1000")).await.expect_error(400, "$top");
    s.get(&format!("{c}?$top=-1")).await.expect_error(400, "$top");
    s.get(&format!("{c}?$count=maybe")).await.expect_error(400, "$count");
    s.get(&format!("{c}?$top=1&$top=2")).await.expect_error(400, "more than once");
    s.get(&format!("{c}?$filter={}", encode("colour eq 'red'"))).await.expect_error(400, "colour");
    s.get(&format!("{c}?$filter={}", encode("isExternallyVisible eq 'yes'")))
        .await
        .expect_error(400, "isExternallyVisible");
    // $top=999 is the largest page and is accepted.
    assert_eq!(values(&s.get(&format!("{c}?$top=999")).await.expect(200)).len(), 5);
}

async fn expand_is_never_silently_ignored(s: TestServer) {
    s.get(&format!("{EM}/settings?$expand=catalog")).await.expect_error(400, "cannot expand 'catalog'");
    let catalog = s.post(&format!("{EM}/catalogs"), json!({"displayName": "C"})).await.expect(201);
    let package = s
        .post(&format!("{EM}/accessPackages"), json!({"displayName": "P", "catalog": {"id": catalog["id"]}}))
        .await
        .expect(201);
    let id = package["id"].as_str().unwrap();
    s.get(&format!("{EM}/accessPackages/{id}/catalog?$expand=resources")).await.expect_error(400, "cannot expand");
    s.get(&format!("{EM}/catalogs?$expand=accessPackages($select=colour)"))
        .await
        .expect_error(400, "$select inside accessPackages(...) is not supported");
}

both_backends!(
    paging_follows_absolute_next_links,
    orderby_and_select,
    url_spellings_clients_send,
    filters_on_access_packages,
    invalid_options_are_400,
    expand_is_never_silently_ignored,
);
