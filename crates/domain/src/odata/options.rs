//! `$select`, `$orderby` and `$expand` parsers and the whole-query-string parser
//! [`QueryOptions::parse`].

use percent_encoding::percent_decode_str;

use super::ast::{ExpandItem, Expr, OrderBy};
use super::filter::parse_filter;
use super::lexer::{describe, Cursor, Tok};
use super::{ODataError, MAX_DEPTH, MAX_TOP};

/// All query options of one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryOptions {
    pub filter: Option<Expr>,
    pub select: Vec<String>,
    pub expand: Vec<ExpandItem>,
    pub orderby: Vec<OrderBy>,
    pub top: Option<u32>,
    pub skip: Option<u32>,
    pub skiptoken: Option<String>,
    pub count: bool,
    pub search: Option<String>,
}

/// The system query options we understand, by lower-case name without `$`.
const KNOWN: &[&str] = &["filter", "select", "expand", "orderby", "top", "skip", "skiptoken", "count", "search"];

impl QueryOptions {
    /// Parse a raw URL query string (the part after '?', still percent-encoded, may be empty).
    ///
    /// Names and values are form-decoded (`+` is a space, then percent-decoding). Known
    /// options match case-insensitively, with or without the `$` prefix; other `$` options
    /// are rejected and other plain parameters (e.g. `api-version`) are ignored.
    pub fn parse(raw_query: &str) -> Result<QueryOptions, ODataError> {
        let mut opts = QueryOptions::default();
        let mut seen = [false; KNOWN.len()];
        for pair in raw_query.split('&') {
            if pair.is_empty() {
                continue;
            }
            let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
            // Lossy: a name that is not UTF-8 cannot be a known option; it is then handled
            // like any other unknown name.
            let name = form_decode_lossy(raw_name);
            let lower = name.to_ascii_lowercase();
            let (dollar, bare) = match lower.strip_prefix('$') {
                Some(rest) => (true, rest),
                None => (false, lower.as_str()),
            };
            let Some(index) = KNOWN.iter().position(|k| *k == bare) else {
                if dollar {
                    return Err(ODataError::new(format!("unknown query option '{name}'")));
                }
                continue;
            };
            let canonical = format!("${bare}");
            if std::mem::replace(&mut seen[index], true) {
                return Err(ODataError::new(format!("query option '{canonical}' was given more than once")));
            }
            let value = form_decode(raw_value).map_err(|()| {
                ODataError::new(format!("the value of '{canonical}' is not valid UTF-8 after percent-decoding"))
            })?;
            // Control characters have no meaning in a query and some databases refuse NUL.
            if value.chars().any(|c| c.is_control() && c != '\t') {
                return Err(ODataError::new(format!("the value of '{canonical}' contains control characters")));
            }
            opts.set(bare, &canonical, value)?;
        }
        Ok(opts)
    }

    fn set(&mut self, bare: &str, canonical: &str, value: String) -> Result<(), ODataError> {
        let non_empty = |v: &str| {
            if v.is_empty() {
                Err(ODataError::new(format!("query option '{canonical}' must not be empty")))
            } else {
                Ok(())
            }
        };
        match bare {
            "filter" => {
                non_empty(&value)?;
                self.filter = Some(parse_filter(&value)?);
            }
            "select" => {
                non_empty(&value)?;
                self.select = parse_select(&value)?;
            }
            "expand" => {
                non_empty(&value)?;
                self.expand = parse_expand(&value)?;
            }
            "orderby" => {
                non_empty(&value)?;
                self.orderby = parse_orderby(&value)?;
            }
            "top" => match parse_u32(&value) {
                Some(n) if n <= MAX_TOP => self.top = Some(n),
                _ => return Err(ODataError::new(format!("$top must be an integer between 0 and {MAX_TOP}"))),
            },
            "skip" => match parse_u32(&value) {
                Some(n) => self.skip = Some(n),
                None => {
                    return Err(ODataError::new(format!(
                        "$skip must be a non-negative integer no greater than {}",
                        u32::MAX
                    )))
                }
            },
            "skiptoken" => {
                non_empty(&value)?;
                self.skiptoken = Some(value);
            }
            "count" => {
                self.count = if value.eq_ignore_ascii_case("true") {
                    true
                } else if value.eq_ignore_ascii_case("false") {
                    false
                } else {
                    return Err(ODataError::new("$count must be 'true' or 'false'"));
                }
            }
            "search" => {
                let inner = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(&value);
                if inner.is_empty() {
                    return Err(ODataError::new("$search must not be empty"));
                }
                self.search = Some(inner.to_string());
            }
            _ => {}
        }
        Ok(())
    }
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, then percent-decoding.
fn form_decode(raw: &str) -> Result<String, ()> {
    let spaced = raw.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8().map(|s| s.into_owned()).map_err(|_| ())
}

fn form_decode_lossy(raw: &str) -> String {
    let spaced = raw.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// Plain ASCII digits only (no sign, no spaces), fitting a `u32`.
fn parse_u32(value: &str) -> Option<u32> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// Parse a `$select` value: a comma-separated list of property names.
pub fn parse_select(input: &str) -> Result<Vec<String>, ODataError> {
    let mut cur = Cursor::new(input, "$select")?;
    let list = select_list(&mut cur)?;
    if !cur.at_eof() {
        return Err(cur.err_expected("',' or end of input"));
    }
    Ok(list)
}

/// `name (',' name)*`, stopping before anything that is not a comma.
fn select_list(cur: &mut Cursor<'_>) -> Result<Vec<String>, ODataError> {
    let mut names = Vec::new();
    loop {
        match cur.peek() {
            Tok::Ident(name) if !name.contains('.') => {
                names.push(name.clone());
                cur.bump();
            }
            Tok::Star => {
                return Err(cur.err("'*' is not supported in $select (list the properties explicitly)"));
            }
            Tok::Comma | Tok::Eof | Tok::Semicolon | Tok::RParen => {
                return Err(cur.err_expected("a property name (empty items are not allowed)"))
            }
            other => return Err(cur.err(&format!("{} is not a valid property name", describe(other)))),
        }
        if cur.peek() == &Tok::Slash {
            return Err(cur.err("property paths are not supported in $select"));
        }
        if cur.peek() != &Tok::Comma {
            return Ok(names);
        }
        cur.bump();
    }
}

/// `segment ('/' segment)*` where segments are identifiers (possibly qualified type names).
fn path(cur: &mut Cursor<'_>) -> Result<Vec<String>, ODataError> {
    if cur.peek() == &Tok::Star {
        return Err(cur.err("'*' is not supported (name each property explicitly)"));
    }
    let mut segments = vec![cur.expect_ident("a property path")?];
    while cur.peek() == &Tok::Slash {
        cur.bump();
        segments.push(cur.expect_ident("a property name after '/'")?);
    }
    Ok(segments)
}

/// Parse an `$orderby` value: `path [asc|desc] (',' path [asc|desc])*`.
pub fn parse_orderby(input: &str) -> Result<Vec<OrderBy>, ODataError> {
    let mut cur = Cursor::new(input, "$orderby")?;
    let mut items = Vec::new();
    loop {
        let path = path(&mut cur)?;
        let descending = if cur.at_keyword("desc") {
            cur.bump();
            true
        } else {
            if cur.at_keyword("asc") {
                cur.bump();
            }
            false
        };
        items.push(OrderBy { path, descending });
        match cur.peek() {
            Tok::Comma => {
                cur.bump();
            }
            Tok::Eof => return Ok(items),
            _ => return Err(cur.err_expected("'asc', 'desc', ',' or end of input")),
        }
    }
}

/// Parse an `$expand` value: `a,b/c,d($expand=e,f;$select=x,y)`.
pub fn parse_expand(input: &str) -> Result<Vec<ExpandItem>, ODataError> {
    let mut cur = Cursor::new(input, "$expand")?;
    let items = expand_list(&mut cur, 0)?;
    if !cur.at_eof() {
        return Err(cur.err_expected("',' or end of input"));
    }
    Ok(items)
}

fn expand_list(cur: &mut Cursor<'_>, depth: usize) -> Result<Vec<ExpandItem>, ODataError> {
    let mut items = vec![expand_item(cur, depth)?];
    while cur.peek() == &Tok::Comma {
        cur.bump();
        items.push(expand_item(cur, depth)?);
    }
    Ok(items)
}

fn expand_item(cur: &mut Cursor<'_>, depth: usize) -> Result<ExpandItem, ODataError> {
    if cur.peek() == &Tok::Star {
        return Err(cur.err("'*' is not supported in $expand (name each navigation property)"));
    }
    let mut item = ExpandItem { path: path(cur)?, ..ExpandItem::default() };
    if cur.peek() != &Tok::LParen {
        return Ok(item);
    }
    let open = cur.pos();
    cur.bump();
    if depth + 1 > MAX_DEPTH {
        return Err(cur.err_at(open, &format!("$expand is nested too deeply (the maximum depth is {MAX_DEPTH})")));
    }
    let (mut seen_expand, mut seen_select) = (false, false);
    loop {
        let option_pos = cur.pos();
        if cur.peek() == &Tok::Dollar {
            cur.bump();
        }
        let name = cur.expect_ident("a nested query option such as $select or $expand")?;
        if !matches!(cur.peek(), Tok::Symbol(s) if s == "=") {
            return Err(cur.err_expected(&format!("'=' after '${name}'")));
        }
        cur.bump();
        let lower = name.to_ascii_lowercase();
        let seen = match lower.as_str() {
            "expand" => &mut seen_expand,
            "select" => &mut seen_select,
            other if KNOWN.contains(&other) => {
                return Err(cur.err_at(option_pos, &format!("nested option '${name}' is not supported inside $expand")))
            }
            _ => return Err(cur.err_at(option_pos, &format!("unknown nested query option '${name}'"))),
        };
        if std::mem::replace(seen, true) {
            return Err(cur.err_at(option_pos, &format!("nested option '${lower}' was given more than once")));
        }
        if lower == "expand" {
            item.expand = expand_list(cur, depth + 1)?;
        } else {
            item.select = select_list(cur)?;
        }
        match cur.peek() {
            Tok::Semicolon => {
                cur.bump();
            }
            Tok::RParen => {
                cur.bump();
                return Ok(item);
            }
            _ => return Err(cur.err_expected("';' or ')'")),
        }
    }
}
