//! Unit tests for the `$filter` parser.

use chrono::{TimeZone, Utc};
use uuid::Uuid;

use super::*;

fn path(p: &str) -> Expr {
    Expr::Path(p.split('/').map(str::to_string).collect())
}

fn s(v: &str) -> Expr {
    Expr::Literal(Literal::String(v.to_string()))
}

fn cmp(op: CompareOp, lhs: Expr, rhs: Expr) -> Expr {
    Expr::Compare { op, lhs: Box::new(lhs), rhs: Box::new(rhs) }
}

fn eq(lhs: Expr, rhs: Expr) -> Expr {
    cmp(CompareOp::Eq, lhs, rhs)
}

fn and(a: Expr, b: Expr) -> Expr {
    Expr::And(Box::new(a), Box::new(b))
}

fn or(a: Expr, b: Expr) -> Expr {
    Expr::Or(Box::new(a), Box::new(b))
}

fn not(a: Expr) -> Expr {
    Expr::Not(Box::new(a))
}

fn call(func: Function, args: Vec<Expr>) -> Expr {
    Expr::Call { func, args }
}

fn guid(g: &str) -> Expr {
    Expr::Literal(Literal::Guid(Uuid::parse_str(g).unwrap()))
}

fn err(input: &str) -> String {
    match parse_filter(input) {
        Ok(e) => panic!("expected an error for {input:?}, got {e:?}"),
        Err(e) => e.message,
    }
}

#[test]
fn simple_equality() {
    assert_eq!(parse_filter("displayName eq 'Fabrikam'").unwrap(), eq(path("displayName"), s("Fabrikam")));
    assert_eq!(parse_filter("state eq 'Delivered'").unwrap(), eq(path("state"), s("Delivered")));
}

#[test]
fn all_comparison_operators_case_insensitive() {
    let cases = [
        ("eq", CompareOp::Eq),
        ("NE", CompareOp::Ne),
        ("Gt", CompareOp::Gt),
        ("ge", CompareOp::Ge),
        ("lT", CompareOp::Lt),
        ("le", CompareOp::Le),
    ];
    for (kw, op) in cases {
        assert_eq!(parse_filter(&format!("n {kw} 5")).unwrap(), cmp(op, path("n"), Expr::Literal(Literal::Int(5))));
    }
}

#[test]
fn contains_tolower() {
    assert_eq!(
        parse_filter("contains(tolower(displayName),'team')").unwrap(),
        call(Function::Contains, vec![call(Function::ToLower, vec![path("displayName")]), s("team")])
    );
    assert_eq!(
        parse_filter("ENDSWITH(mail, '@x.com') and StartsWith(toupper(a),'B')").unwrap(),
        and(
            call(Function::EndsWith, vec![path("mail"), s("@x.com")]),
            call(Function::StartsWith, vec![call(Function::ToUpper, vec![path("a")]), s("B")])
        )
    );
}

#[test]
fn guid_comparisons_with_and() {
    let input = "accessPackage/id eq 'a3f9d6b2-1c4e-4b7a-8e05-6d2f9c1b7e03' and \
                 target/objectId eq '0b3e6a9d-1c4f-4e7a-b2d5-7f0a3c6e9b08'";
    assert_eq!(
        parse_filter(input).unwrap(),
        and(
            eq(path("accessPackage/id"), s("a3f9d6b2-1c4e-4b7a-8e05-6d2f9c1b7e03")),
            eq(path("target/objectId"), s("0b3e6a9d-1c4f-4e7a-b2d5-7f0a3c6e9b08"))
        )
    );
}

#[test]
fn unquoted_guids() {
    assert_eq!(
        parse_filter("id eq 0b3e6a9d-1c4f-4e7a-b2d5-7f0a3c6e9b08").unwrap(),
        eq(path("id"), guid("0b3e6a9d-1c4f-4e7a-b2d5-7f0a3c6e9b08"))
    );
    assert_eq!(
        parse_filter("id eq A3F9D6B2-1C4E-4B7A-8E05-6D2F9C1B7E03").unwrap(),
        eq(path("id"), guid("a3f9d6b2-1c4e-4b7a-8e05-6d2f9c1b7e03"))
    );
}

#[test]
fn parenthesised_group() {
    assert_eq!(
        parse_filter("(originSystem eq 'AadGroup' and resource/id eq 'x')").unwrap(),
        and(eq(path("originSystem"), s("AadGroup")), eq(path("resource/id"), s("x")))
    );
}

#[test]
fn lambda_any_with_type_cast() {
    let input = "identitySources/any(is:is/microsoft.graph.azureActiveDirectoryTenant/tenantId eq 'g')";
    assert_eq!(
        parse_filter(input).unwrap(),
        Expr::Lambda {
            collection: vec!["identitySources".into()],
            all: false,
            var: Some("is".into()),
            predicate: Some(Box::new(eq(path("is/microsoft.graph.azureActiveDirectoryTenant/tenantId"), s("g")))),
        }
    );
}

#[test]
fn lambda_all_and_empty_any() {
    assert_eq!(
        parse_filter("a/b/ALL(x: x/n gt 1 or x/n lt -1)").unwrap(),
        Expr::Lambda {
            collection: vec!["a".into(), "b".into()],
            all: true,
            var: Some("x".into()),
            predicate: Some(Box::new(or(
                cmp(CompareOp::Gt, path("x/n"), Expr::Literal(Literal::Int(1))),
                cmp(CompareOp::Lt, path("x/n"), Expr::Literal(Literal::Int(-1)))
            ))),
        }
    );
    assert_eq!(
        parse_filter("members/any()").unwrap(),
        Expr::Lambda { collection: vec!["members".into()], all: false, var: None, predicate: None }
    );
    assert!(err("members/all()").contains("all() requires"));
    assert!(err("members/any(x)").contains("expected ':'"));
    assert!(err("members/any(a.b: true)").contains("range variable"));
    assert!(err("any(x: x eq 1)").contains("unknown function 'any'"));
    assert!(err("m/any(x: 'a')").contains("expected a boolean expression"));
}

#[test]
fn date_time_literal_normalised_to_utc() {
    assert_eq!(
        parse_filter("createdDateTime ge 2026-01-01T00:00:00Z").unwrap(),
        cmp(
            CompareOp::Ge,
            path("createdDateTime"),
            Expr::Literal(Literal::DateTime(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()))
        )
    );
    let Expr::Compare { rhs, .. } = parse_filter("t lt 2026-01-01T00:00:00.123+02:00").unwrap() else {
        panic!("not a comparison");
    };
    let expected = Utc.with_ymd_and_hms(2025, 12, 31, 22, 0, 0).unwrap() + chrono::Duration::milliseconds(123);
    assert_eq!(*rhs, Expr::Literal(Literal::DateTime(expected)));
    assert!(err("t lt 2026-01-01").contains("invalid date-time literal"));
}

#[test]
fn not_or_in() {
    assert_eq!(
        parse_filter("not startswith(displayName,'A') or displayName in ('B','C')").unwrap(),
        or(
            not(call(Function::StartsWith, vec![path("displayName"), s("A")])),
            Expr::In {
                lhs: Box::new(path("displayName")),
                list: vec![Literal::String("B".into()), Literal::String("C".into())],
            }
        )
    );
}

#[test]
fn in_list_literals() {
    assert_eq!(
        parse_filter("x IN (1, -2, true, null, 0b3e6a9d-1c4f-4e7a-b2d5-7f0a3c6e9b08)").unwrap(),
        Expr::In {
            lhs: Box::new(path("x")),
            list: vec![
                Literal::Int(1),
                Literal::Int(-2),
                Literal::Bool(true),
                Literal::Null,
                Literal::Guid(Uuid::parse_str("0b3e6a9d-1c4f-4e7a-b2d5-7f0a3c6e9b08").unwrap()),
            ],
        }
    );
    assert!(err("x in ()").contains("at least one value"));
    assert!(err("x in ('a',)").contains("only contain literals"));
    assert!(err("x in (y)").contains("only contain literals"));
    assert!(err("x in 'a'").contains("expected '(' after 'in'"));
    assert!(err("x in ('a' 'b')").contains("expected ',' or ')'"));
}

#[test]
fn escaped_quote() {
    assert_eq!(parse_filter("displayName eq 'O''Brien'").unwrap(), eq(path("displayName"), s("O'Brien")));
    assert_eq!(parse_filter("a eq ''''").unwrap(), eq(path("a"), s("'")));
}

#[test]
fn precedence() {
    // and binds tighter than or
    assert_eq!(
        parse_filter("a eq 1 or b eq 2 and c eq 3").unwrap(),
        or(
            eq(path("a"), Expr::Literal(Literal::Int(1))),
            and(eq(path("b"), Expr::Literal(Literal::Int(2))), eq(path("c"), Expr::Literal(Literal::Int(3))))
        )
    );
    // and/or are left-associative
    assert_eq!(parse_filter("a and b and c").unwrap(), and(and(path("a"), path("b")), path("c")));
    // not binds tighter than and
    assert_eq!(parse_filter("not a and b").unwrap(), and(not(path("a")), path("b")));
    // parentheses override
    assert_eq!(parse_filter("not (a or b)").unwrap(), not(or(path("a"), path("b"))));
    assert_eq!(parse_filter("NOT not x").unwrap(), not(not(path("x"))));
}

#[test]
fn boolean_operands() {
    assert_eq!(parse_filter("isHidden").unwrap(), path("isHidden"));
    assert_eq!(parse_filter("true").unwrap(), Expr::Literal(Literal::Bool(true)));
    assert_eq!(parse_filter("isHidden eq False").unwrap(), eq(path("isHidden"), Expr::Literal(Literal::Bool(false))));
    assert_eq!(parse_filter("manager eq null").unwrap(), eq(path("manager"), Expr::Literal(Literal::Null)));
    assert!(err("'abc'").contains("expected a boolean expression but found a string literal"));
    assert!(err("5").contains("expected a boolean expression but found the integer 5"));
    assert!(err("(5)").contains("boolean"));
    assert!(err("null").contains("boolean"));
    assert!(err("tolower(a)").contains("tolower()"));
    assert!(err("a and 'b'").contains("boolean"));
    assert!(err("'b' or a").contains("boolean"));
    assert!(err("not 5").contains("boolean"));
}

#[test]
fn whitespace_is_flexible() {
    assert_eq!(parse_filter("  ( a\teq\n'x' )  ").unwrap(), eq(path("a"), s("x")));
}

#[test]
fn function_errors() {
    assert_eq!(
        err("contains(displayName)"),
        "$filter: function 'contains' takes 2 arguments but 1 was given at position 0"
    );
    assert!(err("tolower(a, b) eq 'x'").contains("function 'tolower' takes 1 argument but 2"));
    assert!(err("startswith() ").contains("'startswith' takes 2 arguments but 0 were given"));
    assert_eq!(err("length(displayName) eq 3"), "$filter: unknown function 'length' at position 0");
    assert!(err("a/b(c)").contains("only any() and all()"));
    assert!(err("contains(a 'b')").contains("expected ',' or ')' in the arguments of contains()"));
}

#[test]
fn unbalanced_parentheses() {
    assert_eq!(err("(displayName eq 'x'"), "$filter: expected ')' but found end of input at position 19");
    assert_eq!(err("displayName eq 'x')"), "$filter: unbalanced ')' at position 18");
    assert!(err("((a)").contains("expected ')'"));
    assert!(err("()").contains("expected an operand but found ')'"));
}

#[test]
fn unterminated_string() {
    assert_eq!(err("displayName eq 'Fab"), "$filter: unterminated string literal starting at position 15");
    assert!(err("a eq 'x''").contains("unterminated string"));
}

#[test]
fn unknown_operators() {
    assert_eq!(err("displayName has 'x'"), "$filter: unknown operator 'has' at position 12");
    assert_eq!(err("displayName == 'x'"), "$filter: unknown operator '==' (use 'eq') at position 12");
    assert!(err("a != 1").contains("(use 'ne')"));
    assert!(err("a eq 1 && b eq 2").contains("(use 'and')"));
    assert!(err("a eq b eq c").contains("comparisons cannot be chained"));
    assert!(err("a eq b in ('x')").contains("comparisons cannot be chained"));
    assert!(err("a not b").contains("'not' must come before"));
    assert!(err("eq eq 1").contains("expected an operand but found the operator 'eq'"));
    assert!(err("a eq and").contains("the operator 'and'"));
    assert!(err("a eq = 1").contains("unknown operator"));
}

#[test]
fn trailing_garbage() {
    assert_eq!(
        err("displayName eq 'x' 'y'"),
        "$filter: expected end of input but found string literal 'y' at position 19"
    );
    assert!(err("a eq 1 ,").contains("expected end of input but found ','"));
    assert!(err("a eq 1 and").contains("reached end of input"));
    assert!(err("a eq").contains("reached end of input"));
    assert!(err("a/").contains("expected a property name after '/'"));
    assert!(err("a/any(x: x eq 1)/b").contains("expected end of input but found '/'"));
}

#[test]
fn rejected_characters_and_literals() {
    assert!(err("a eq \"x\"").contains("single quotes"));
    assert!(err("@odata.type eq 'x'").contains("'@'"));
    assert!(err("a/@x eq 1").contains("'@'"));
    assert!(err("a eq 1.5").contains("invalid literal '1.5'"));
    assert!(err("a eq 99999999999999999999").contains("out of range"));
    assert!(err("a eq -").contains("unexpected character '-'"));
    assert!(err("a eq $it").contains("expected an operand but found '$'"));
    assert!(err("").contains("expression is empty"));
    assert!(err("   ").contains("expression is empty"));
}

#[test]
fn error_positions_count_characters_not_bytes() {
    assert_eq!(err("a eq 'ééé' b"), "$filter: unknown operator 'b' at position 11");
}

#[test]
fn limits() {
    let long = format!("a eq '{}'", "x".repeat(5000));
    assert!(err(&long).contains("too long"));

    let ok_depth = format!("{}a{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert_eq!(parse_filter(&ok_depth).unwrap(), path("a"));
    let too_deep = format!("{}a{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
    assert!(err(&too_deep).contains("nested too deeply"));

    assert!(err(&"(".repeat(10_000)).contains("too long"));
    assert!(err(&"(".repeat(4000)).contains("nested too deeply"));
    assert!(err(&"not ".repeat(1000)).contains("nested too deeply"));
    assert!(err(&"tolower(".repeat(500)).contains("nested too deeply"));
    assert!(err(&"a/any(x:".repeat(500)).contains("nested too deeply"));
    // long flat chains are fine (no nesting)
    let chain = vec!["a eq 1"; 300].join(" and ");
    assert!(parse_filter(&chain).is_ok());
}
