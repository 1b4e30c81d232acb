//! Assignment policies carry too many settings for command-line flags, so `add` posts a JSON file exactly as
//! written (the same body Graph accepts), while the tables condense the parts people compare at a glance:
//! who may request, whether approval is needed, and when access ends.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::Value;

use super::client::{odata_string, ApiClient};
use super::table::{array, at, details_table, field, print_json, print_list, print_one};
use super::ApiArgs;

const SET: &str = "assignmentPolicies";
const COLUMNS: &[&str] = &["ID", "NAME", "SCOPE", "APPROVAL", "EXPIRATION"];

#[derive(clap::Subcommand, Debug)]
pub enum PolicyCommand {
    /// List assignment policies
    List {
        /// Only policies of this access package
        #[arg(long, value_name = "ID")]
        package: Option<String>,
    },
    /// Show an assignment policy
    Show { id: String },
    /// Add an assignment policy from a JSON file (Graph accessPackageAssignmentPolicy body; `-` reads stdin)
    Add {
        #[arg(long, value_name = "policy.json")]
        file: PathBuf,
    },
    /// Delete an assignment policy
    Delete { id: String },
}

pub async fn run_policy(api: &ApiArgs, cmd: PolicyCommand) -> Result<()> {
    let client = ApiClient::new(api)?;
    match cmd {
        PolicyCommand::List { package } => {
            let mut url = client.em(&[SET]);
            if let Some(package) = package {
                url.query_pairs_mut()
                    .append_pair("$filter", &format!("accessPackage/id eq {}", odata_string(&package)));
            }
            print_list(api.json, client.list_all(url).await?, COLUMNS, policy_row)
        }
        PolicyCommand::Show { id } => {
            let policy = client.get(client.em(&[SET, &id])).await?;
            if api.json {
                return print_json(&policy);
            }
            println!("{}", details_table(&policy_details(&policy)));
            Ok(())
        }
        PolicyCommand::Add { file } => {
            let body = read_policy(&file)?;
            let created = client.post_raw(client.em(&[SET]), body).await?;
            print_one(api.json, &created, COLUMNS, policy_row)
        }
        PolicyCommand::Delete { id } => {
            client.delete(client.em(&[SET, &id])).await?;
            println!("deleted assignment policy {id}");
            Ok(())
        }
    }
}

/// The file's bytes, checked to be JSON here so a typo is reported against the file rather than as a server error.
fn read_policy(path: &Path) -> Result<Vec<u8>> {
    let bytes = if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).context("cannot read the policy from stdin")?;
        bytes
    } else {
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?
    };
    serde_json::from_slice::<Value>(&bytes).with_context(|| format!("{} is not valid JSON", path.display()))?;
    Ok(bytes)
}

fn policy_row(policy: &Value) -> Vec<String> {
    vec![
        field(policy, "id"),
        field(policy, "displayName"),
        field(policy, "allowedTargetScope"),
        approval(policy),
        expiration(policy),
    ]
}

fn policy_details(policy: &Value) -> Vec<(&'static str, String)> {
    let mut details = vec![
        ("ID", field(policy, "id")),
        ("NAME", field(policy, "displayName")),
        ("DESCRIPTION", field(policy, "description")),
        ("ACCESS PACKAGE", at(policy, "/accessPackage/id")),
        ("SCOPE", field(policy, "allowedTargetScope")),
        ("APPROVAL", approval(policy)),
        ("EXPIRATION", expiration(policy)),
        ("CREATED", field(policy, "createdDateTime")),
        ("MODIFIED", field(policy, "modifiedDateTime")),
    ];
    // Only present when the server includes the navigation; an always-empty row would just look broken.
    details.retain(|(name, value)| *name != "ACCESS PACKAGE" || !value.is_empty());
    details
}

/// "required, 2 stages" or "not required".
fn approval(policy: &Value) -> String {
    let required = policy.pointer("/requestApprovalSettings/isApprovalRequiredForAdd").and_then(Value::as_bool);
    if required != Some(true) {
        return "not required".into();
    }
    let stages = policy.get("requestApprovalSettings").map_or(0, |s| array(s, "stages").len());
    format!("required, {stages} stage{}", if stages == 1 { "" } else { "s" })
}

/// The expiration type followed by its duration or end date, e.g. "afterDuration P30D".
fn expiration(policy: &Value) -> String {
    ["/expiration/type", "/expiration/duration", "/expiration/endDateTime"]
        .iter()
        .map(|p| at(policy, p))
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn approval_counts_stages() {
        let two = json!({"requestApprovalSettings": {"isApprovalRequiredForAdd": true, "stages": [{}, {}]}});
        assert_eq!(approval(&two), "required, 2 stages");
        let one = json!({"requestApprovalSettings": {"isApprovalRequiredForAdd": true, "stages": [{}]}});
        assert_eq!(approval(&one), "required, 1 stage");
        let off = json!({"requestApprovalSettings": {"isApprovalRequiredForAdd": false, "stages": [{}]}});
        assert_eq!(approval(&off), "not required");
        assert_eq!(approval(&json!({})), "not required");
    }

    #[test]
    fn expiration_shows_type_and_value() {
        assert_eq!(
            expiration(&json!({"expiration": {"type": "afterDuration", "duration": "P30D"}})),
            "afterDuration P30D"
        );
        assert_eq!(
            expiration(&json!({"expiration": {"type": "afterDateTime", "endDateTime": "2030-01-01T00:00:00Z",
                                               "duration": null}})),
            "afterDateTime 2030-01-01T00:00:00Z"
        );
        assert_eq!(expiration(&json!({"expiration": {"type": "noExpiration"}})), "noExpiration");
        assert_eq!(expiration(&json!({})), "");
    }

    #[test]
    fn policy_rows() {
        let p = json!({"id": "pol1", "displayName": "Partners", "allowedTargetScope": "specificConnectedOrganizationUsers",
                       "expiration": {"type": "afterDuration", "duration": "P90D"}});
        assert_eq!(
            policy_row(&p),
            ["pol1", "Partners", "specificConnectedOrganizationUsers", "not required", "afterDuration P90D"]
        );
        let details = policy_details(&json!({"accessPackage": {"id": "pkg1"}}));
        assert!(details.contains(&("ACCESS PACKAGE", "pkg1".to_owned())));
        assert!(policy_details(&p).iter().all(|(name, _)| *name != "ACCESS PACKAGE"));
    }

    #[test]
    fn policy_files_are_sent_byte_for_byte_but_checked() {
        let dir = std::env::temp_dir().join(format!("gatehouse-admin-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.json");
        std::fs::write(&good, "{ \"z\": 1, \"a\": 2 }\n").unwrap();
        assert_eq!(read_policy(&good).unwrap(), b"{ \"z\": 1, \"a\": 2 }\n");
        let bad = dir.join("bad.json");
        std::fs::write(&bad, "{ nope").unwrap();
        assert!(read_policy(&bad).unwrap_err().to_string().ends_with("bad.json is not valid JSON"));
        assert!(read_policy(&dir.join("missing.json")).unwrap_err().to_string().starts_with("cannot read"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
