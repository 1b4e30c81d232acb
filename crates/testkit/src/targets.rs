//! The target systems of the provisioning tests, real and started per test: a SCIM application
//! (scim2-server from PyPI, with a file-backed store so it can be stopped and started again),
//! a private OpenLDAP `slapd` on a free port, and a webhook receiver that checks signatures with
//! the Standard Webhooks reference library. `scripts/test.sh` installs all three.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::peers::{require_python, script};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn stop(child: &mut Option<Child>) {
    if let Some(mut c) = child.take() {
        let _ = c.kill();
        let _ = c.wait();
    }
}

/// A SCIM 2.0 application on a loopback port.
pub struct ScimPeer {
    pub port: u16,
    pub token: String,
    state: tempfile::TempDir,
    child: Option<Child>,
    http: reqwest::Client,
}

impl ScimPeer {
    pub fn start() -> ScimPeer {
        let mut peer = ScimPeer {
            port: free_port(),
            token: format!("scim-{}", uuid::Uuid::new_v4().simple()),
            state: tempfile::tempdir().expect("temp dir"),
            child: None,
            http: reqwest::Client::new(),
        };
        peer.up();
        peer
    }

    /// Start (again) on the same port with the same data.
    pub fn up(&mut self) {
        assert!(self.child.is_none(), "the SCIM server is running already");
        let mut child = Command::new(require_python())
            .arg(script("scim_server.py"))
            .arg("--state")
            .arg(self.state.path().join("state.json"))
            .args(["--hostname", "127.0.0.1", "--port", &self.port.to_string(), "--bearer-token", &self.token])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start scim2-server (scripts/test.sh installs it into target/test-peers)");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        loop {
            line.clear();
            if out.read_line(&mut line).expect("scim2-server output") == 0 {
                panic!("scim2-server exited before serving: is it installed? run scripts/test.sh");
            }
            if line.contains("Serving SCIM") {
                break;
            }
        }
        // Its stdout stays open and unread: it prints nothing more.
        std::mem::forget(out);
        self.child = Some(child);
    }

    /// Stop it, as an outage would (connections are refused until `up`).
    pub fn down(&mut self) {
        stop(&mut self.child);
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v2", self.port)
    }

    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base_url())).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.header("content-type", "application/scim+json").body(b.to_string());
        }
        let resp = req.send().await.expect("the SCIM server answers");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn create_group(&self, name: &str) -> String {
        let (status, body) = self.call(reqwest::Method::POST, "/Groups", Some(json!({"displayName": name}))).await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().expect("group id").to_owned()
    }

    pub async fn create_user(&self, user_name: &str) -> String {
        let body = json!({"userName": user_name, "emails": [{"value": user_name, "primary": true}], "active": true});
        let (status, body) = self.call(reqwest::Method::POST, "/Users", Some(body)).await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().expect("user id").to_owned()
    }

    /// Member ids of a group, as the application has them (duplicates kept: tests count them).
    pub async fn members(&self, group: &str) -> Vec<String> {
        let (status, body) = self.call(reqwest::Method::GET, &format!("/Groups/{group}"), None).await;
        assert_eq!(status, 200, "{body}");
        body["members"]
            .as_array()
            .map(|m| m.iter().filter_map(|x| x["value"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }

    /// Add a member behind Gatehouse's back.
    pub async fn add_member(&self, group: &str, user: &str) {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": user}]}]});
        let (status, body) = self.call(reqwest::Method::PATCH, &format!("/Groups/{group}"), Some(body)).await;
        assert!(status == 204 || status == 200, "{status} {body}");
    }

    /// Users whose `attribute` equals `value`.
    pub async fn users_where(&self, attribute: &str, value: &str) -> Vec<Value> {
        let filter = crate::encode(&format!("{attribute} eq \"{value}\""));
        let (status, body) = self.call(reqwest::Method::GET, &format!("/Users?filter={filter}"), None).await;
        assert_eq!(status, 200, "{body}");
        body["Resources"].as_array().cloned().unwrap_or_default()
    }

    pub async fn user_count(&self) -> u64 {
        let (_, body) = self.call(reqwest::Method::GET, "/Users?count=1", None).await;
        body["totalResults"].as_u64().unwrap_or(0)
    }
}

impl Drop for ScimPeer {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

pub const LDAP_SUFFIX: &str = "dc=example,dc=org";
pub const LDAP_ADMIN: &str = "cn=admin,dc=example,dc=org";
pub const LDAP_PASSWORD: &str = "secret";
pub const LDAP_PEOPLE: &str = "ou=people,dc=example,dc=org";
pub const LDAP_GROUPS: &str = "ou=groups,dc=example,dc=org";

/// A private OpenLDAP server: mdb, the core, cosine and inetorgperson schemas, the memberof
/// and refint overlays, on a free loopback port.
pub struct Slapd {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

fn slapd_binary() -> PathBuf {
    let path = PathBuf::from(std::env::var("GATEHOUSE_TEST_SLAPD").unwrap_or_else(|_| "/usr/sbin/slapd".into()));
    assert!(
        path.exists(),
        "{} is missing: run scripts/test.sh, which installs Debian's slapd (or set GATEHOUSE_TEST_SLAPD)",
        path.display()
    );
    path
}

impl Slapd {
    pub async fn start() -> Slapd {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("db")).expect("db dir");
        let template = std::fs::read_to_string(script("slapd.conf")).expect("slapd.conf template");
        let conf = template.replace("@DIR@", &dir.path().display().to_string());
        std::fs::write(dir.path().join("slapd.conf"), conf).expect("write slapd.conf");
        let mut slapd = Slapd { port: free_port(), dir, child: None };
        slapd.up().await;
        let mut l = slapd.admin().await;
        for (dn, attrs) in [
            (
                LDAP_SUFFIX,
                vec![
                    ("objectClass", vec!["dcObject", "organization"]),
                    ("dc", vec!["example"]),
                    ("o", vec!["Example"]),
                ],
            ),
            (LDAP_PEOPLE, vec![("objectClass", vec!["organizationalUnit"]), ("ou", vec!["people"])]),
            (LDAP_GROUPS, vec![("objectClass", vec!["organizationalUnit"]), ("ou", vec!["groups"])]),
        ] {
            let attrs = attrs.into_iter().map(|(k, v)| (k, v.into_iter().collect())).collect();
            l.add(dn, attrs).await.expect("add").success().expect("base entry");
        }
        l.unbind().await.ok();
        slapd
    }

    /// Start (again) on the same port and data.
    pub async fn up(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("slapd.log")).expect("log");
        let child = Command::new(slapd_binary())
            .arg("-f")
            .arg(self.dir.path().join("slapd.conf"))
            .args(["-h", &self.url(), "-d", "none"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start slapd");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok((conn, mut ldap)) = ldap3::LdapConnAsync::new(&self.url()).await {
                ldap3::drive!(conn);
                if ldap.simple_bind(LDAP_ADMIN, LDAP_PASSWORD).await.is_ok_and(|r| r.rc == 0) {
                    ldap.unbind().await.ok();
                    return;
                }
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                let log = std::fs::read_to_string(self.dir.path().join("slapd.log")).unwrap_or_default();
                panic!("slapd exited ({status}): {log}");
            }
            assert!(Instant::now() < deadline, "slapd did not answer within 10 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn down(&mut self) {
        stop(&mut self.child);
    }

    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// A session bound as the directory's administrator.
    pub async fn admin(&self) -> ldap3::Ldap {
        let (conn, mut ldap) = ldap3::LdapConnAsync::new(&self.url()).await.expect("connect to slapd");
        ldap3::drive!(conn);
        ldap.simple_bind(LDAP_ADMIN, LDAP_PASSWORD).await.expect("bind").success().expect("admin bind");
        ldap
    }

    /// A person made by the directory's own administrators (not by Gatehouse).
    pub async fn add_person(&self, uid: &str, mail: &str) -> String {
        let dn = format!("uid={uid},{LDAP_PEOPLE}");
        let mut l = self.admin().await;
        let attrs = vec![
            ("objectClass", ["inetOrgPerson"].into_iter().collect()),
            ("uid", [uid].into_iter().collect()),
            ("cn", [uid].into_iter().collect()),
            ("sn", [uid].into_iter().collect()),
            ("mail", [mail].into_iter().collect()),
        ];
        l.add(&dn, attrs).await.expect("add").success().expect("add person");
        l.unbind().await.ok();
        dn
    }

    /// A groupOfNames (which needs a member to exist: `first`).
    pub async fn add_group(&self, cn: &str, first: &str) -> String {
        let dn = format!("cn={cn},{LDAP_GROUPS}");
        let mut l = self.admin().await;
        let attrs = vec![
            ("objectClass", ["groupOfNames"].into_iter().collect()),
            ("cn", [cn].into_iter().collect()),
            ("member", [first].into_iter().collect()),
        ];
        l.add(&dn, attrs).await.expect("add").success().expect("add group");
        l.unbind().await.ok();
        dn
    }

    /// Members of a group, lower-cased.
    pub async fn members(&self, group: &str) -> Vec<String> {
        let mut l = self.admin().await;
        let (found, _) = l
            .search(group, ldap3::Scope::Base, "(objectClass=*)", vec!["member"])
            .await
            .expect("search")
            .success()
            .expect("group");
        l.unbind().await.ok();
        let entry = ldap3::SearchEntry::construct(found.into_iter().next().expect("the group"));
        let mut m: Vec<String> =
            entry.attrs.get("member").cloned().unwrap_or_default().iter().map(|d| d.to_lowercase()).collect();
        m.sort();
        m
    }

    pub async fn add_member(&self, group: &str, member: &str) {
        let mut l = self.admin().await;
        let set = [member.to_owned()].into_iter().collect();
        l.modify(group, vec![ldap3::Mod::Add("member".to_owned(), set)])
            .await
            .expect("modify")
            .success()
            .expect("add member");
        l.unbind().await.ok();
    }

    pub async fn exists(&self, dn: &str) -> bool {
        let mut l = self.admin().await;
        let r = l.search(dn, ldap3::Scope::Base, "(objectClass=*)", vec!["1.1"]).await.expect("search");
        l.unbind().await.ok();
        r.1.rc == 0 && !r.0.is_empty()
    }

    /// The DNs under the people base.
    pub async fn people(&self) -> Vec<String> {
        let mut l = self.admin().await;
        let (found, _) = l
            .search(LDAP_PEOPLE, ldap3::Scope::OneLevel, "(objectClass=person)", vec!["1.1"])
            .await
            .expect("search")
            .success()
            .expect("people");
        l.unbind().await.ok();
        let mut dns: Vec<String> =
            found.into_iter().map(|e| ldap3::SearchEntry::construct(e).dn.to_lowercase()).collect();
        dns.sort();
        dns
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// A webhook target that verifies every signature with the Standard Webhooks library.
pub struct WebhookPeer {
    pub port: u16,
    pub secret: String,
    child: Child,
    http: reqwest::Client,
}

impl WebhookPeer {
    pub fn start(secret: &str) -> WebhookPeer {
        let mut child = Command::new(require_python())
            .arg(script("webhook_receiver.py"))
            .arg(secret)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the webhook receiver");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("receiver port");
        let port = line.trim().parse().unwrap_or_else(|_| panic!("the webhook receiver did not start: '{line}'"));
        WebhookPeer { port, secret: secret.to_owned(), child, http: reqwest::Client::new() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Every message whose signature verified and that was answered with success.
    pub async fn received(&self) -> Vec<Value> {
        self.http.get(self.url("/received")).send().await.expect("receiver").json().await.expect("JSON")
    }

    /// How many calls failed verification.
    pub async fn refused(&self) -> u64 {
        let v: Value = self.http.get(self.url("/refused")).send().await.expect("receiver").json().await.expect("JSON");
        v["refused"].as_u64().unwrap_or(0)
    }

    /// Answer every call from now on with `status` and `body`.
    pub async fn answer(&self, status: u16, body: &str) {
        self.http
            .post(self.url("/control"))
            .json(&json!({"status": status, "body": body}))
            .send()
            .await
            .expect("receiver");
    }
}

impl Drop for WebhookPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A catalog whose resource is a SCIM group of `peer`, a package granting its Member role, and
/// a policy for direct assignments; built over HTTP (against a test server or `gatehouse serve`).
pub struct ScimPackage {
    pub connection: String,
    pub group: String,
    pub package: String,
    pub policy: String,
}

pub async fn scim_package(base: &str, token: &str, peer: &ScimPeer) -> ScimPackage {
    let http = reqwest::Client::new();
    let post = |path: String, body: Value| {
        let req = http.post(format!("{base}{path}")).bearer_auth(token).json(&body);
        async move {
            let resp = req.send().await.expect("gatehouse answers");
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            assert!(status == 201 || status == 200, "{path}: {status} {body}");
            body
        }
    };
    let id = |v: &Value| v["id"].as_str().expect("an id").to_owned();
    let group = peer.create_group("Outage wiki").await;
    let connection = id(&post(
        "/v1.0/gatehouse/connections".into(),
        json!({"displayName": "Wiki", "kind": "scim", "scim": {"baseUrl": peer.base_url(), "bearerToken": peer.token}}),
    )
    .await);
    let catalog = id(&post(format!("{}/catalogs", crate::EM), json!({"displayName": "Wiki catalog"})).await);
    post(
        format!("{}/resourceRequests", crate::EM),
        json!({"requestType": "adminAdd", "catalog": {"id": catalog},
               "resource": {"originSystem": "ScimGroup", "originId": group, "environment": {"id": connection}}}),
    )
    .await;
    let package =
        id(&post(format!("{}/accessPackages", crate::EM), json!({"displayName": "Wiki", "catalog": {"id": catalog}}))
            .await);
    let resources: Value = http
        .get(format!("{base}{}/catalogs/{catalog}/resources?$expand=roles,scopes", crate::EM))
        .bearer_auth(token)
        .send()
        .await
        .expect("resources")
        .json()
        .await
        .expect("JSON");
    let resource = &resources["value"][0];
    let role = &resource["roles"][0];
    let scope = &resource["scopes"][0];
    post(
        format!("{}/accessPackages/{package}/resourceRoleScopes", crate::EM),
        json!({"role": {"id": role["id"], "originSystem": "ScimGroup", "originId": role["originId"], "resource": {"id": resource["id"]}},
               "scope": {"id": scope["id"], "originId": scope["originId"], "originSystem": "ScimGroup"}}),
    )
    .await;
    let policy = id(&post(
        format!("{}/assignmentPolicies", crate::EM),
        json!({"displayName": "Direct", "accessPackage": {"id": package}}),
    )
    .await);
    ScimPackage { connection, group, package, policy }
}
