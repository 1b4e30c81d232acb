//! The access packages a person might request, read without scanning every policy: SQL keeps
//! the policies whose scope or named targets can concern them (a superset of those that admit
//! them), and the domain's policy evaluation decides among those.

use std::collections::HashMap;

use gatehouse_domain::access_package::AccessPackage;
use gatehouse_domain::catalog::Catalog;
use gatehouse_domain::evaluation::PolicyReach;
use gatehouse_domain::policy::AssignmentPolicy;
use uuid::Uuid;

use crate::query::{bind, escape_like, Param, Where};
use crate::{access_packages, catalogs, policies, Result, Tx};

/// A listed package, its catalog, and those of its policies that may concern the person.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub package: AccessPackage,
    pub catalog: Catalog,
    pub policies: Vec<AssignmentPolicy>,
}

/// Large IN lists are read in chunks: both backends cap the number of bound parameters.
const CHUNK: usize = 500;

/// Packages that are not hidden, in published catalogs (externally visible ones for people
/// from outside), with a policy in `reach`; `search` matches name or description. Ordered by
/// package name.
pub async fn candidates(conn: &mut Tx, reach: &PolicyReach, search: Option<&str>) -> Result<Vec<Candidate>> {
    let mut w = Where::new().and_raw("p.is_hidden = 0").and_raw("c.state = 'published'");
    if reach.from_outside {
        w = w.and_raw("c.is_externally_visible = 1");
    }
    let scopes: Vec<Param> = reach.scopes.iter().map(|s| Param::Text(s.as_str().to_owned())).collect();
    let named: Vec<Param> = reach.named.iter().map(|id| Param::Text(id.to_string())).collect();
    // One condition over two lists: build it by hand so that either list may be empty.
    // A UNION of two index lookups, not an OR over the join: an OR would read every policy.
    let mut either = Vec::new();
    let mut params = w.params.clone();
    let scope_ph = placeholders(scopes, &mut params);
    if !scope_ph.is_empty() {
        either.push(format!(
            "SELECT id FROM assignment_policies WHERE allowed_target_scope IN ({})",
            scope_ph.join(", ")
        ));
    }
    let named_ph = placeholders(named, &mut params);
    if !named_ph.is_empty() {
        either.push(format!(
            "SELECT policy_id FROM assignment_policy_targets WHERE target_id IN ({})",
            named_ph.join(", ")
        ));
    }
    if either.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = format!(
        "SELECT pol.* FROM assignment_policies pol JOIN access_packages p ON p.id = pol.access_package_id
         JOIN catalogs c ON c.id = p.catalog_id WHERE {} AND pol.id IN ({})",
        w.clause(),
        either.join(" UNION ")
    );
    if let Some(term) = search.map(str::trim).filter(|t| !t.is_empty()) {
        params.push(Param::Text(format!("%{}%", escape_like(&term.to_lowercase()))));
        let ph = format!("${}", params.len());
        sql.push_str(&format!(
            " AND (LOWER(p.display_name) LIKE {ph} ESCAPE '\\' OR LOWER(COALESCE(p.description, '')) LIKE {ph} ESCAPE '\\')"
        ));
    }
    sql.push_str(" ORDER BY pol.created_date_time, pol.id");
    let rows = bind(sqlx::query(&sql), &params).fetch_all(&mut *conn).await?;
    let mut by_package: HashMap<Uuid, Vec<AssignmentPolicy>> = HashMap::new();
    for row in &rows {
        let p = policies::from_row(row)?;
        by_package.entry(p.access_package_id).or_default().push(p);
    }
    let package_ids: Vec<Uuid> = by_package.keys().copied().collect();
    let packages = by_ids(conn, "access_packages", &package_ids, access_packages::from_row).await?;
    let mut catalog_ids: Vec<Uuid> = packages.iter().map(|p| p.catalog_id).collect();
    catalog_ids.sort();
    catalog_ids.dedup();
    let catalogs: HashMap<Uuid, Catalog> = by_ids(conn, "catalogs", &catalog_ids, catalogs::catalog_from_row)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut out: Vec<Candidate> = packages
        .into_iter()
        .filter_map(|package| {
            let catalog = catalogs.get(&package.catalog_id)?.clone();
            let policies = by_package.remove(&package.id)?;
            Some(Candidate { package, catalog, policies })
        })
        .collect();
    out.sort_by(|a, b| {
        a.package
            .display_name
            .to_lowercase()
            .cmp(&b.package.display_name.to_lowercase())
            .then(a.package.id.cmp(&b.package.id))
    });
    Ok(out)
}

fn placeholders(list: Vec<Param>, params: &mut Vec<Param>) -> Vec<String> {
    list.into_iter()
        .map(|p| {
            params.push(p);
            format!("${}", params.len())
        })
        .collect()
}

async fn by_ids<T>(
    conn: &mut Tx,
    table: &str,
    ids: &[Uuid],
    from_row: fn(&sqlx::any::AnyRow) -> Result<T>,
) -> Result<Vec<T>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT * FROM {table} WHERE id IN ({})", placeholders.join(", "));
        let params: Vec<Param> = chunk.iter().map(|id| Param::Text(id.to_string())).collect();
        for row in bind(sqlx::query(&sql), &params).fetch_all(&mut *conn).await? {
            out.push(from_row(&row)?);
        }
    }
    Ok(out)
}
