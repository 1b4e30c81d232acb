//! OData `$filter`, `$orderby`, `$search` and paging compiled to SQL with bound parameters.
//!
//! Each entity set declares a [`Schema`]: which Graph property paths map to which columns. A
//! path that is not declared cannot be filtered on (400), so no user text ever reaches SQL
//! except as a bound parameter.

use gatehouse_domain::datetime;
use gatehouse_domain::odata::{CompareOp, Expr, Function, Literal, OrderBy};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::Any;
use uuid::Uuid;

use crate::{Result, StoreError, Tx};

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Text,
    Guid,
    Bool,
    DateTime,
    /// Canonicalises a case-insensitive enum literal; `None` if unknown.
    Enum(fn(&str) -> Option<&'static str>),
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Graph path, e.g. `displayName` or `accessPackage/id` (matched case-insensitively).
    pub path: &'static str,
    /// SQL expression relative to the table alias (`t.` is prefixed).
    pub column: &'static str,
    pub kind: Kind,
    pub sortable: bool,
}

impl Field {
    pub const fn new(path: &'static str, column: &'static str, kind: Kind) -> Field {
        Field { path, column, kind, sortable: true }
    }
}

/// A collection property usable in `any()`/`all()` lambdas, stored in a child table.
#[derive(Debug, Clone, Copy)]
pub struct Collection {
    pub path: &'static str,
    pub table: &'static str,
    /// Child column referencing the parent's `id`.
    pub parent_column: &'static str,
    /// Child column holding `#namespace.type` for type-cast segments.
    pub type_column: Option<&'static str>,
    pub fields: &'static [Field],
}

#[derive(Debug, Clone, Copy)]
pub struct Schema {
    /// Entity set name, for error messages.
    pub name: &'static str,
    pub table: &'static str,
    pub fields: &'static [Field],
    pub collections: &'static [Collection],
    /// SQL predicates for `$search`, each with `{p}` where the lower-cased pattern goes.
    pub search: &'static [&'static str],
}

#[derive(Debug, Clone)]
pub enum Param {
    Text(String),
    Int(i64),
}

/// A WHERE fragment and its parameters; placeholders are numbered as parameters are pushed.
#[derive(Debug, Default, Clone)]
pub struct Where {
    pub sql: Vec<String>,
    pub params: Vec<Param>,
}

impl Where {
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, p: Param) -> String {
        self.params.push(p);
        format!("${}", self.params.len())
    }

    /// Add a condition with one parameter, written as `{}` in `sql`.
    pub fn and_eq(mut self, sql: &str, p: Param) -> Self {
        let ph = self.push(p);
        self.sql.push(sql.replace("{}", &ph));
        self
    }

    /// Add a condition over a list of values: `{}` in `sql` becomes their placeholders, as in
    /// `t.catalog_id IN ({})`. An empty list matches nothing.
    pub fn and_in(mut self, sql: &str, values: impl IntoIterator<Item = Param>) -> Self {
        let placeholders: Vec<String> = values.into_iter().map(|v| self.push(v)).collect();
        if placeholders.is_empty() {
            self.sql.push("1 = 0".to_owned());
        } else {
            self.sql.push(sql.replace("{}", &placeholders.join(", ")));
        }
        self
    }

    pub fn and_raw(mut self, sql: &str) -> Self {
        self.sql.push(sql.to_owned());
        self
    }

    pub(crate) fn clause(&self) -> String {
        if self.sql.is_empty() {
            "1 = 1".to_owned()
        } else {
            self.sql.iter().map(|s| format!("({s})")).collect::<Vec<_>>().join(" AND ")
        }
    }
}

pub fn bind<'q>(mut q: Query<'q, Any, AnyArguments<'q>>, params: &[Param]) -> Query<'q, Any, AnyArguments<'q>> {
    for p in params {
        q = match p {
            Param::Text(s) => q.bind(s.clone()),
            Param::Int(i) => q.bind(*i),
        };
    }
    q
}

/// What a list call asks for, already parsed.
#[derive(Debug, Clone, Copy)]
pub struct ListQuery<'a> {
    pub filter: Option<&'a Expr>,
    pub orderby: &'a [OrderBy],
    pub search: Option<&'a str>,
    pub top: u32,
    pub skip: u64,
    pub count: bool,
}

impl ListQuery<'static> {
    /// Everything up to the largest page, for navigations listed by `$expand`.
    pub const EXPANDED: ListQuery<'static> = ListQuery {
        filter: None,
        orderby: &[],
        search: None,
        top: gatehouse_domain::odata::MAX_TOP,
        skip: 0,
        count: false,
    };
}

pub struct Page {
    pub rows: Vec<AnyRow>,
    /// Offset of the next page when there is one.
    pub next_skip: Option<u64>,
    pub count: Option<i64>,
}

/// Run a list query: `SELECT t.* FROM <table> t WHERE <scope> AND <filter> ORDER BY ... LIMIT`.
pub async fn list(conn: &mut Tx, schema: &Schema, scope: Where, q: ListQuery<'_>) -> Result<Page> {
    list_ordered(conn, schema, scope, q, "t.created_date_time ASC, t.id ASC").await
}

/// [`list`] with an explicit final ordering, for tables without `created_date_time`.
pub async fn list_ordered(
    conn: &mut Tx,
    schema: &Schema,
    scope: Where,
    q: ListQuery<'_>,
    tiebreak: &str,
) -> Result<Page> {
    let mut w = scope;
    if let Some(f) = q.filter {
        let sql = compile(
            f,
            &mut w,
            &Ctx { alias: "t", fields: schema.fields, collections: schema.collections, var: None, schema },
        )?;
        w.sql.push(sql);
    }
    if let Some(term) = q.search {
        if schema.search.is_empty() {
            return Err(StoreError::BadQuery(format!("$search is not supported on {}", schema.name)));
        }
        let ph = w.push(Param::Text(format!("%{}%", escape_like(&term.to_lowercase()))));
        let any = schema.search.iter().map(|s| s.replace("{p}", &ph)).collect::<Vec<_>>().join(" OR ");
        w.sql.push(any);
    }
    let mut order = Vec::new();
    for o in q.orderby {
        let path = o.path.join("/");
        let f = find(schema.fields, &path)
            .filter(|f| f.sortable)
            .ok_or_else(|| StoreError::BadQuery(format!("$orderby: cannot sort {} by '{path}'", schema.name)))?;
        order.push(format!("t.{} {}", f.column, if o.descending { "DESC" } else { "ASC" }));
    }
    order.push(tiebreak.to_owned());
    let clause = w.clause();
    let count = if q.count {
        let sql = format!("SELECT COUNT(*) AS n FROM {} t WHERE {clause}", schema.table);
        let row = bind(sqlx::query(&sql), &w.params).fetch_one(&mut *conn).await?;
        Some(crate::rows::int(&row, "n")?)
    } else {
        None
    };
    if q.top == 0 {
        // Only a count was wanted; a next link here would point at this same empty page forever.
        return Ok(Page { rows: Vec::new(), next_skip: None, count });
    }
    let limit = i64::from(q.top) + 1;
    let sql = format!(
        "SELECT t.* FROM {} t WHERE {clause} ORDER BY {} LIMIT {limit} OFFSET {}",
        schema.table,
        order.join(", "),
        q.skip
    );
    let mut rows = bind(sqlx::query(&sql), &w.params).fetch_all(&mut *conn).await?;
    let next_skip = if rows.len() as i64 > i64::from(q.top) {
        rows.truncate(q.top as usize);
        Some(q.skip + u64::from(q.top))
    } else {
        None
    };
    Ok(Page { rows, next_skip, count })
}

fn find<'a>(fields: &'a [Field], path: &str) -> Option<&'a Field> {
    fields.iter().find(|f| f.path.eq_ignore_ascii_case(path))
}

struct Ctx<'a> {
    alias: &'a str,
    fields: &'a [Field],
    collections: &'a [Collection],
    /// Lambda range variable, stripped from the front of paths inside the lambda.
    var: Option<&'a str>,
    schema: &'a Schema,
}

fn bad<T>(msg: impl Into<String>) -> Result<T> {
    Err(StoreError::BadQuery(msg.into()))
}

/// A path operand, possibly wrapped in tolower/toupper.
struct Operand<'a> {
    field: &'a Field,
    sql: String,
    cast_condition: Option<String>,
    lowered: bool,
}

fn resolve<'a>(ctx: &'a Ctx<'a>, segments: &[String], w: &mut Where) -> Result<Operand<'a>> {
    let mut segs: &[String] = segments;
    if let Some(var) = ctx.var {
        match segs.first() {
            Some(first) if first == var => segs = &segs[1..],
            _ => return bad(format!("$filter: inside the lambda, paths must start with '{var}/'")),
        }
    }
    let mut cast_condition = None;
    if let Some(first) = segs.first().filter(|s| s.contains('.')) {
        let Some(col) = ctx.var.and_then(|_| ctx.collections.first()).and_then(|c| c.type_column) else {
            return bad(format!("$filter: type cast '{first}' is not supported here"));
        };
        let ph = w.push(Param::Text(format!("#{}", first.to_ascii_lowercase())));
        cast_condition = Some(format!("LOWER({}.{col}) = {ph}", ctx.alias));
        segs = &segs[1..];
    }
    let path = segs.join("/");
    let Some(field) = find(ctx.fields, &path) else {
        return bad(format!("$filter: '{path}' is not a filterable property of {}", ctx.schema.name));
    };
    Ok(Operand { field, sql: format!("{}.{}", ctx.alias, field.column), cast_condition, lowered: false })
}

fn operand<'a>(ctx: &'a Ctx<'a>, e: &Expr, w: &mut Where) -> Result<Operand<'a>> {
    match e {
        Expr::Path(p) => resolve(ctx, p, w),
        Expr::Call { func: func @ (Function::ToLower | Function::ToUpper), args } if args.len() == 1 => {
            let mut op = operand(ctx, &args[0], w)?;
            if !matches!(op.field.kind, Kind::Text) {
                return bad(format!("$filter: {} applies to text properties only", fname(*func)));
            }
            let f = if *func == Function::ToLower { "LOWER" } else { "UPPER" };
            op.sql = format!("{f}({})", op.sql);
            op.lowered = true;
            Ok(op)
        }
        _ => bad("$filter: expected a property path on one side of the comparison"),
    }
}

fn fname(f: Function) -> &'static str {
    match f {
        Function::Contains => "contains",
        Function::StartsWith => "startswith",
        Function::EndsWith => "endswith",
        Function::ToLower => "tolower",
        Function::ToUpper => "toupper",
    }
}

/// Convert a literal to the parameter a field compares against.
fn value(field: &Field, lit: &Literal) -> Result<Param> {
    let wrong = || StoreError::BadQuery(format!("$filter: {} cannot be compared with {}", field.path, describe(lit)));
    Ok(match (field.kind, lit) {
        (Kind::Text, Literal::String(s)) => Param::Text(s.clone()),
        (Kind::Guid, Literal::Guid(g)) => Param::Text(g.to_string()),
        (Kind::Guid, Literal::String(s)) => match Uuid::parse_str(s) {
            Ok(g) => Param::Text(g.to_string()),
            Err(_) => return bad(format!("$filter: '{s}' is not a valid id for {}", field.path)),
        },
        (Kind::Bool, Literal::Bool(b)) => Param::Int(i64::from(*b)),
        (Kind::DateTime, Literal::DateTime(t)) => Param::Text(datetime::to_storage(t)),
        (Kind::DateTime, Literal::String(s)) => match datetime::parse(s) {
            Ok(t) => Param::Text(datetime::to_storage(&t)),
            Err(e) => return bad(format!("$filter: {e}")),
        },
        (Kind::Enum(canon), Literal::String(s)) => match canon(s) {
            Some(c) => Param::Text(c.to_owned()),
            None => return bad(format!("$filter: '{s}' is not a valid value for {}", field.path)),
        },
        _ => return Err(wrong()),
    })
}

fn describe(l: &Literal) -> &'static str {
    match l {
        Literal::String(_) => "a string",
        Literal::Int(_) => "a number",
        Literal::Bool(_) => "a boolean",
        Literal::Null => "null",
        Literal::Guid(_) => "a GUID",
        Literal::DateTime(_) => "a date-time",
    }
}

pub(crate) fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

fn with_cast(op: &Operand<'_>, sql: String) -> String {
    match &op.cast_condition {
        Some(c) => format!("({c} AND {sql})"),
        None => sql,
    }
}

fn compile(e: &Expr, w: &mut Where, ctx: &Ctx<'_>) -> Result<String> {
    Ok(match e {
        Expr::And(a, b) => format!("({} AND {})", compile(a, w, ctx)?, compile(b, w, ctx)?),
        Expr::Or(a, b) => format!("({} OR {})", compile(a, w, ctx)?, compile(b, w, ctx)?),
        // COALESCE keeps OData's two-valued logic: a comparison with NULL is false, its negation true.
        Expr::Not(a) => format!("(NOT COALESCE({}, 1 = 0))", compile(a, w, ctx)?),
        Expr::Path(_) => {
            let op = operand(ctx, e, w)?;
            if !matches!(op.field.kind, Kind::Bool) {
                return bad(format!("$filter: '{}' is not a boolean property", op.field.path));
            }
            with_cast(&op, format!("{} = 1", op.sql))
        }
        Expr::Literal(Literal::Bool(true)) => "1 = 1".into(),
        Expr::Literal(Literal::Bool(false)) => "1 = 0".into(),
        Expr::Literal(_) => return bad("$filter: a literal alone is not a condition"),
        Expr::Compare { op, lhs, rhs } => {
            let (path, lit, op) = match (&**lhs, &**rhs) {
                (p, Expr::Literal(l)) => (p, l, *op),
                (Expr::Literal(l), p) => (p, l, flip(*op)),
                _ => return bad("$filter: comparisons need a property on one side and a literal on the other"),
            };
            let operand = operand(ctx, path, w)?;
            let sql = if *lit == Literal::Null {
                match op {
                    CompareOp::Eq => format!("{} IS NULL", operand.sql),
                    CompareOp::Ne => format!("{} IS NOT NULL", operand.sql),
                    _ => return bad("$filter: only eq and ne compare with null"),
                }
            } else {
                if matches!(operand.field.kind, Kind::Bool | Kind::Enum(_))
                    && !matches!(op, CompareOp::Eq | CompareOp::Ne)
                {
                    return bad(format!("$filter: {} can only be compared with eq or ne", operand.field.path));
                }
                let param = value(operand.field, lit)?;
                let ph = w.push(param);
                match op {
                    CompareOp::Eq => format!("{} = {ph}", operand.sql),
                    CompareOp::Ne => format!("({} IS NULL OR {} <> {ph})", operand.sql, operand.sql),
                    CompareOp::Gt => format!("{} > {ph}", operand.sql),
                    CompareOp::Ge => format!("{} >= {ph}", operand.sql),
                    CompareOp::Lt => format!("{} < {ph}", operand.sql),
                    CompareOp::Le => format!("{} <= {ph}", operand.sql),
                }
            };
            with_cast(&operand, sql)
        }
        Expr::In { lhs, list } => {
            let operand = operand(ctx, lhs, w)?;
            let mut phs = Vec::new();
            for lit in list {
                let p = value(operand.field, lit)?;
                phs.push(w.push(p));
            }
            with_cast(&operand, format!("{} IN ({})", operand.sql, phs.join(", ")))
        }
        Expr::Call { func, args } => match func {
            Function::Contains | Function::StartsWith | Function::EndsWith => {
                let [target, Expr::Literal(Literal::String(s))] = args.as_slice() else {
                    return bad(format!("$filter: {}(property, 'text') expects a property and a string", fname(*func)));
                };
                let operand = operand(ctx, target, w)?;
                if !matches!(operand.field.kind, Kind::Text) {
                    return bad(format!("$filter: {} applies to text properties only", fname(*func)));
                }
                let s = escape_like(&s.to_lowercase());
                let pattern = match func {
                    Function::Contains => format!("%{s}%"),
                    Function::StartsWith => format!("{s}%"),
                    _ => format!("%{s}"),
                };
                let ph = w.push(Param::Text(pattern));
                // Case-insensitive on both backends (SQLite's LIKE is, PostgreSQL's is not).
                let col = if operand.lowered { operand.sql.clone() } else { format!("LOWER({})", operand.sql) };
                with_cast(&operand, format!("{col} LIKE {ph} ESCAPE '\\'"))
            }
            _ => return bad(format!("$filter: {} is not a condition", fname(*func))),
        },
        Expr::Lambda { collection, all, var, predicate } => {
            if ctx.var.is_some() {
                return bad("$filter: nested lambdas are not supported");
            }
            let path = collection.join("/");
            let Some(c) = ctx.collections.iter().find(|c| c.path.eq_ignore_ascii_case(&path)) else {
                return bad(format!("$filter: '{path}' is not a filterable collection of {}", ctx.schema.name));
            };
            let alias = "c1";
            let link = format!("{alias}.{} = {}.id", c.parent_column, ctx.alias);
            let inner_ctx = Ctx {
                alias,
                fields: c.fields,
                collections: std::slice::from_ref(c),
                var: var.as_deref(),
                schema: ctx.schema,
            };
            match (predicate, all) {
                (None, false) => format!("EXISTS (SELECT 1 FROM {} {alias} WHERE {link})", c.table),
                (None, true) => "1 = 1".into(),
                (Some(p), false) => {
                    let inner = compile(p, w, &inner_ctx)?;
                    format!("EXISTS (SELECT 1 FROM {} {alias} WHERE {link} AND {inner})", c.table)
                }
                (Some(p), true) => {
                    let inner = compile(p, w, &inner_ctx)?;
                    format!(
                        "NOT EXISTS (SELECT 1 FROM {} {alias} WHERE {link} AND NOT COALESCE({inner}, 1 = 0))",
                        c.table
                    )
                }
            }
        }
    })
}

fn flip(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::Ge => CompareOp::Le,
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::Le => CompareOp::Ge,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_domain::odata::parse_filter;

    const FIELDS: &[Field] = &[
        Field::new("displayName", "display_name", Kind::Text),
        Field::new("isHidden", "is_hidden", Kind::Bool),
        Field::new("catalog/id", "catalog_id", Kind::Guid),
    ];
    const SOURCES: &[Field] = &[Field::new("domainName", "domain_name", Kind::Text)];
    const SCHEMA: Schema = Schema {
        name: "things",
        table: "things",
        fields: FIELDS,
        collections: &[Collection {
            path: "identitySources",
            table: "sources",
            parent_column: "parent_id",
            type_column: Some("odata_type"),
            fields: SOURCES,
        }],
        search: &[],
    };

    fn sql(f: &str) -> Result<(String, usize)> {
        let e = parse_filter(f).map_err(|e| StoreError::BadQuery(e.message))?;
        let mut w = Where::new();
        let ctx =
            Ctx { alias: "t", fields: SCHEMA.fields, collections: SCHEMA.collections, var: None, schema: &SCHEMA };
        let s = compile(&e, &mut w, &ctx)?;
        Ok((s, w.params.len()))
    }

    #[test]
    fn compiles_with_parameters_only() {
        let (s, n) = sql("displayName eq 'x''; DROP TABLE things' and not isHidden").unwrap();
        assert!(!s.contains("DROP"), "{s}");
        assert_eq!(n, 1);
        let (s, _) = sql("contains(tolower(displayName), 'Team')").unwrap();
        assert!(s.contains("LOWER(t.display_name) LIKE $1"), "{s}");
        let (s, n) =
            sql("identitySources/any(is:is/microsoft.graph.domainIdentitySource/domainName eq 'a.com')").unwrap();
        assert!(s.starts_with("EXISTS (SELECT 1 FROM sources c1 WHERE c1.parent_id = t.id"), "{s}");
        assert_eq!(n, 2);
    }

    #[test]
    fn refuses_unknown_properties_and_wrong_types() {
        assert!(sql("colour eq 'red'").unwrap_err().to_string().contains("not a filterable property"));
        assert!(sql("isHidden eq 'yes'").unwrap_err().to_string().contains("cannot be compared"));
        assert!(sql("catalog/id eq 'nope'").unwrap_err().to_string().contains("not a valid id"));
        assert!(sql("displayName").unwrap_err().to_string().contains("not a boolean"));
        assert!(sql("identitySources/any(x: y/domainName eq 'a')")
            .unwrap_err()
            .to_string()
            .contains("must start with 'x/'"));
    }
}
