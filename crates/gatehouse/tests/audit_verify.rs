//! `gatehouse audit verify` against a real database on both backends: an intact chain passes;
//! a changed, deleted or inserted record is found and named.

use gatehouse_testkit::{both_backends, json, TestServer, EM};

/// The CLI reads the database directly; the server need not answer meanwhile.
fn verify(s: &TestServer) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["audit", "verify"])
        .env("GATEHOUSE_DATABASE_URL", &s.database_url)
        .env("GATEHOUSE_LOG_LEVEL", "error")
        .output()
        .expect("run gatehouse");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

async fn the_chain_reveals_tampering(s: TestServer) {
    let catalog = s.post(&format!("{EM}/catalogs"), json!({"displayName": "C"})).await.expect(201);
    let package = s
        .post(&format!("{EM}/accessPackages"), json!({"displayName": "P", "catalog": {"id": catalog["id"]}}))
        .await
        .expect(201);
    let id = package["id"].as_str().unwrap();
    s.patch(&format!("{EM}/accessPackages/{id}"), json!({"isHidden": true})).await.expect(204);
    let records = s.audit_count().await;
    let (ok, text) = verify(&s);
    assert!(ok, "{text}");
    assert!(text.contains(&format!("{records} records")), "{text}");

    // Someone rewrites history: the package was never hidden.
    let mut conn = s.app.store.conn().await.unwrap();
    sqlx::query("UPDATE audit_log SET after_json = REPLACE(after_json, '\"isHidden\":true', '\"isHidden\":false') WHERE activity = 'accessPackage.update'")
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    let (ok, text) = verify(&s);
    assert!(!ok);
    assert!(text.contains("content was changed"), "{text}");

    // Put it back, then remove a record instead.
    let mut conn = s.app.store.conn().await.unwrap();
    sqlx::query("UPDATE audit_log SET after_json = REPLACE(after_json, '\"isHidden\":false', '\"isHidden\":true') WHERE activity = 'accessPackage.update'")
        .execute(&mut *conn)
        .await
        .unwrap();
    assert!(verify(&s).0, "restored");
    sqlx::query("DELETE FROM audit_log WHERE activity = 'catalog.create'").execute(&mut *conn).await.unwrap();
    drop(conn);
    let (ok, text) = verify(&s);
    assert!(!ok);
    assert!(text.contains("is missing"), "{text}");
}

both_backends!(the_chain_reveals_tampering);
