//! Adding a connected organization by domain: Gatehouse looks the domain up and shows what it
//! found before anything is saved — an OpenID provider that answers (a real `oidc-provider`
//! peer here) becomes an OIDC identity source; no provider means one-time passcodes.

use gatehouse_testkit::peers::{OidcConfig, OidcPeer};
use gatehouse_testkit::{both_backends, encode, json, TestServer, EM};

async fn lookups_propose_what_answers(s: TestServer) {
    let peer = OidcPeer::start(OidcConfig::new()).await;
    let before = s.audit_count().await;
    let url = format!(
        "/gatehouse/connectedOrganizations/lookupDomain?domain=Fabrikam.example&issuer={}",
        encode(peer.issuer())
    );
    let found = s.get(&url).await.expect(200);
    assert_eq!(found["found"], "openIdProvider");
    assert_eq!(found["domain"], "fabrikam.example");
    assert_eq!(found["identitySource"]["@odata.type"], "#gatehouse.oidcIdentitySource");
    assert_eq!(found["identitySource"]["issuerUri"], peer.issuer());

    // No provider at the domain: passcodes, and the answer says why.
    let none = s.get("/gatehouse/connectedOrganizations/lookupDomain?domain=nobody.invalid").await.expect(200);
    assert_eq!(none["found"], "none");
    assert_eq!(none["identitySource"]["@odata.type"], "#microsoft.graph.domainIdentitySource");
    assert!(none["note"].as_str().unwrap().contains("https://nobody.invalid"));

    // An issuer the administrator named must answer; bad input is a 400.
    s.get("/gatehouse/connectedOrganizations/lookupDomain?domain=fabrikam.example&issuer=http%3A%2F%2F127.0.0.1%3A9")
        .await
        .expect_error(400, "no OpenID provider answers");
    s.get("/gatehouse/connectedOrganizations/lookupDomain?domain=not%20a%20domain").await.expect_error(400, "domain");
    s.get("/gatehouse/connectedOrganizations/lookupDomain").await.expect_error(400, "domain");
    assert_eq!(s.audit_count().await, before, "a lookup stores nothing");

    // What was found is what the administrator saves.
    let org = s
        .post(
            &format!("{EM}/connectedOrganizations"),
            json!({"displayName": "Fabrikam", "identitySources": [found["identitySource"].clone()]}),
        )
        .await
        .expect(201);
    assert_eq!(org["identitySources"][0]["issuerUri"], peer.issuer());
}

both_backends!(lookups_propose_what_answers);
