//! My Access pages over HTTP without a browser (the browser suite is `browser.rs`): rendered
//! HTML checked with CSS selectors, as docs.rs tests its pages. Every scenario runs on both
//! backends: what each page shows, that forms refuse bad input next to the field and write
//! nothing, that choices never show their stored values, CSRF, htmx fragments, headers.

use gatehouse_app::Clock;
use gatehouse_testkit::fixtures::partner::{id, stage, world, Person, World};
use gatehouse_testkit::web::{Page, Web};
use gatehouse_testkit::{both_backends, json, TestServer, EM};
use reqwest::StatusCode;
use scraper::{Html, Selector};
use serde_json::Value;
use uuid::Uuid;

fn doc(p: &Page) -> Html {
    Html::parse_document(&p.html)
}

fn select<'a>(d: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    d.select(&Selector::parse(css).unwrap()).collect()
}

fn text(e: &scraper::ElementRef<'_>) -> String {
    e.text().collect::<Vec<_>>().join("").split_whitespace().collect::<Vec<_>>().join(" ")
}

fn uid(p: &Person) -> Uuid {
    p.id.parse().unwrap()
}

/// Every form control has a label (or is hidden), as the accessibility check also demands.
fn every_control_is_labelled(d: &Html) {
    for input in select(d, "input:not([type=hidden]), textarea, select") {
        let id = input.value().attr("id").unwrap_or_else(|| panic!("a control without an id: {}", input.html()));
        assert!(!select(d, &format!("label[for='{id}']")).is_empty(), "no label for #{id}");
    }
}

/// The Fabrikam policy of these pages: one approval stage by the external sponsor (Bob), a
/// required multiple-choice question in English and German, an optional text question,
/// justification required, 90 days, extension and removal allowed.
async fn tango_policy(s: &TestServer, w: &World) -> Value {
    s.patch(
        &format!("{EM}/settings"),
        json!({"organizationDisplayName": "Contoso", "privacyProfile": {"statementUrl": "https://contoso.example/privacy",
            "contactEmail": "privacy@contoso.example"}}),
    )
    .await
    .expect(204);
    s.post(
        &format!("{EM}/assignmentPolicies"),
        json!({
            "displayName": "Fabrikam engineers", "accessPackage": {"id": w.package},
            "allowedTargetScope": "specificConnectedOrganizationUsers",
            "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.connectedOrganizationMembers", "connectedOrganizationId": w.org}],
            "expiration": {"type": "afterDuration", "duration": "P90D"},
            "requestorSettings": {"enableTargetsToSelfAddAccess": true, "enableTargetsToSelfUpdateAccess": true,
                                  "enableTargetsToSelfRemoveAccess": true},
            "requestApprovalSettings": {"isApprovalRequiredForAdd": true, "isRequestorJustificationRequired": true,
                "stages": [stage("externalSponsors")]},
            "questions": [
                {"@odata.type": "#microsoft.graph.accessPackageMultipleChoiceQuestion", "sequence": 1, "isRequired": true,
                 "text": "Which workstream?", "localizations": [{"languageCode": "de", "text": "Welcher Arbeitsbereich?"}],
                 "choices": [{"actualValue": "secret-hw-7731", "text": "Hardware", "localizations": [{"languageCode": "de", "text": "Gerätebau"}]},
                             {"actualValue": "secret-fw-7732", "text": "Firmware"}]},
                {"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "sequence": 2, "isRequired": false,
                 "text": "Your manager"}]
        }),
    )
    .await
    .expect(201)
}

async fn requests_of(s: &TestServer, who: &Person) -> Vec<Value> {
    let list = s
        .call(
            reqwest::Method::GET,
            &format!("{EM}/assignmentRequests/filterByCurrentUser(on='target')"),
            &who.token,
            None,
        )
        .await
        .expect(200);
    list["value"].as_array().unwrap().clone()
}

async fn the_package_link_asks_the_policys_questions(s: TestServer) {
    let w = world(&s).await;
    tango_policy(&s, &w).await;
    let mut ana = Web::signed_in(&s, uid(&w.ana)).await;
    ana.accept_language = Some("de-DE,de;q=0.9,en;q=0.5".into());
    let page = ana.get(&format!("/myaccess/packages/{}", w.package)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let d = doc(&page);
    assert_eq!(text(&select(&d, "h1")[0]), "Project Tango");
    every_control_is_labelled(&d);
    // German texts for a German reader; a choice is named by position, never by its stored value.
    assert!(page.html.contains("Welcher Arbeitsbereich?") && page.html.contains("Gerätebau"), "{}", page.html);
    assert!(page.html.contains("Firmware"), "an untranslated choice falls back to its text");
    assert!(!page.html.contains("secret-hw-7731") && !page.html.contains("secret-fw-7732"), "stored values leak");
    let radios = select(&d, "input[type=radio]");
    assert_eq!(radios.iter().map(|r| r.value().attr("value").unwrap()).collect::<Vec<_>>(), ["0", "1"]);
    // A guest: the privacy statement with its box, and no resources before approval.
    assert!(!select(&d, "input#accept_privacy[type=checkbox]").is_empty());
    assert!(!select(&d, "a[href='https://contoso.example/privacy']").is_empty());
    assert!(!page.html.contains("Cross-Org Team"), "a guest must not see the resources before approval");
    assert!(select(&d, "form[method=post] input[name=csrf]").iter().all(|i| !i
        .value()
        .attr("value")
        .unwrap()
        .is_empty()));
    // The chrome: the host's name, the four sections, the current one marked.
    assert!(page.html.contains("Contoso · My Access"));
    assert_eq!(select(&d, "nav a").len(), 4);
    assert_eq!(text(&select(&d, "nav a[aria-current=page]")[0]), "Access packages");
}

async fn wrong_fields_come_back_next_to_themselves_and_write_nothing(s: TestServer) {
    let w = world(&s).await;
    let policy = tango_policy(&s, &w).await;
    let ana = Web::signed_in(&s, uid(&w.ana)).await;
    let path = format!("/myaccess/packages/{}", w.package);
    let csrf = ana.get(&path).await.csrf();
    let before = s.audit_count().await;
    let pid = id(&policy);
    let choice = format!("q.{}", policy["questions"][0]["id"].as_str().unwrap());
    // Nothing answered, no justification, privacy not accepted.
    let page = ana.post(&path, &[("csrf", &csrf), ("policy", &pid)]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.html);
    let d = doc(&page);
    let errors: Vec<String> = select(&d, ".error").iter().map(text).collect();
    assert!(errors.iter().any(|e| e.contains("needs an answer")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("Say why you need")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("privacy statement")), "{errors:?}");
    assert_eq!(
        select(&d, "fieldset[aria-describedby]").len(),
        2,
        "the question's and the privacy box's fieldsets name their errors"
    );
    assert_eq!(select(&d, "textarea#justification[aria-invalid=true]").len(), 1);
    // A position that is no choice is refused without naming any stored value.
    let page = ana
        .post(
            &path,
            &[("csrf", &csrf), ("policy", &pid), (&choice, "9"), ("justification", "Tango"), ("accept_privacy", "yes")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.html.contains("Choose one of the options shown."), "{}", page.html);
    assert!(!page.html.contains("secret-"), "{}", page.html);
    // What was typed is kept.
    assert!(doc(&page).select(&Selector::parse("textarea#justification").unwrap()).any(|t| text(&t) == "Tango"));
    assert_eq!(s.audit_count().await, before, "refused forms write nothing");
    assert!(requests_of(&s, &w.ana).await.is_empty());

    // Right: the request is created through the API's service and its page shows its status.
    let page = ana
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("policy", &pid),
                (&choice, "1"),
                ("justification", "Firmware bring-up"),
                ("accept_privacy", "yes"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.html);
    let to = page.location().unwrap().to_owned();
    let requests = requests_of(&s, &w.ana).await;
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(to, format!("/myaccess/requests/{}", id(r)));
    assert_eq!(r["state"], "pendingApproval");
    assert_eq!(r["answers"][0]["value"], "secret-fw-7732", "the server maps the position back to the stored value");
    assert_eq!(r["answers"][0]["displayValue"], "Firmware");
    // The acceptance is in the request's audit record.
    let audit = s.get(&format!("/v1.0/gatehouse/auditRecords?$filter=targetId eq '{}'", id(r))).await.expect(200);
    let submit =
        audit["value"].as_array().unwrap().iter().find(|a| a["activity"] == "assignmentRequest.submit").unwrap();
    assert_eq!(
        submit["after"]["privacyStatementAccepted"]["statementUrl"], "https://contoso.example/privacy",
        "{submit}"
    );
    let status = ana.get(&to).await;
    let d = doc(&status);
    assert_eq!(text(&select(&d, ".status .label")[0]), "Pending approval (stage 1 of 1)");
    assert!(status.html.contains("Can approve: Bob Fischer."), "{}", status.html);
    assert!(!status.html.contains("secret-"), "answers show their text: {}", status.html);
    // The link now says it is asked for, and offers no second request.
    let again = ana.get(&format!("/myaccess/packages/{}", w.package)).await;
    assert!(again.html.contains("You have already asked for it") && !again.html.contains("Submit request"));
}

async fn the_link_says_why_it_is_not_available(s: TestServer) {
    let w = world(&s).await;
    tango_policy(&s, &w).await;
    let megan = Web::signed_in(&s, uid(&w.megan)).await;
    let before = s.audit_count().await;
    let page = megan.get(&format!("/myaccess/packages/{}", w.package)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let d = doc(&page);
    assert_eq!(text(&select(&d, ".notice h2")[0]), "This access package is not available to you");
    assert!(page.html.contains("users from partner organizations"), "{}", page.html);
    assert!(select(&d, "form[method=post][action^='/myaccess/packages']").is_empty(), "no form to submit");
    // Posting anyway creates nothing.
    let csrf = megan.get("/myaccess").await.csrf();
    let posted = megan.post(&format!("/myaccess/packages/{}", w.package), &[("csrf", &csrf), ("policy", "x")]).await;
    assert_eq!(posted.status, StatusCode::FORBIDDEN);
    assert_eq!(s.audit_count().await, before);
    let unknown = megan.get(&format!("/myaccess/packages/{}", Uuid::new_v4())).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.headers["content-type"].to_str().unwrap().starts_with("text/html"));
}

async fn the_list_shows_only_what_you_may_request(s: TestServer) {
    let w = world(&s).await;
    tango_policy(&s, &w).await;
    // Tango is visible to Fabrikam; a hidden one too (only by link); one for another organization.
    let add = |name: &'static str, hidden: bool, org: String| {
        let s = &s;
        let catalog = w.catalog.clone();
        async move {
            let p = s
                .post(
                    &format!("{EM}/accessPackages"),
                    json!({"displayName": name, "description": format!("{name} for partners"),
                    "catalog": {"id": catalog}, "isHidden": hidden}),
                )
                .await
                .expect(201);
            s.add_policy(&id(&p), json!({"allowedTargetScope": "specificConnectedOrganizationUsers",
                "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.connectedOrganizationMembers", "connectedOrganizationId": org}],
                "requestorSettings": {"enableTargetsToSelfAddAccess": true}})).await;
            id(&p)
        }
    };
    let northwind = id(&s
        .post(&format!("{EM}/connectedOrganizations"), json!({"displayName": "Northwind",
            "identitySources": [{"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": "northwind.example", "displayName": "n"}]}))
        .await
        .expect(201));
    let wiki = add("Tango wiki", false, w.org.clone()).await;
    let secret = add("Tango board", true, w.org.clone()).await;
    let other = add("Northwind ledger", false, northwind).await;
    let ana = Web::signed_in(&s, uid(&w.ana)).await;
    let page = ana.get("/myaccess").await;
    let d = doc(&page);
    let listed: Vec<String> = select(&d, ".cards h2 a").iter().map(text).collect();
    assert_eq!(listed, ["Project Tango", "Tango wiki"]);
    for never in [&secret, &other] {
        assert!(!page.html.contains(never.as_str()), "{never} must not be listed");
    }
    let found = ana.get("/myaccess?q=WIKI").await;
    let listed: Vec<String> = select(&doc(&found), ".cards h2 a").iter().map(text).collect();
    assert_eq!(listed, ["Tango wiki"], "search is case-insensitive over name and description");
    assert!(found.html.contains(&format!("/myaccess/packages/{wiki}")));
    let none = ana.get("/myaccess?q=%3Cscript%3E").await;
    assert!(none.html.contains("No access package you can request matches “&#60;script&#62;”"), "{}", none.html);
    // The hidden one works by its link.
    assert_eq!(ana.get(&format!("/myaccess/packages/{secret}")).await.status, StatusCode::OK);
}

async fn approvers_decide_with_htmx_or_without(s: TestServer) {
    let w = world(&s).await;
    let policy = tango_policy(&s, &w).await;
    let ana = Web::signed_in(&s, uid(&w.ana)).await;
    let csrf = ana.get("/myaccess").await.csrf();
    let choice = format!("q.{}", policy["questions"][0]["id"].as_str().unwrap());
    let submitted = ana
        .post(
            &format!("/myaccess/packages/{}", w.package),
            &[
                ("csrf", &csrf),
                ("policy", &id(&policy)),
                (&choice, "0"),
                ("justification", "HW"),
                ("accept_privacy", "yes"),
            ],
        )
        .await;
    let request = submitted.location().unwrap().rsplit('/').next().unwrap().to_owned();
    let bob = Web::signed_in(&s, uid(&w.bob)).await;
    let list = bob.get("/myaccess/approvals").await;
    let d = doc(&list);
    every_control_is_labelled(&d);
    let card = &select(&d, &format!("#approval-{request}"))[0];
    let card_text = text(card);
    assert!(card_text.contains("Ana Silva of Fabrikam asks for Project Tango"), "{card_text}");
    assert!(
        card_text.contains("Which workstream?") && card_text.contains("Hardware") && card_text.contains("HW"),
        "{card_text}"
    );
    assert!(card_text.contains("Denied automatically unless someone decides within 14 days"), "{card_text}");
    assert!(!list.html.contains("secret-hw"), "approvers read the choice's text");
    let stage = card
        .select(&Selector::parse("input[name=stage]").unwrap())
        .next()
        .unwrap()
        .value()
        .attr("value")
        .unwrap()
        .to_owned();
    let bob_csrf = list.csrf();
    // Ana is no approver of her own request: its approval page does not exist for her.
    assert_eq!(ana.get(&format!("/myaccess/approvals/{request}")).await.status, StatusCode::NOT_FOUND);
    // Without a decision: refused in place.
    let path = format!("/myaccess/approvals/{request}");
    let wrong = bob.post_htmx(&path, &[("csrf", &bob_csrf), ("stage", &stage)]).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.html.contains("Choose Approve or Deny."));
    // With htmx: only the card comes back, decided, with the announcement for the live region.
    let done = bob
        .post_htmx(
            &path,
            &[("csrf", &bob_csrf), ("stage", &stage), ("decision", "approve"), ("justification", "Known engineer")],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.html);
    assert!(!done.html.contains("<html"), "a fragment, not a page");
    assert_eq!(done.headers["vary"], "HX-Request");
    let d = Html::parse_fragment(&done.html);
    assert!(text(&select(&d, "#toast[hx-swap-oob]")[0]).contains("Approved: Ana Silva's request for Project Tango."));
    assert!(select(&d, "form").is_empty(), "a decided card has no form");
    assert!(done.html.contains("You approved it on"), "{}", done.html);
    // Deciding again says why not; past decisions list it.
    let twice = bob.post(&path, &[("csrf", &bob_csrf), ("stage", &stage), ("decision", "deny")]).await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    let past = bob.get("/myaccess/approvals").await;
    assert!(past.html.contains("No request is waiting for your decision."));
    let decided = text(&select(&doc(&past), "section[aria-labelledby=decided]")[0]);
    assert!(decided.contains("Ana Silva of Fabrikam asks for Project Tango"), "{decided}");
    // Ana reads the outcome.
    s.run_workers().await;
    let mine = ana.get(&format!("/myaccess/requests/{request}")).await;
    assert_eq!(text(&select(&doc(&mine), ".status .label")[0]), "Delivered");
    let access = ana.get("/myaccess/access").await;
    assert!(text(&select(&doc(&access), ".card")[0]).contains("Cross-Org Team (Member)"), "{}", access.html);
}

async fn forms_without_their_csrf_token_write_nothing(s: TestServer) {
    let w = world(&s).await;
    let policy = tango_policy(&s, &w).await;
    let ana = Web::signed_in(&s, uid(&w.ana)).await;
    let before = s.audit_count().await;
    let choice = format!("q.{}", policy["questions"][0]["id"].as_str().unwrap());
    let pid = id(&policy);
    let pairs: Vec<(&str, &str)> =
        vec![("policy", &pid), (&choice, "0"), ("justification", "HW"), ("accept_privacy", "yes")];
    let page = ana.post(&format!("/myaccess/packages/{}", w.package), &pairs).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/html"), "a page, not JSON");
    assert!(page.html.contains("This form has expired") && page.html.contains("CSRF token"), "{}", page.html);
    let mut wrong = pairs.clone();
    wrong.push(("csrf", "not-the-token"));
    assert_eq!(ana.post(&format!("/myaccess/packages/{}", w.package), &wrong).await.status, StatusCode::FORBIDDEN);
    assert_eq!(s.audit_count().await, before);
    assert!(requests_of(&s, &w.ana).await.is_empty());
}

async fn signed_out_visitors_go_to_sign_in_and_back(s: TestServer) {
    let w = world(&s).await;
    let web = Web::new(&s);
    let page = web.get(&format!("/myaccess/packages/{}?domain_hint=fabrikam.example", w.package)).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let to = page.location().unwrap();
    assert!(
        to.starts_with(&format!("/signin?return_to=/myaccess/packages/{}%3Fdomain_hint%3Dfabrikam.example", w.package)),
        "{to}"
    );
    assert!(to.ends_with("&domain_hint=fabrikam.example"), "{to}");
    // The sign-in form carries the way back.
    let signin = web.get(to).await;
    let d = doc(&signin);
    let back = select(&d, "input[name=return_to]")[0].value().attr("value").unwrap().to_owned();
    assert_eq!(back, format!("/myaccess/packages/{}?domain_hint=fabrikam.example", w.package));
    for path in ["/myaccess", "/myaccess/requests", "/myaccess/access", "/myaccess/approvals"] {
        let p = web.get(path).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{path}");
    }
    // Sign-in errors are pages too, not JSON with the page inside.
    let bad = web.get("/signin/link?code=used-or-made-up").await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert!(bad.headers["content-type"].to_str().unwrap().starts_with("text/html"), "{:?}", bad.headers);
    assert!(bad.html.contains("This link does not work"));
    let no_form = web.post("/signin/passcode", &[("code", "12345678")]).await;
    assert_eq!(no_form.status, StatusCode::FORBIDDEN);
    assert!(no_form.headers["content-type"].to_str().unwrap().starts_with("text/html"));
}

async fn every_response_carries_the_security_headers(s: TestServer) {
    let w = world(&s).await;
    let ana = Web::signed_in(&s, uid(&w.ana)).await;
    let page = ana.get("/myaccess").await;
    let json = s.get("/v1.0/me").await;
    for headers in [&page.headers, &json.headers] {
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert_eq!(headers["cache-control"], "no-store");
    }
    // Nothing inline that the policy would block, nothing from another origin.
    let d = doc(&page);
    assert!(select(&d, "style, [style], script:not([src])").is_empty(), "inline style or script");
    for script in select(&d, "script[src]") {
        assert!(script.value().attr("src").unwrap().starts_with("/assets/"));
        assert!(script.value().attr("integrity").unwrap().starts_with("sha384-"));
    }
    let css = ana.get(select(&d, "link[rel=stylesheet]")[0].value().attr("href").unwrap()).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.headers["content-type"].to_str().unwrap().starts_with("text/css"));
    assert!(css.headers.contains_key("etag"));
}

async fn several_policies_let_the_person_choose_and_dates_when_allowed(s: TestServer) {
    let w = world(&s).await;
    let org =
        json!([{"@odata.type": "#microsoft.graph.connectedOrganizationMembers", "connectedOrganizationId": w.org}]);
    let short = s
        .add_policy(
            &w.package,
            json!({"displayName": "Short visit", "allowedTargetScope": "specificConnectedOrganizationUsers",
            "specificAllowedTargets": org, "expiration": {"type": "afterDuration", "duration": "P7D"},
            "requestorSettings": {"enableTargetsToSelfAddAccess": true, "allowCustomAssignmentSchedule": true}}),
        )
        .await;
    s.add_policy(
        &w.package,
        json!({"displayName": "Any partner", "allowedTargetScope": "allExternalUsers",
        "requestorSettings": {"enableTargetsToSelfAddAccess": true}}),
    )
    .await;
    let ana = Web::signed_in(&s, uid(&w.ana)).await;
    let path = format!("/myaccess/packages/{}", w.package);
    let page = ana.get(&path).await;
    let d = doc(&page);
    every_control_is_labelled(&d);
    // The most specific policy comes first and is preselected; choosing is a plain GET form.
    let radios = select(&d, "form[method=get] input[type=radio][name=policy]");
    assert_eq!(radios.len(), 2, "{}", page.html);
    assert_eq!(radios[0].value().attr("value"), Some(short.as_str()));
    assert!(radios[0].value().attr("checked").is_some());
    assert!(text(&select(&d, "form[method=get]")[0]).contains("Access lasts 7 days."));
    let form = ana.get(&format!("{path}?policy={short}")).await;
    let d = doc(&form);
    assert_eq!(select(&d, "input[name=policy][type=hidden]")[0].value().attr("value"), Some(short.as_str()));
    assert_eq!(select(&d, "input[type=date]").len(), 2, "this policy lets requestors choose dates");
    let csrf = form.csrf();
    let before = s.audit_count().await;
    let bad =
        ana.post(&path, &[("csrf", &csrf), ("policy", &short), ("end", "31/12/2026"), ("accept_privacy", "yes")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.html.contains("Enter dates as year-month-day"), "{}", bad.html);
    assert_eq!(s.audit_count().await, before);
    let end = (s.clock.now() + chrono::Duration::days(3)).format("%Y-%m-%d").to_string();
    let ok = ana.post(&path, &[("csrf", &csrf), ("policy", &short), ("end", &end), ("accept_privacy", "yes")]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.html);
    let r = &requests_of(&s, &w.ana).await[0];
    assert_eq!(r["schedule"]["expiration"]["type"], "afterDateTime", "{r}");
    assert!(
        r["schedule"]["expiration"]["endDateTime"].as_str().unwrap().starts_with(&format!("{end}T23:59:59")),
        "{r}"
    );
}

both_backends!(
    several_policies_let_the_person_choose_and_dates_when_allowed,
    the_package_link_asks_the_policys_questions,
    wrong_fields_come_back_next_to_themselves_and_write_nothing,
    the_link_says_why_it_is_not_available,
    the_list_shows_only_what_you_may_request,
    approvers_decide_with_htmx_or_without,
    forms_without_their_csrf_token_write_nothing,
    signed_out_visitors_go_to_sign_in_and_back,
    every_response_carries_the_security_headers,
);
