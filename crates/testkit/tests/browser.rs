//! My Access in headless Chromium (`peers/browser/my_access.mjs`, playwright-core), against
//! the real server on both backends with its workers running and mail going to a real SMTP
//! server, where the scenarios read their passcodes and approval links. Each page is checked
//! with axe-core and saved as a screenshot under `target/screenshots/my-access/<backend>/`.

use std::path::PathBuf;
use std::sync::Arc;

use gatehouse_testkit::fixtures::extranet::{extranet, Extranet};
use gatehouse_testkit::peers::{run_browser, SmtpSink};
use gatehouse_testkit::{each_backend, Backend, TestServer, EM};
use gatehouse_workers::{Mailer, SmtpMailer};
use serde_json::Value;

struct Stage {
    s: TestServer,
    x: Extranet,
    sink: SmtpSink,
    screenshots: PathBuf,
}

async fn stage(backend: Backend) -> Stage {
    let mut s = gatehouse_testkit::spawn(backend).await;
    let sink = SmtpSink::start();
    let mailer: Arc<dyn Mailer> = Arc::new(SmtpMailer::new(&sink.settings()).expect("SMTP settings"));
    s.start_workers(mailer);
    let x = extranet(&s).await;
    let name = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let screenshots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots/my-access").join(name);
    Stage { s, x, sink, screenshots }
}

impl Stage {
    /// Run one scenario in a browser, off the async runtime (the server keeps serving).
    async fn browse(&self, scenario: &'static str) -> Value {
        let config = self.x.config(&self.s, self.sink.dir(), &self.screenshots);
        let result = tokio::task::spawn_blocking(move || run_browser("my_access", scenario, &config))
            .await
            .expect("browser thread");
        assert_eq!(result["ok"], true, "{result}");
        result["result"].clone()
    }

    async fn requests_for(&self, package: &str) -> Vec<Value> {
        let r =
            self.s.get(&format!("{EM}/assignmentRequests?$filter=accessPackage/id eq '{package}'")).await.expect(200);
        r["value"].as_array().unwrap().clone()
    }
}

/// The seeds' story: Pat opens the hidden link, signs in with a mailed passcode, answers,
/// accepts the privacy statement, submits; Ana approves from her mail; Pat sees it delivered
/// and the group has Pat. A month later Pat extends it, then removes it.
async fn partner_story(backend: Backend) {
    let st = stage(backend).await;
    let first = st.browse("partner_story").await;
    let request = first["request"].as_str().unwrap().to_owned();
    let r = st.s.get(&format!("{EM}/assignmentRequests/{request}")).await.expect(200);
    assert_eq!(r["state"], "delivered", "{r}");
    assert_eq!(r["answers"][0]["value"], "ws-hardware", "the page's choice is stored as its value: {r}");
    // The requestor was told, with a link to their access.
    assert_eq!(st.sink.count("pat@fabrikam.example", "Access granted: Project Tango"), 1);
    st.s.clock.advance(chrono::Duration::days(30));
    let later = st.browse("extend_and_remove").await;
    assert_ne!(later["before"], later["after"]);
    let mut kinds: Vec<String> =
        st.requests_for(&st.x.tango).await.iter().map(|r| r["requestType"].as_str().unwrap().to_owned()).collect();
    // The test clock stands still between steps, so creation times tie: compare as a set.
    kinds.sort();
    assert_eq!(kinds, ["userAdd", "userRemove", "userUpdate"]);
    let members = st.s.get(&format!("/v1.0/groups/{}/members", st.x.group)).await.expect(200);
    assert!(members["value"].as_array().unwrap().is_empty(), "{members}");
}

/// Ana denies; the requestor sees her justification and can ask again with their answers.
async fn denial(backend: Backend) {
    let st = stage(backend).await;
    let out = st.browse("denial").await;
    let r = st.s.get(&format!("{EM}/assignmentRequests/{}", out["request"].as_str().unwrap())).await.expect(200);
    assert_eq!(r["state"], "denied", "{r}");
    assert_eq!(st.sink.count("lee@fabrikam.example", "Request denied: Project Tango"), 1);
}

/// A guest of another organization gets the "not available" page; lists never mix organizations.
async fn not_available(backend: Backend) {
    let st = stage(backend).await;
    st.browse("not_available").await;
    assert!(st.requests_for(&st.x.tango).await.is_empty());
    let nia = st.s.get("/v1.0/users?$filter=mail eq 'nia@northwind.example'").await.expect(200);
    assert_eq!(
        nia["value"][0]["connectedOrganizationId"],
        st.x.northwind.as_str(),
        "her sign-in made her Northwind's guest"
    );
}

/// A form without its CSRF token is refused and writes nothing.
async fn csrf(backend: Backend) {
    let st = stage(backend).await;
    st.browse("csrf").await;
    assert!(st.requests_for(&st.x.wiki).await.is_empty());
}

each_backend!(partner_story, denial, not_available, csrf);
