//! Browser sessions over HTTP: the one-time bootstrap link, the session cookie's attributes,
//! CSRF on every state-changing call a cookie authenticates, sign-out, idle and absolute
//! timeouts, and a disabled account's sessions ending at once.

use chrono::Duration;
use gatehouse_testkit::{both_backends, json, TestServer, EM};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use uuid::Uuid;

/// A client that shows redirects instead of following them, and keeps no cookies of its own.
fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

async fn admin_id(s: &TestServer) -> Uuid {
    s.get("/v1.0/me").await.expect(200)["id"].as_str().unwrap().parse().unwrap()
}

/// Follow a bootstrap link; returns the session cookie's value.
async fn sign_in_with_link(s: &TestServer, user: Uuid) -> String {
    let code = s.app.create_bootstrap_link(user).await.unwrap();
    let r = browser().get(s.url(&format!("/signin/link?code={code}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/");
    let set = r.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(attribute), "{attribute} missing from {set}");
    }
    assert!(!set.contains("Secure"), "plain http cannot carry a Secure cookie: {set}");
    set.split(';').next().unwrap().strip_prefix("gatehouse_session=").expect("the session cookie").to_owned()
}

async fn with_cookie(s: &TestServer, method: reqwest::Method, path: &str, cookie: &str) -> reqwest::RequestBuilder {
    browser().request(method, s.url(path)).header(COOKIE, format!("gatehouse_session={cookie}"))
}

async fn csrf_of(s: &TestServer, user: Uuid) -> String {
    let sessions = s.app.list_sessions(user).await.unwrap();
    sessions.iter().find(|x| x.ended_date_time.is_none()).expect("an open session").csrf_token.clone()
}

async fn bootstrap_link_signs_in_once(s: TestServer) {
    let admin = admin_id(&s).await;
    let cookie = sign_in_with_link(&s, admin).await;
    let home = with_cookie(&s, reqwest::Method::GET, "/", &cookie).await.send().await.unwrap();
    assert_eq!(home.status(), StatusCode::OK);
    let html = home.text().await.unwrap();
    assert!(html.contains("Signed in as Gatehouse Administrator"), "{html}");
    assert!(html.contains("one-time administrator link"), "{html}");
    let me = with_cookie(&s, reqwest::Method::GET, "/v1.0/me", &cookie).await.send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);

    // Single use; unknown and expired codes are refused alike, and none starts a session.
    let code = s.app.create_bootstrap_link(admin).await.unwrap();
    let first = browser().get(s.url(&format!("/signin/link?code={code}"))).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let again = browser().get(s.url(&format!("/signin/link?code={code}"))).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert!(again.headers().get(SET_COOKIE).is_none());
    let unknown = browser().get(s.url("/signin/link?code=nope")).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let late = s.app.create_bootstrap_link(admin).await.unwrap();
    s.clock.advance(Duration::minutes(15));
    let expired = browser().get(s.url(&format!("/signin/link?code={late}"))).send().await.unwrap();
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    let sessions = s.app.list_sessions(admin).await.unwrap();
    assert_eq!(sessions.len(), 2, "the first sign-in and the first use of the second link");

    // Not signed in: the home page sends you to sign in.
    let anonymous = browser().get(s.url("/")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert_eq!(anonymous.headers()[LOCATION], "/signin");
}

async fn cookie_writes_need_the_csrf_token(s: TestServer) {
    let admin = admin_id(&s).await;
    let cookie = sign_in_with_link(&s, admin).await;
    let csrf = csrf_of(&s, admin).await;
    let catalogs = format!("{EM}/catalogs");
    let body = json!({"displayName": "Partner extranet"});
    let before = s.audit_count().await;
    let missing = with_cookie(&s, reqwest::Method::POST, &catalogs, &cookie).await.json(&body).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    let wrong = with_cookie(&s, reqwest::Method::POST, &catalogs, &cookie)
        .await
        .header("X-CSRF-Token", "0".repeat(csrf.len()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let form = with_cookie(&s, reqwest::Method::POST, "/signout", &cookie)
        .await
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("csrf=wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::FORBIDDEN);
    assert_eq!(s.audit_count().await, before, "refused calls write nothing");
    assert!(s.get(&catalogs).await.expect(200)["value"].as_array().unwrap().is_empty());

    let ok = with_cookie(&s, reqwest::Method::POST, &catalogs, &cookie)
        .await
        .header("X-CSRF-Token", &csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);
    // Reads need no CSRF token.
    let read = with_cookie(&s, reqwest::Method::GET, &catalogs, &cookie).await.send().await.unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    // A bearer token is not a browser session: no CSRF token needed.
    s.post(&catalogs, json!({"displayName": "Second"})).await.expect(201);
}

async fn sign_out_ends_the_session(s: TestServer) {
    let admin = admin_id(&s).await;
    let cookie = sign_in_with_link(&s, admin).await;
    let csrf = csrf_of(&s, admin).await;
    let out = with_cookie(&s, reqwest::Method::POST, "/signout", &cookie)
        .await
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let cleared = out.headers()[SET_COOKIE].to_str().unwrap();
    assert!(cleared.starts_with("gatehouse_session=;") && cleared.contains("Max-Age=0"), "{cleared}");
    // The old cookie is dead on the server, whatever the browser kept.
    let me = with_cookie(&s, reqwest::Method::GET, "/v1.0/me", &cookie).await.send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    let home = with_cookie(&s, reqwest::Method::GET, "/", &cookie).await.send().await.unwrap();
    assert_eq!(home.status(), StatusCode::SEE_OTHER, "an ended session is not signed in");
    let sessions = s.app.list_sessions(admin).await.unwrap();
    assert!(sessions[0].ended_date_time.is_some());
}

async fn sessions_time_out(s: TestServer) {
    let admin = admin_id(&s).await;
    // Idle: an hour without a request ends it.
    let idle = sign_in_with_link(&s, admin).await;
    s.clock.advance(Duration::minutes(61));
    let r = with_cookie(&s, reqwest::Method::GET, "/v1.0/me", &idle).await.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("inactivity"));
    // Absolute: activity every 50 minutes keeps it alive, but not past 12 hours.
    let busy = sign_in_with_link(&s, admin).await;
    for _ in 0..14 {
        s.clock.advance(Duration::minutes(50));
        let r = with_cookie(&s, reqwest::Method::GET, "/v1.0/me", &busy).await.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    s.clock.advance(Duration::minutes(50));
    let r = with_cookie(&s, reqwest::Method::GET, "/v1.0/me", &busy).await.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("maximum age"));
}

async fn disabled_accounts_lose_their_sessions(s: TestServer) {
    let guest = s
        .post("/v1.0/users", json!({"displayName": "Ana Silva", "mail": "ana@fabrikam.example", "userType": "Guest"}))
        .await
        .expect(201);
    let guest: Uuid = guest["id"].as_str().unwrap().parse().unwrap();
    let cookie = sign_in_with_link(&s, guest).await;
    let me = with_cookie(&s, reqwest::Method::GET, "/v1.0/me", &cookie).await.send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    s.patch(&format!("/v1.0/users/{guest}"), json!({"accountEnabled": false})).await.expect(204);
    let me = with_cookie(&s, reqwest::Method::GET, "/v1.0/me", &cookie).await.send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
}

async fn people_see_and_end_only_their_own_sessions(s: TestServer) {
    let admin = admin_id(&s).await;
    let admin_cookie = sign_in_with_link(&s, admin).await;
    let member =
        s.post("/v1.0/users", json!({"displayName": "Megan Bowen", "mail": "megan@contoso.example"})).await.expect(201);
    let member: Uuid = member["id"].as_str().unwrap().parse().unwrap();
    let member_cookie = sign_in_with_link(&s, member).await;
    let member_csrf = csrf_of(&s, member).await;
    let list = with_cookie(&s, reqwest::Method::GET, "/gatehouse/sessions", &member_cookie).await.send().await.unwrap();
    let list: serde_json::Value = list.json().await.unwrap();
    let value = list["value"].as_array().unwrap();
    assert_eq!(value.len(), 1);
    assert_eq!(value[0]["current"], true);
    assert_eq!(value[0]["authMethod"], "bootstrapLink");
    assert!(value[0].get("csrfToken").is_none() && value[0].get("secretHash").is_none());
    // Someone else's session is not there for a plain member.
    let admin_session = s.app.list_sessions(admin).await.unwrap()[0].id;
    let r = with_cookie(&s, reqwest::Method::DELETE, &format!("/gatehouse/sessions/{admin_session}"), &member_cookie)
        .await
        .header("X-CSRF-Token", &member_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let still = with_cookie(&s, reqwest::Method::GET, "/v1.0/me", &admin_cookie).await.send().await.unwrap();
    assert_eq!(still.status(), StatusCode::OK);
    // An administrator can end anyone's.
    let member_session = s.app.list_sessions(member).await.unwrap()[0].id;
    s.delete(&format!("/gatehouse/sessions/{member_session}")).await.expect(204);
    let gone = with_cookie(&s, reqwest::Method::GET, "/v1.0/me", &member_cookie).await.send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::UNAUTHORIZED);
}

both_backends!(bootstrap_link_signs_in_once);
both_backends!(cookie_writes_need_the_csrf_token);
both_backends!(sign_out_ends_the_session);
both_backends!(sessions_time_out);
both_backends!(disabled_accounts_lose_their_sessions);
both_backends!(people_see_and_end_only_their_own_sessions);
