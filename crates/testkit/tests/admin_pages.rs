//! The admin portal's pages over HTTP without a browser, on both backends: what each shows and
//! to whom. (The click-paths in Chromium come with the wizards.)

use gatehouse_testkit::fixtures::partner::world;
use gatehouse_testkit::web::{Page, Web};
use gatehouse_testkit::{both_backends, json, TestServer, EM};
use reqwest::StatusCode;
use scraper::{Html, Selector};
use uuid::Uuid;

/// An element's text with its whitespace collapsed, as a reader sees it.
fn text(e: scraper::ElementRef<'_>) -> String {
    e.text().collect::<Vec<_>>().join(" ").split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Each row of the page's list: its `data-organization` id and its cells' texts.
fn rows(p: &Page) -> Vec<(String, Vec<String>)> {
    let d = Html::parse_document(&p.html);
    let row = Selector::parse("table.list tbody tr").unwrap();
    let cell = Selector::parse("th, td").unwrap();
    d.select(&row)
        .map(|r| (r.value().attr("data-organization").unwrap_or("").to_owned(), r.select(&cell).map(text).collect()))
        .collect()
}

async fn admin_id(s: &TestServer) -> Uuid {
    s.get("/v1.0/me").await.expect(200)["id"].as_str().unwrap().parse().unwrap()
}

async fn organizations_are_listed_and_searched_by_name_or_domain(s: TestServer) {
    let w = world(&s).await;
    // A second organization by the same name (seed 003's confusion), and one that signs in at
    // its own OpenID provider.
    let twin = s
        .post(
            &format!("{EM}/connectedOrganizations"),
            json!({"displayName": "fabrikam", "description": "The other one", "identitySources": [
                {"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": "fabrikam-labs.example", "displayName": "Labs"}]}),
        )
        .await
        .expect(201);
    s.post(
        &format!("{EM}/connectedOrganizations"),
        json!({"displayName": "Northwind", "identitySources": [
            {"@odata.type": "#gatehouse.oidcIdentitySource", "domainName": "northwind.example", "displayName": "Northwind",
             "issuerUri": "https://login.northwind.example"},
            {"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": "northwind-partners.example"}]}),
    )
    .await
    .expect(201);

    let web = Web::signed_in(&s, admin_id(&s).await).await;
    let page = web.get("/admin/connectedOrganizations").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let listed = rows(&page);
    assert_eq!(listed.len(), 3, "{listed:?}");
    let fabrikam = listed.iter().find(|(id, _)| *id == w.org).expect("Fabrikam is listed");
    assert!(fabrikam.1[0].starts_with("Fabrikam Another organization has this name"), "{:?}", fabrikam.1);
    assert_eq!(fabrikam.1[1..], ["fabrikam.example", "One-time passcode", "configured", "1", "1"], "{:?}", fabrikam.1);
    let twin_row = listed.iter().find(|(id, _)| *id == twin["id"]).unwrap();
    assert!(twin_row.1[0].contains("Another organization has this name") && twin_row.1[0].contains("The other one"));
    let northwind = listed.iter().find(|(_, c)| c[0] == "Northwind").expect("Northwind is listed");
    assert_eq!(northwind.1[1], "northwind.example, northwind-partners.example");
    assert_eq!(northwind.1[2], "OpenID Connect, One-time passcode");
    assert_eq!(northwind.1[4..], ["0", "0"]);

    // The overview: properties, directories and domains, and both kinds of sponsor.
    let overview = web.get(&format!("/admin/connectedOrganizations/{}", w.org)).await;
    assert_eq!(overview.status, StatusCode::OK, "{}", overview.html);
    let d = Html::parse_document(&overview.html);
    let texts = |css: &str| -> Vec<String> { d.select(&Selector::parse(css).unwrap()).map(text).collect() };
    assert_eq!(texts("h1"), ["Fabrikam"]);
    assert!(overview.html.contains("Another connected organization has this name"));
    assert_eq!(texts("table.list tbody tr"), ["fabrikam.example fabrikam.example One-time passcode —"]);
    assert_eq!(texts("ul[aria-label='Internal sponsors'] li"), ["Alex Wilber alex@contoso.example"]);
    assert_eq!(texts("ul[aria-label='External sponsors'] li"), ["Bob Fischer bob@fabrikam.example"]);
    assert_eq!(
        web.get(&format!("/admin/connectedOrganizations/{}", Uuid::new_v4())).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(web.get("/admin/connectedOrganizations/not-a-guid").await.status, StatusCode::NOT_FOUND);

    // By a domain the anchor product cannot search for, and by part of a name.
    let by_domain = rows(&web.get("/admin/connectedOrganizations?q=northwind-partners.example").await);
    assert_eq!(by_domain.iter().map(|(_, c)| c[0].as_str()).collect::<Vec<_>>(), ["Northwind"]);
    let by_name = rows(&web.get("/admin/connectedOrganizations?q=FABRI").await);
    assert_eq!(by_name.len(), 2, "{by_name:?}");
    let none = web.get("/admin/connectedOrganizations?q=nowhere.example").await;
    assert!(rows(&none).is_empty() && none.html.contains("No connected organization’s name or domain matches"));

    // The navigation offers what the viewer may open; a member without an entitlement role
    // cannot open the page.
    assert!(page.html.contains(r#"href="/admin/connectedOrganizations" aria-current="page""#), "{}", page.html);
    let megan = Web::signed_in(&s, w.megan.id.parse().unwrap()).await;
    assert_eq!(megan.get("/admin/connectedOrganizations").await.status, StatusCode::FORBIDDEN);
    let signed_out = Web::new(&s).get("/admin/connectedOrganizations").await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
    assert!(signed_out.location().unwrap().starts_with("/signin?return_to=/admin/connectedOrganizations"));
}

/// Administrators see every catalog; a catalog owner only theirs (the API's reach).
async fn catalogs_are_listed_to_whoever_may_read_them(s: TestServer) {
    let w = world(&s).await;
    let finance = s
        .post(&format!("{EM}/catalogs"), json!({"displayName": "Finance", "description": "Invoices", "state": "unpublished", "isExternallyVisible": false}))
        .await
        .expect(201);
    let finance = finance["id"].as_str().unwrap().to_owned();
    let owner =
        s.post("/v1.0/users", json!({"displayName": "Olga Owner", "mail": "olga@contoso.example"})).await.expect(201);
    s.post(
        "/v1.0/roleManagement/entitlementManagement/roleAssignments",
        json!({"roleDefinitionId": "ae79f266-94d4-4dab-b730-feca7e132178", "principalId": owner["id"], "directoryScopeId": "/",
               "appScopeId": format!("/AccessPackageCatalog/{finance}")}),
    )
    .await
    .expect(201);

    let cells = |p: &Page| -> Vec<Vec<String>> { rows(p).into_iter().map(|(_, cells)| cells).collect() };
    let admin = Web::signed_in(&s, admin_id(&s).await).await;
    let all = admin.get("/admin/catalogs").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.html);
    let mut listed = cells(&all);
    listed.sort();
    assert_eq!(
        listed,
        [vec!["Finance Invoices", "No", "No", "0"], vec!["Partner extranet", "Yes", "Yes", "1"],],
        "{listed:?}"
    );
    assert_eq!(cells(&admin.get("/admin/catalogs?q=part").await).len(), 1);
    assert!(all.html.contains(r#"href="/admin/catalogs" aria-current="page""#));

    let olga = Web::signed_in(&s, owner["id"].as_str().unwrap().parse().unwrap()).await;
    let own = olga.get("/admin/catalogs").await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.html);
    assert_eq!(cells(&own), [vec!["Finance Invoices", "No", "No", "0"]]);
    assert!(!own.html.contains(&w.catalog), "an owner of Finance sees Partner extranet");
}

/// The texts of the elements `css` selects.
fn texts(p: &Page, css: &str) -> Vec<String> {
    Html::parse_document(&p.html).select(&Selector::parse(css).unwrap()).map(text).collect()
}

/// The add-organization wizard over HTTP: each refusal is a 422 with its message next to the
/// field, keeps what was typed, and writes nothing; Create writes the organization and both
/// sponsors at once.
async fn the_organization_wizard_refuses_in_place_and_creates_in_one_go(s: TestServer) {
    let w = world(&s).await;
    let web = Web::signed_in(&s, admin_id(&s).await).await;
    const NEW: &str = "/admin/connectedOrganizations/new";
    let first = web.get(NEW).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.html);
    assert_eq!(texts(&first, "nav.tabs [aria-current=step]"), ["1. Basics"]);
    let csrf = first.csrf();
    let audit = s.audit_count().await;

    // An empty name stops Next on Basics.
    let p = web.post(NEW, &[("csrf", &csrf), ("name", "  "), ("go", "domains")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(texts(&p, "#name-error"), ["Enter the organization's name."]);
    assert_eq!(texts(&p, "nav.tabs [aria-current=step]"), ["1. Basics"]);

    // A name another organization has is a warning, not a refusal (seed 003).
    let basics = [("csrf", csrf.as_str()), ("name", "fabrikam"), ("description", "Second Fabrikam")];
    let p = web.post(NEW, &[&basics[..], &[("go", "domains")]].concat()).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert!(texts(&p, "#name-taken")[0].contains("already called fabrikam"));

    // Domains: not a domain, a domain Fabrikam has, then a good one (no provider answers at
    // it, so its users get passcodes).
    let add = |domain: &'static str| [&basics[..], &[("new_domain", domain), ("go", "add_domain")]].concat();
    let p = web.post(NEW, &add("not a domain")).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        texts(&p, "#new_domain-error")[0].contains("not a valid domain name"),
        "{:?}",
        texts(&p, "#new_domain-error")
    );
    assert_eq!(texts(&p, "nav.tabs [aria-current=step]"), ["2. Directory + domain"]);
    let p = web.post(NEW, &add("Fabrikam.example")).await;
    assert_eq!(
        texts(&p, "#new_domain-error"),
        ["fabrikam.example already belongs to the connected organization Fabrikam."]
    );
    assert!(
        p.html.contains(r#"value="Second Fabrikam""#) || p.html.contains(">Second Fabrikam<"),
        "what was typed is kept"
    );
    let p = web.post(NEW, &add("labs.fabrikam.example")).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert_eq!(
        texts(&p, "#domains tbody tr"),
        ["labs.fabrikam.example One-time passcode — Remove labs.fabrikam.example"]
    );
    let domain = [("domain.0", "labs.fabrikam.example"), ("issuer.0", "")];

    // Sponsors: the internal picker offers members only, the external one guests only; a
    // member added as an external sponsor is refused.
    let p = web.post(NEW, &[&basics[..], &domain[..], &[("go", "sponsors")]].concat()).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    let internal = texts(&p, "#internal-picker .offered label");
    let external = texts(&p, "#external-picker .offered label");
    assert!(internal.iter().any(|t| t.starts_with("Alex Wilber")), "{internal:?}");
    assert!(
        !internal.iter().any(|t| t.starts_with("Bob Fischer")),
        "a guest offered as internal sponsor: {internal:?}"
    );
    assert!(external.iter().any(|t| t.starts_with("Bob Fischer")), "{external:?}");
    assert!(
        !external.iter().any(|t| t.starts_with("Alex Wilber") || t.starts_with("Megan")),
        "a member offered as external sponsor: {external:?}"
    );
    let p = web
        .post(
            NEW,
            &[&basics[..], &domain[..], &[("external_email", "alex@contoso.example"), ("go", "add_external_email")]]
                .concat(),
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(texts(&p, "#external-error"), ["'Alex Wilber' is a member; external sponsors must be guest users."]);
    // The same member sent as an external sponsor by a crafted form is refused on Create too.
    let p = web
        .post(NEW, &[&basics[..], &domain[..], &[("external", w.alex.id.as_str()), ("go", "create")]].concat())
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(texts(&p, "nav.tabs [aria-current=step]"), ["3. Sponsors"]);
    assert_eq!(s.audit_count().await, audit, "a refused step wrote something");

    let sponsors = [("internal", w.alex.id.as_str()), ("external", w.bob.id.as_str())];
    let review = web.post(NEW, &[&basics[..], &domain[..], &sponsors[..], &[("go", "review")]].concat()).await;
    assert_eq!(review.status, StatusCode::OK, "{}", review.html);
    let facts = texts(&review, "#review dd");
    assert_eq!(facts[3..], ["labs.fabrikam.example (One-time passcode)", "Alex Wilber", "Bob Fischer"], "{facts:?}");
    let done = web.post(NEW, &[&basics[..], &domain[..], &sponsors[..], &[("go", "create")]].concat()).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let at = done.location().unwrap().to_owned();
    let id = at.rsplit('/').next().unwrap();
    let org = s.get(&format!("{EM}/connectedOrganizations/{id}")).await.expect(200);
    assert_eq!(org["displayName"], "fabrikam");
    assert_eq!(org["identitySources"][0]["domainName"], "labs.fabrikam.example");
    let external = s.get(&format!("{EM}/connectedOrganizations/{id}/externalSponsors")).await.expect(200);
    assert_eq!(gatehouse_testkit::fixtures::partner::ids(&external), [w.bob.id.as_str()]);
    let internal = s.get(&format!("{EM}/connectedOrganizations/{id}/internalSponsors")).await.expect(200);
    assert_eq!(gatehouse_testkit::fixtures::partner::ids(&internal), [w.alex.id.as_str()]);
    assert_eq!(s.audit_count().await, audit + 3, "the organization and two sponsors");
    let overview = web.get(&at).await;
    assert_eq!(texts(&overview, "h1"), ["fabrikam"]);
}

/// New catalog, Add resources (a group search; all ticked groups or none) and Roles and
/// administrators, and what a catalog owner may then do there.
async fn a_catalog_is_created_filled_and_delegated_from_its_pages(s: TestServer) {
    let w = world(&s).await;
    let admin = Web::signed_in(&s, admin_id(&s).await).await;
    let csrf = admin.get("/admin/catalogs/new").await.csrf();
    let audit = s.audit_count().await;
    let refused = admin.post("/admin/catalogs/new", &[("csrf", &csrf), ("name", ""), ("description", "Kept")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(texts(&refused, "#name-error"), ["Enter the catalog's name."]);
    assert!(refused.html.contains(">Kept</textarea>"));
    assert_eq!(s.audit_count().await, audit);
    let made = admin
        .post(
            "/admin/catalogs/new",
            &[("csrf", &csrf), ("name", "Design partners"), ("enabled", "yes"), ("external", "yes")],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.html);
    let at = made.location().unwrap().to_owned();
    let catalog = at.rsplit('/').next().unwrap().to_owned();
    let c = s.get(&format!("{EM}/catalogs/{catalog}")).await.expect(200);
    assert_eq!((c["state"].as_str(), c["isExternallyVisible"].as_bool()), (Some("published"), Some(true)));

    // Add resources: the search finds groups; a group already in the catalog is not offered.
    let design =
        s.post("/v1.0/groups", json!({"displayName": "Design Review", "description": "Weekly"})).await.expect(201);
    let design = design["id"].as_str().unwrap().to_owned();
    let pick = admin.get(&format!("/admin/catalogs/{catalog}/resources/add?q=cross")).await;
    assert_eq!(pick.status, StatusCode::OK, "{}", pick.html);
    assert_eq!(texts(&pick, "fieldset .option label"), ["Cross-Org Team"]);
    let add = format!("/admin/catalogs/{catalog}/resources/add");
    let none = admin.post(&add, &[("csrf", &csrf)]).await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(texts(&none, "#group-error"), ["Tick at least one resource to add."]);
    // One good group and one that does not exist: neither is added.
    let missing = Uuid::new_v4().to_string();
    let audit = s.audit_count().await;
    let bad = admin.post(&add, &[("csrf", &csrf), ("group", &w.group), ("group", &missing)]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.html);
    assert_eq!(s.audit_count().await, audit, "a refused Add resources wrote something");
    let ok = admin.post(&add, &[("csrf", &csrf), ("group", &w.group), ("group", &design)]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.html);
    let page = admin.get(&at).await;
    assert_eq!(texts(&page, "#resource-list tbody th"), ["Cross-Org Team", "Design Review Weekly"]);
    assert!(texts(&admin.get(&format!("/admin/catalogs/{catalog}/resources/add")).await, "fieldset .option label")
        .iter()
        .all(|g| g != "Cross-Org Team" && !g.starts_with("Design Review")));

    // Roles and administrators: Alex becomes the catalog's owner by address.
    let roles = format!("/admin/catalogs/{catalog}/roles");
    let unknown = admin.post(&roles, &[("csrf", &csrf), ("email", "nobody@contoso.example")]).await;
    assert_eq!(texts(&unknown, "#email-error"), ["Nobody in the directory has the address nobody@contoso.example."]);
    let owner = "ae79f266-94d4-4dab-b730-feca7e132178";
    let given = admin.post(&roles, &[("csrf", &csrf), ("email", "alex@contoso.example"), ("role", owner)]).await;
    assert_eq!(given.status, StatusCode::SEE_OTHER, "{}", given.html);
    assert_eq!(texts(&admin.get(&at).await, "#role-list tbody th"), ["Alex Wilber alex@contoso.example"]);

    // Alex sees this catalog only, may add resources to it, and cannot open Partner extranet.
    let alex = Web::signed_in(&s, w.alex.id.parse().unwrap()).await;
    let list = alex.get("/admin/catalogs").await;
    assert_eq!(rows(&list).len(), 1, "{}", list.html);
    assert!(list.html.contains("Design partners") && !list.html.contains("Partner extranet"));
    assert!(!list.html.contains("New catalog"), "an owner is offered New catalog");
    let mine = alex.get(&at).await;
    assert!(mine.html.contains("Add resources") && mine.html.contains("New access package"));
    assert_eq!(alex.get(&format!("/admin/catalogs/{}", w.catalog)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(alex.get(&format!("/admin/catalogs/{}/resources/add", w.catalog)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(alex.get("/admin/catalogs/new").await.status, StatusCode::FORBIDDEN);
}

/// The new access package wizard over HTTP: refusals stay on their tab and write nothing;
/// Create writes the package, its role and its policy at once; the overview hides it.
async fn the_package_wizard_builds_seed_000s_package_in_one_go(s: TestServer) {
    let w = world(&s).await;
    let web = Web::signed_in(&s, admin_id(&s).await).await;
    const NEW: &str = "/admin/accessPackages/new";
    let first = web.get(&format!("{NEW}?catalog={}", w.catalog)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.html);
    let csrf = first.csrf();
    let audit = s.audit_count().await;
    let role = format!("role.{}", resource_of(&s, &w.catalog).await);
    let member = format!("Member_{}", w.group);
    let base: Vec<(String, String)> = [
        ("csrf", csrf.as_str()),
        ("name", "Project Tango"),
        ("description", "Partner engineers"),
        ("catalog", w.catalog.as_str()),
        (role.as_str(), member.as_str()),
        ("policy_name", "Fabrikam engineers"),
        ("who", "specificConnectedOrganizationUsers"),
        ("target_org", w.org.as_str()),
        ("approval", "yes"),
        ("stage.days.0", "14"),
        ("stage.approvers.0", "externalSponsors"),
        ("stage.fallback.0", "alex@contoso.example"),
        ("enabled", "yes"),
        ("expiry", "days"),
        ("expiry_days", "90"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let with = |changes: &[(&str, &str)], go: &str| -> Vec<(String, String)> {
        let mut f: Vec<(String, String)> =
            base.iter().filter(|(k, _)| !changes.iter().any(|(c, _)| c == k)).cloned().collect();
        f.extend(changes.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k.to_string(), v.to_string())));
        f.push(("go".into(), go.into()));
        f
    };
    let post = |fields: Vec<(String, String)>| {
        let web = &web;
        async move {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            web.post(NEW, &pairs).await
        }
    };
    // An empty name: Create goes back to Basics.
    let p = post(with(&[("name", "")], "create")).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    assert_eq!(texts(&p, "#name-error"), ["Enter the access package's name."]);
    assert_eq!(texts(&p, "nav.tabs [aria-current=step]"), ["1. Basics"]);
    // A policy for external users in a catalog that is not open to them.
    let closed = s
        .post(&format!("{EM}/catalogs"), json!({"displayName": "Internal only", "isExternallyVisible": false}))
        .await
        .expect(201);
    let closed = closed["id"].as_str().unwrap().to_owned();
    let audit = audit + 1;
    let p = post(with(&[("catalog", &closed), (&role, "")], "create")).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    assert_eq!(texts(&p, "nav.tabs [aria-current=step]"), ["3. Requests"]);
    assert!(texts(&p, "#who-error").concat().contains("not enabled for external users"), "{}", p.html);
    // An unknown fallback approver and a stage without approvers.
    let p = post(with(&[("stage.fallback.0", "nobody@contoso.example"), ("stage.approvers.0", "")], "lifecycle")).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(texts(&p, "[id='stage.approvers.0-error']"), ["Choose who approves at this stage."]);
    assert_eq!(
        texts(&p, "[id='stage.fallback.0-error']"),
        ["Nobody in the directory has the address nobody@contoso.example."]
    );
    // A wrong expiry.
    let p = post(with(&[("expiry_days", "0")], "review")).await;
    assert_eq!(texts(&p, "nav.tabs [aria-current=step]"), ["5. Lifecycle"]);
    assert_eq!(texts(&p, "#expiry_days-error"), ["Enter a whole number of days from 1 to 3660."]);
    assert_eq!(s.audit_count().await, audit, "a refused step wrote something");

    // Review + create, then the overview.
    let review = post(with(&[], "review")).await;
    assert_eq!(review.status, StatusCode::OK, "{}", review.html);
    let facts = texts(&review, "#review-facts dd");
    assert_eq!(
        facts[..5],
        ["Project Tango", "Partner extranet", "No", "Cross-Org Team (Member)", "Specific connected organizations"],
        "{facts:?}"
    );
    let done = post(with(&[], "create")).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let at = done.location().unwrap().to_owned();
    let package = at.rsplit('/').next().unwrap().to_owned();
    let roles = s.get(&format!("{EM}/accessPackages/{package}/resourceRoleScopes?$expand=role")).await.expect(200);
    assert_eq!(roles["value"][0]["role"]["originId"], member);
    let policies = s.get(&format!("{EM}/accessPackages/{package}/assignmentPolicies")).await.expect(200);
    let policy = &policies["value"][0];
    assert_eq!(policy["expiration"]["duration"], "P90D");
    assert_eq!(policy["specificAllowedTargets"][0]["connectedOrganizationId"], w.org);
    let stage = &policy["requestApprovalSettings"]["stages"][0];
    assert_eq!(stage["primaryApprovers"][0]["@odata.type"], "#microsoft.graph.externalSponsors");
    assert_eq!(stage["fallbackPrimaryApprovers"][0]["userId"], w.alex.id);
    assert_eq!(s.audit_count().await, audit + 3, "package, role and policy");

    let overview = web.get(&at).await;
    assert_eq!(overview.status, StatusCode::OK, "{}", overview.html);
    let link = Html::parse_document(&overview.html)
        .select(&Selector::parse("#link").unwrap())
        .next()
        .and_then(|e| e.value().attr("value").map(str::to_owned))
        .unwrap();
    assert!(link.ends_with(&format!("/myaccess/packages/{package}")), "{link}");
    assert_eq!(texts(&overview, "#hidden-value"), ["No"]);
    let hide = web
        .post(
            &format!("{at}/properties"),
            &[("csrf", &csrf), ("name", "Project Tango"), ("description", "Partner engineers"), ("hidden", "yes")],
        )
        .await;
    assert_eq!(hide.status, StatusCode::SEE_OTHER, "{}", hide.html);
    assert_eq!(s.get(&format!("{EM}/accessPackages/{package}")).await.expect(200)["isHidden"], true);
    assert_eq!(texts(&web.get(&at).await, "#hidden-value"), ["Yes"]);
    // A direct assignment to Ana (a Fabrikam guest) under the new policy, then its removal.
    let policy_id = policy["id"].as_str().unwrap().to_owned();
    let assign = format!("{at}/assignments");
    let nobody = web.post(&assign, &[("csrf", &csrf), ("email", ""), ("policy", &policy_id)]).await;
    assert_eq!(texts(&nobody, "#email-error"), ["Enter the address of the person to assign."]);
    let given = web.post(&assign, &[("csrf", &csrf), ("email", "ana@fabrikam.example"), ("policy", &policy_id)]).await;
    assert_eq!(given.status, StatusCode::SEE_OTHER, "{}", given.html);
    s.run_workers().await;
    let held = s.get(&format!("{EM}/assignments?$filter=accessPackage/id eq '{package}'")).await.expect(200);
    let assignment = held["value"][0]["id"].as_str().expect("Ana holds the package").to_owned();
    assert!(texts(&web.get(&at).await, "#assignment-list tbody th")[0].starts_with("Ana Silva"));
    let removed = web.post(&format!("{at}/assignments/remove"), &[("csrf", &csrf), ("assignment", &assignment)]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.html);
    s.run_workers().await;
    let after = s.get(&format!("{EM}/assignments/{assignment}")).await.expect(200);
    assert_eq!(after["state"], "expired", "{after}");
    // Incompatible: the fixture's Tango, added and taken away again; a group too.
    let inc = format!("{at}/incompatible");
    assert_eq!(web.post(&inc, &[("csrf", &csrf), ("package", &w.package)]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(web.post(&inc, &[("csrf", &csrf), ("group", &w.group)]).await.status, StatusCode::SEE_OTHER);
    let page = web.get(&at).await;
    assert_eq!(texts(&page, "#incompatible-packages li"), ["Project Tango Remove Project Tango"]);
    assert_eq!(texts(&page, "#incompatible-groups li"), ["Cross-Org Team Remove Cross-Org Team"]);
    let api = s.get(&format!("{EM}/accessPackages/{package}/incompatibleAccessPackages")).await.expect(200);
    assert_eq!(api["value"][0]["id"], w.package);
    assert_eq!(web.post(&inc, &[("csrf", &csrf), ("remove_package", &w.package)]).await.status, StatusCode::SEE_OTHER);
    assert!(texts(&web.get(&at).await, "#incompatible-packages li").is_empty());
    assert_eq!(web.post(&inc, &[("csrf", &csrf)]).await.status, StatusCode::BAD_REQUEST);
    // The fixture's own Project Tango and this one.
    let list = web.get("/admin/accessPackages?q=tango").await;
    assert_eq!(rows(&list).len(), 2);
}

/// The resource id of the catalog's first resource.
async fn resource_of(s: &TestServer, catalog: &str) -> String {
    let r = s.get(&format!("{EM}/catalogs/{catalog}/resources")).await.expect(200);
    r["value"][0]["id"].as_str().unwrap().to_owned()
}

/// Settings: saved through `PATCH settings`' rules; refusals next to their field write nothing.
async fn settings_are_saved_from_their_page(s: TestServer) {
    let w = world(&s).await;
    let web = Web::signed_in(&s, admin_id(&s).await).await;
    let page = web.get("/admin/settings").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let csrf = page.csrf();
    let audit = s.audit_count().await;
    let form = |extra: &[(&'static str, &'static str)]| {
        let mut f = vec![
            ("host", "Contoso"),
            ("lifecycle", "blockSignIn"),
            ("delete_after_days", "10"),
            ("statement_url", "https://contoso.example/privacy"),
            ("contact_email", "privacy@contoso.example"),
        ];
        f.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
        f.extend_from_slice(extra);
        f
    };
    let post = |fields: Vec<(&'static str, &'static str)>| {
        let (web, csrf) = (&web, csrf.clone());
        async move {
            let mut all = vec![("csrf", csrf.as_str())];
            all.extend(fields);
            web.post("/admin/settings", &all).await
        }
    };
    let p = post(form(&[("allow", "fabrikam.example"), ("deny", "evil.example")])).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(texts(&p, "#deny-error")[0].starts_with("Use an allow list or a deny list"));
    let p = post(form(&[("statement_url", "ftp://contoso.example/privacy")])).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        texts(&p, "#statement_url-error")[0].contains("absolute http(s) URL"),
        "{:?}",
        texts(&p, "#statement_url-error")
    );
    let p = post(form(&[("deny", "not a domain")])).await;
    assert!(texts(&p, "#deny-error")[0].contains("not a valid domain name"));
    assert_eq!(s.audit_count().await, audit, "a refused form wrote something");
    let ok = post(form(&[("deny", "evil.example\nspam.example")])).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.html);
    let saved = s.get(&format!("{EM}/settings")).await.expect(200);
    assert_eq!(saved["externalUserLifecycleAction"], "blockSignIn");
    assert_eq!(saved["durationUntilExternalUserDeletedAfterBlocked"], "P10D");
    assert_eq!(saved["externalDomainDenyList"], json!(["evil.example", "spam.example"]));
    assert!(web.get("/admin/settings?saved=1").await.html.contains("Settings saved."));
    // Not for a member without an administrator role.
    let megan = Web::signed_in(&s, w.megan.id.parse().unwrap()).await;
    assert_eq!(megan.get("/admin/settings").await.status, StatusCode::FORBIDDEN);
}

/// The audit log: filters, the chain's verification, CSV (with formula-looking names defused).
async fn the_audit_log_filters_verifies_and_exports(s: TestServer) {
    let w = world(&s).await;
    s.post("/v1.0/users", json!({"displayName": "=HYPERLINK(\"x\")", "mail": "eve@contoso.example"})).await.expect(201);
    let web = Web::signed_in(&s, admin_id(&s).await).await;
    let all = web.get("/admin/audit").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.html);
    let activities = |p: &Page| texts(p, "#audit-list tbody th");
    assert!(activities(&all).len() > 10);
    let sponsors = web.get("/admin/audit?activity=ADDSPONSOR").await;
    assert_eq!(activities(&sponsors), ["connectedOrganization.addSponsor", "connectedOrganization.addSponsor"]);
    let target = web.get(&format!("/admin/audit?target={}", w.package)).await;
    assert!(activities(&target).iter().any(|a| a == "accessPackage.create"), "{:?}", activities(&target));
    let future = web.get("/admin/audit?from=2999-01-01").await;
    assert!(activities(&future).is_empty());
    let bad = web.get("/admin/audit?from=yesterday").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(texts(&bad, "#from-error"), ["Enter the date as year-month-day, for example 2026-12-01."]);
    let verified = web.get("/admin/audit?verify=1").await;
    assert!(
        texts(&verified, "#verification")[0].starts_with("The chain is intact: all "),
        "{:?}",
        texts(&verified, "#verification")
    );
    let csv = web.get("/admin/audit/export?activity=user.create").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let mut lines = csv.html.lines();
    assert!(lines.next().unwrap().starts_with("activityDateTime,actor,actorId,activity"));
    let body: Vec<&str> = lines.collect();
    assert!(body.len() >= 5 && body.iter().all(|l| l.contains(",user.create,")), "{body:?}");
    assert!(
        csv.html.contains("'=HYPERLINK") || !csv.html.contains(",=HYPERLINK"),
        "a formula reached the CSV unquoted"
    );
    // Members without an administrator role cannot read it.
    let megan = Web::signed_in(&s, w.megan.id.parse().unwrap()).await;
    assert_eq!(megan.get("/admin/audit").await.status, StatusCode::FORBIDDEN);
}

/// Reports: Ana's approved request explains her access from every angle; Megan holds nothing.
async fn reports_say_who_holds_what_and_why(s: TestServer) {
    use gatehouse_testkit::fixtures::partner::{approval_path, decide, org_policy, stage, submit, user_add};
    let w = world(&s).await;
    let policy = org_policy(&s, &w, &w.package, vec![stage("externalSponsors")]).await;
    let request = submit(&s, &w.ana, user_add(&w.package, &policy, "PO-123456")).await;
    let request = request["id"].as_str().unwrap().to_owned();
    let stages = s.get(&format!("{}/stages", approval_path(&request))).await.expect(200);
    decide(&s, &w.bob, &request, stages["value"][0]["id"].as_str().unwrap(), "Approve").await.expect(204);
    s.run_workers().await;
    let web = Web::signed_in(&s, admin_id(&s).await).await;
    let cells = |p: &Page| -> Vec<String> { texts(p, "table.report tbody tr") };
    let by_package = web.get("/admin/reports").await;
    assert_eq!(by_package.status, StatusCode::OK, "{}", by_package.html);
    let row = &cells(&by_package)[0];
    assert!(
        row.starts_with("Project Tango Ana Silva ana@fabrikam.example Fabrikam") && row.ends_with("Fabrikam engineers"),
        "{row}"
    );
    assert_eq!(
        cells(&web.get("/admin/reports?view=resource").await),
        ["Cross-Org Team (Member) Ana Silva ana@fabrikam.example Project Tango"]
    );
    assert!(cells(&web.get("/admin/reports?view=organization").await)[0].starts_with("Fabrikam Ana Silva"));
    let ana = web.get("/admin/reports?view=person&person=ana@fabrikam.example").await;
    let held = texts(&ana, "table.report");
    assert!(
        held[0].contains("Project Tango Cross-Org Team (Member) Fabrikam engineers") && held[0].contains(&request),
        "{held:?}"
    );
    let compare = web.get("/admin/reports?view=compare&person=ana@fabrikam.example&other=megan@contoso.example").await;
    assert_eq!(compare.status, StatusCode::OK);
    let tables = texts(&compare, "h2");
    assert_eq!(tables, ["What only Ana Silva holds", "What only Megan Bowen holds"]);
    assert_eq!(cells(&compare), ["Access package Project Tango", "Resource role Cross-Org Team (Member)"]);
    let unknown = web.get("/admin/reports?view=person&person=nobody@contoso.example").await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(texts(&unknown, "#person-error"), ["Nobody in the directory has the address nobody@contoso.example."]);
    // The dashboard counts the same day: one request, one approval, one active guest.
    let dash = web.get("/admin").await;
    assert_eq!(dash.status, StatusCode::OK, "{}", dash.html);
    assert_eq!(texts(&dash, "#pending"), ["0"]);
    let today = texts(&dash, "#daily tbody tr")[0].clone();
    assert!(today.ends_with(" 1 1 0 1"), "today's row: {today}");
    assert_eq!(texts(&dash, "#guests tbody tr")[0], "Fabrikam 2");
    assert_eq!(Html::parse_document(&dash.html).select(&Selector::parse("svg polyline").unwrap()).count(), 4);
    let csv = web.get("/admin/reports?view=resource&format=csv").await;
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        csv.html.lines().collect::<Vec<_>>(),
        [
            "Who holds each resource role",
            "Resource role,Person,Email,Through access package",
            "Cross-Org Team (Member),Ana Silva,ana@fabrikam.example,Project Tango"
        ]
    );
}

/// Edit (the same tabs, filled in; Save sets sponsors to exactly what is ticked) and delete
/// (refused, saying which policies name the organization, until they no longer do).
async fn an_organization_is_edited_and_deleted_from_its_pages(s: TestServer) {
    use gatehouse_testkit::fixtures::partner::{ids, org_policy};
    let w = world(&s).await;
    let web = Web::signed_in(&s, admin_id(&s).await).await;
    let edit = format!("/admin/connectedOrganizations/{}/edit", w.org);
    let form = web.get(&edit).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.html);
    assert!(
        form.html.contains(r#"value="Fabrikam""#) && form.html.contains(r#"name="domain.0" value="fabrikam.example""#)
    );
    assert!(form.html.contains(&format!(r#"name="internal" value="{}" checked"#, w.alex.id)), "Alex is ticked");
    let csrf = form.csrf();
    // Renamed, a second domain, Alex no longer an internal sponsor, Bob still external.
    let saved = web
        .post(
            &edit,
            &[
                ("csrf", &csrf),
                ("name", "Fabrikam Ltd"),
                ("description", ""),
                ("state", "configured"),
                ("domain.0", "fabrikam.example"),
                ("issuer.0", ""),
                ("domain.1", "fabrikam-labs.example"),
                ("issuer.1", ""),
                ("external", &w.bob.id),
                ("go", "create"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let org = s.get(&format!("{EM}/connectedOrganizations/{}", w.org)).await.expect(200);
    assert_eq!(org["displayName"], "Fabrikam Ltd");
    assert_eq!(org["identitySources"].as_array().unwrap().len(), 2);
    let internal = s.get(&format!("{EM}/connectedOrganizations/{}/internalSponsors", w.org)).await.expect(200);
    assert!(ids(&internal).is_empty(), "{internal}");
    let external = s.get(&format!("{EM}/connectedOrganizations/{}/externalSponsors", w.org)).await.expect(200);
    assert_eq!(ids(&external), [w.bob.id.as_str()]);

    let policy = org_policy(&s, &w, &w.package, vec![]).await;
    let delete = format!("/admin/connectedOrganizations/{}/delete", w.org);
    let confirm = web.get(&delete).await;
    assert_eq!(texts(&confirm, "#naming li"), ["Fabrikam engineers"]);
    assert!(!confirm.html.contains("class=\"danger\""), "a delete button while a policy names it");
    let audit = s.audit_count().await;
    let refused = web.post(&delete, &[("csrf", &csrf)]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(s.audit_count().await, audit);
    s.delete(&format!("{EM}/assignmentPolicies/{}", policy["id"].as_str().unwrap())).await.expect(204);
    let confirm = web.get(&delete).await;
    assert!(
        texts(&confirm, "main p")[1].contains("guest accounts stay in the directory"),
        "{:?}",
        texts(&confirm, "main p")
    );
    let gone = web.post(&delete, &[("csrf", &csrf)]).await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    assert_eq!(s.get(&format!("{EM}/connectedOrganizations/{}", w.org)).await.status, StatusCode::NOT_FOUND);
}

/// Add policy and edit policy from a package's overview.
async fn policies_are_added_and_edited_from_the_overview(s: TestServer) {
    let w = world(&s).await;
    let web = Web::signed_in(&s, admin_id(&s).await).await;
    let new = format!("/admin/accessPackages/{}/policies/new", w.package);
    let form = web.get(&new).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.html);
    assert_eq!(texts(&form, "nav.tabs [aria-current=step]"), ["1. Requests"]);
    let csrf = form.csrf();
    let fields = |name: &'static str, days: &'static str, go: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("name", "Project Tango".into()),
            ("catalog", w.catalog.clone()),
            ("policy_name", name.into()),
            ("who", "allMemberUsers".into()),
            ("enabled", "yes".into()),
            ("stage.days.0", "14".into()),
            ("expiry", "days".into()),
            ("expiry_days", days.into()),
            ("go", go.into()),
        ]
    };
    let post = |path: String, f: Vec<(&'static str, String)>| {
        let web = &web;
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            web.post(&path, &pairs).await
        }
    };
    let refused = post(new.clone(), fields("", "30", "create")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(texts(&refused, "#policy_name-error"), ["Name the policy, for example Initial policy."]);
    let made = post(new.clone(), fields("Contoso staff", "30", "create")).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.html);
    let list = s.get(&format!("{EM}/accessPackages/{}/assignmentPolicies", w.package)).await.expect(200);
    let policy =
        list["value"].as_array().unwrap().iter().find(|p| p["displayName"] == "Contoso staff").unwrap().clone();
    assert_eq!(policy["expiration"]["duration"], "P30D");
    let id = policy["id"].as_str().unwrap();
    let edit = format!("/admin/accessPackages/{}/policies/{id}/edit", w.package);
    let filled = web.get(&edit).await;
    assert_eq!(filled.status, StatusCode::OK, "{}", filled.html);
    assert!(
        filled.html.contains(r#"value="Contoso staff""#) && filled.html.contains(r#"name="expiry_days" value="30""#)
    );
    let saved = post(edit, fields("Contoso staff", "60", "create")).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let after = s.get(&format!("{EM}/assignmentPolicies/{id}")).await.expect(200);
    assert_eq!(after["expiration"]["duration"], "P60D");
    let overview = web.get(&format!("/admin/accessPackages/{}", w.package)).await;
    assert!(texts(&overview, "#policy-list tbody th").contains(&"Contoso staff".to_owned()));
}

both_backends!(
    policies_are_added_and_edited_from_the_overview,
    an_organization_is_edited_and_deleted_from_its_pages,
    reports_say_who_holds_what_and_why,
    the_audit_log_filters_verifies_and_exports,
    settings_are_saved_from_their_page,
    the_package_wizard_builds_seed_000s_package_in_one_go,
    a_catalog_is_created_filled_and_delegated_from_its_pages,
    organizations_are_listed_and_searched_by_name_or_domain,
    catalogs_are_listed_to_whoever_may_read_them,
    the_organization_wizard_refuses_in_place_and_creates_in_one_go
);
