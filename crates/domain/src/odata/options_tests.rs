//! Unit tests for `$select`, `$orderby`, `$expand` and [`QueryOptions::parse`].

use super::*;

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn item(path: &str) -> ExpandItem {
    ExpandItem { path: strings(&path.split('/').collect::<Vec<_>>()), ..ExpandItem::default() }
}

fn qerr(raw: &str) -> String {
    match QueryOptions::parse(raw) {
        Ok(q) => panic!("expected an error for {raw:?}, got {q:?}"),
        Err(e) => e.message,
    }
}

#[test]
fn select_lists() {
    assert_eq!(parse_select("id, displayName ,description").unwrap(), strings(&["id", "displayName", "description"]));
    assert!(parse_select("id,,x").unwrap_err().message.contains("empty items are not allowed"));
    assert!(parse_select("id,").is_err());
    assert!(parse_select(",id").is_err());
    assert!(parse_select("").is_err());
    assert!(parse_select("*").unwrap_err().message.contains("'*'"));
    assert!(parse_select("a-b").is_err());
    assert!(parse_select("a b").is_err());
    assert!(parse_select("a/b").unwrap_err().message.contains("paths are not supported"));
    assert!(parse_select("microsoft.graph.user").is_err());
    assert!(parse_select("'id'").unwrap_err().message.contains("is not a valid property name"));
}

#[test]
fn orderby_lists() {
    assert_eq!(
        parse_orderby("displayName desc, createdDateTime ASC,accessPackage/displayName").unwrap(),
        vec![
            OrderBy { path: strings(&["displayName"]), descending: true },
            OrderBy { path: strings(&["createdDateTime"]), descending: false },
            OrderBy { path: strings(&["accessPackage", "displayName"]), descending: false },
        ]
    );
    assert!(parse_orderby("a,,b").is_err());
    assert!(parse_orderby("a,").is_err());
    assert!(parse_orderby("a up")
        .unwrap_err()
        .message
        .contains("expected 'asc', 'desc', ',' or end of input but found 'up'"));
    assert!(parse_orderby("a desc desc").is_err());
    assert!(parse_orderby("tolower(a)").is_err());
}

#[test]
fn expand_lists() {
    assert_eq!(
        parse_expand("a,b/c,d($expand=e,f;$select=x,y)").unwrap(),
        vec![
            item("a"),
            item("b/c"),
            ExpandItem { path: strings(&["d"]), select: strings(&["x", "y"]), expand: vec![item("e"), item("f")] },
        ]
    );
    assert_eq!(
        parse_expand("a($expand=b($select=id);select=displayName)").unwrap(),
        vec![ExpandItem {
            path: strings(&["a"]),
            select: strings(&["displayName"]),
            expand: vec![ExpandItem { path: strings(&["b"]), select: strings(&["id"]), expand: vec![] }],
        }]
    );
}

#[test]
fn expand_errors() {
    let msg = |s: &str| parse_expand(s).unwrap_err().message;
    assert!(msg("*").contains("'*' is not supported in $expand"));
    assert!(msg("a,*").contains("'*' is not supported in $expand"));
    assert!(msg("a()").contains("nested query option"));
    assert!(msg("a($filter=x eq 1)").contains("'$filter' is not supported inside $expand"));
    assert!(msg("a($levels=2)").contains("unknown nested query option '$levels'"));
    assert!(msg("a($select=x;$select=y)").contains("more than once"));
    assert!(msg("a($select=x").contains("expected ';' or ')'"));
    assert!(msg("a($select x)").contains("'='"));
    assert!(msg("a,,b").contains("expected a property path but found ','"));
    assert!(msg("a)").contains("expected ',' or end of input"));
    let deep = format!("{}x{}", "a($expand=".repeat(40), ")".repeat(40));
    assert!(msg(&deep).contains("nested too deeply"));
    let ok = format!("{}x{}", "a($expand=".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert!(parse_expand(&ok).is_ok());
}

#[test]
fn parses_a_typical_graph_query() {
    let q = QueryOptions::parse(
        "%24filter=displayName%20eq%20%27x%27&%24top=5&%24count=true\
         &$expand=resourceRoleScopes($expand=role,scope)",
    )
    .unwrap();
    assert_eq!(
        q,
        QueryOptions {
            filter: Some(Expr::Compare {
                op: CompareOp::Eq,
                lhs: Box::new(Expr::Path(strings(&["displayName"]))),
                rhs: Box::new(Expr::Literal(Literal::String("x".into()))),
            }),
            expand: vec![ExpandItem {
                path: strings(&["resourceRoleScopes"]),
                select: vec![],
                expand: vec![item("role"), item("scope")],
            }],
            top: Some(5),
            count: true,
            ..QueryOptions::default()
        }
    );
}

#[test]
fn names_values_and_plus() {
    let q = QueryOptions::parse(
        "FILTER=name+eq+%27a+b%27&$Select=id,displayName&orderby=name%20desc&$skip=10\
         &%24skiptoken=abc%3D%3D&$search=%22hello+world%22&api-version=1.0&&$COUNT=False",
    )
    .unwrap();
    assert_eq!(
        q.filter,
        Some(Expr::Compare {
            op: CompareOp::Eq,
            lhs: Box::new(Expr::Path(strings(&["name"]))),
            rhs: Box::new(Expr::Literal(Literal::String("a b".into()))),
        })
    );
    assert_eq!(q.select, strings(&["id", "displayName"]));
    assert_eq!(q.orderby, vec![OrderBy { path: strings(&["name"]), descending: true }]);
    assert_eq!(q.skip, Some(10));
    assert_eq!(q.skiptoken.as_deref(), Some("abc=="));
    assert_eq!(q.search.as_deref(), Some("hello world"));
    assert!(!q.count);
    assert_eq!(q.top, None);
    assert_eq!(QueryOptions::parse("").unwrap(), QueryOptions::default());
    assert_eq!(QueryOptions::parse("$search=plain").unwrap().search.as_deref(), Some("plain"));
    assert_eq!(
        QueryOptions::parse("$filter=a+eq+%272%2B2%27").unwrap().filter,
        Some(Expr::Compare {
            op: CompareOp::Eq,
            lhs: Box::new(Expr::Path(strings(&["a"]))),
            rhs: Box::new(Expr::Literal(Literal::String("2+2".into()))),
        })
    );
}

#[test]
fn top_skip_count_search_validation() {
    assert_eq!(QueryOptions::parse("$top=0").unwrap().top, Some(0));
    assert_eq!(QueryOptions::parse("$top=999").unwrap().top, Some(999));
    assert_eq!(qerr("$top=1000"), "$top must be an integer between 0 and 999");
    assert!(qerr("$top=-1").contains("$top"));
    assert!(qerr("$top=").contains("$top"));
    assert!(qerr("$top=%2B5").contains("$top"));
    assert!(qerr("$top=abc").contains("$top"));
    assert!(qerr("$skip=-1").contains("$skip must be a non-negative integer"));
    assert!(qerr("$skip=4294967296").contains("$skip"));
    assert_eq!(QueryOptions::parse("$skip=4294967295").unwrap().skip, Some(u32::MAX));
    assert!(qerr("$count=yes").contains("$count must be 'true' or 'false'"));
    assert!(qerr("$count").contains("$count"));
    assert!(qerr("$search=").contains("$search must not be empty"));
    assert!(qerr("$search=%22%22").contains("$search must not be empty"));
    assert!(qerr("$skiptoken=").contains("must not be empty"));
}

#[test]
fn option_level_errors() {
    assert_eq!(qerr("$filter=a+eq+1&%24filter=b+eq+2"), "query option '$filter' was given more than once");
    assert!(qerr("$top=1&top=2").contains("more than once"));
    assert_eq!(qerr("$foo=1"), "unknown query option '$foo'");
    assert_eq!(qerr("%24Bar=1"), "unknown query option '$Bar'");
    for opt in ["filter", "select", "expand", "orderby"] {
        assert_eq!(qerr(&format!("${opt}=")), format!("query option '${opt}' must not be empty"));
    }
    assert!(qerr("$filter=a%20eq").starts_with("$filter: "));
    assert!(qerr("$filter=%FF").contains("not valid UTF-8"));
    assert!(qerr("%24%FF=1").starts_with("unknown query option '$"));
    // plain (non-$) unknown parameters are ignored, whatever their value
    assert!(QueryOptions::parse("api-version=2&foo=%FF&%FF=1&x").is_ok());
}
