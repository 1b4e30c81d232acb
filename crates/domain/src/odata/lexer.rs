//! Tokeniser shared by the `$filter`, `$orderby`, `$select` and `$expand` parsers, plus a
//! small cursor over the token list with error helpers.
//!
//! Literal recognition order matters: an unquoted GUID may start with digits
//! (`0b3e6a9d-...`) or letters (`a3f9d6b2-...`), and a date-time starts with digits, so the
//! GUID and date-time shapes are tried before integers and identifiers.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{ODataError, MAX_INPUT_LEN};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    LParen,
    RParen,
    Comma,
    Slash,
    Colon,
    Semicolon,
    Dollar,
    Star,
    /// A run of operator-like punctuation (`=`, `==`, `!=`, `<=`, `&&`, ...). Only `=` has a
    /// meaning (inside `$expand` options); the parsers turn the others into "unknown
    /// operator" errors with a hint.
    Symbol(String),
    /// `[A-Za-z_][A-Za-z0-9_]*`, optionally dotted (`microsoft.graph.user`).
    Ident(String),
    /// Single-quoted string, `''` already unescaped.
    Str(String),
    Int(i64),
    Guid(Uuid),
    DateTime(DateTime<Utc>),
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    /// Byte offset of the token's first character.
    pub pos: usize,
}

static EOF: Tok = Tok::Eof;

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_symbol_char(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'<' | b'>' | b'&' | b'|')
}

/// Characters that may continue a malformed literal (used to show the whole bad word).
fn is_word_char(b: u8) -> bool {
    is_ident_char(b) || b == b'-' || b == b'.'
}

/// `src[a..b]` without any possibility of panicking (all offsets used here sit on ASCII
/// bytes, hence on char boundaries, but we never rely on that for safety).
fn slice(src: &str, a: usize, b: usize) -> &str {
    src.get(a..b).unwrap_or("")
}

/// 0-based character index of byte offset `pos`.
fn char_pos(src: &str, pos: usize) -> usize {
    match src.get(..pos) {
        Some(prefix) => prefix.chars().count(),
        None => pos,
    }
}

/// Error "`{ctx}: {msg} at position N`".
pub(crate) fn error_at(ctx: &str, src: &str, pos: usize, msg: &str) -> ODataError {
    ODataError::new(format!("{ctx}: {msg} at position {}", char_pos(src, pos)))
}

/// If a GUID (8-4-4-4-12 hex digits) starts at `i` and ends at a word boundary, its end.
fn guid_end(bytes: &[u8], i: usize) -> Option<usize> {
    let end = i.checked_add(36)?;
    let candidate = bytes.get(i..end)?;
    for (k, &c) in candidate.iter().enumerate() {
        let ok = if matches!(k, 8 | 13 | 18 | 23) { c == b'-' } else { c.is_ascii_hexdigit() };
        if !ok {
            return None;
        }
    }
    match bytes.get(end) {
        Some(&n) if is_word_char(n) => None,
        _ => Some(end),
    }
}

/// Whether `YYYY-MM-DD` starts at `i`.
fn looks_like_date(bytes: &[u8], i: usize) -> bool {
    let Some(head) = bytes.get(i..i.saturating_add(10)) else {
        return false;
    };
    head.len() == 10
        && head.iter().enumerate().all(|(k, &c)| if k == 4 || k == 7 { c == b'-' } else { c.is_ascii_digit() })
}

/// Tokenise `src`. `ctx` names the query option for error messages (`$filter`, ...).
/// The returned list always ends with exactly one `Tok::Eof`.
pub(crate) fn lex(src: &str, ctx: &str) -> Result<Vec<Token>, ODataError> {
    if src.len() > MAX_INPUT_LEN {
        return Err(ODataError::new(format!(
            "{ctx}: value is too long ({} bytes; the maximum is {MAX_INPUT_LEN})",
            src.len()
        )));
    }
    let bytes = src.as_bytes();
    let err = |pos: usize, msg: &str| error_at(ctx, src, pos, msg);
    let mut toks = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let start = i;
        let single = match b {
            b'(' => Some(Tok::LParen),
            b')' => Some(Tok::RParen),
            b',' => Some(Tok::Comma),
            b'/' => Some(Tok::Slash),
            b':' => Some(Tok::Colon),
            b';' => Some(Tok::Semicolon),
            b'$' => Some(Tok::Dollar),
            b'*' => Some(Tok::Star),
            _ => None,
        };
        if let Some(tok) = single {
            toks.push(Token { tok, pos: start });
            i += 1;
            continue;
        }
        let tok = match b {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'\'' => {
                let mut value = String::new();
                i += 1;
                let mut seg = i;
                loop {
                    match bytes.get(i) {
                        None => return Err(err(start, "unterminated string literal starting")),
                        Some(b'\'') if bytes.get(i + 1) == Some(&b'\'') => {
                            value.push_str(slice(src, seg, i));
                            value.push('\'');
                            i += 2;
                            seg = i;
                        }
                        Some(b'\'') => {
                            value.push_str(slice(src, seg, i));
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
                Tok::Str(value)
            }
            _ if is_symbol_char(b) => {
                while bytes.get(i).is_some_and(|&c| is_symbol_char(c)) {
                    i += 1;
                }
                Tok::Symbol(slice(src, start, i).to_string())
            }
            _ if b.is_ascii_alphanumeric() && guid_end(bytes, i).is_some() => {
                let end = guid_end(bytes, i).unwrap_or(i);
                i = end;
                let text = slice(src, start, end);
                match Uuid::parse_str(text) {
                    Ok(g) => Tok::Guid(g),
                    Err(_) => return Err(err(start, &format!("invalid GUID literal '{text}'"))),
                }
            }
            _ if looks_like_date(bytes, i) => {
                while bytes.get(i).is_some_and(|&c| c.is_ascii_alphanumeric() || matches!(c, b':' | b'.' | b'+' | b'-'))
                {
                    i += 1;
                }
                let text = slice(src, start, i);
                match DateTime::parse_from_rfc3339(text) {
                    Ok(dt) => Tok::DateTime(dt.with_timezone(&Utc)),
                    Err(_) => {
                        return Err(err(
                            start,
                            &format!(
                                "invalid date-time literal '{text}' (expected RFC 3339, e.g. \
                                 2026-01-01T00:00:00Z)"
                            ),
                        ))
                    }
                }
            }
            _ if b.is_ascii_digit() || (b == b'-' && bytes.get(i + 1).is_some_and(|c| c.is_ascii_digit())) => {
                i += 1;
                while bytes.get(i).is_some_and(|c| c.is_ascii_digit()) {
                    i += 1;
                }
                if bytes.get(i).is_some_and(|&c| is_word_char(c)) {
                    while bytes.get(i).is_some_and(|&c| is_word_char(c)) {
                        i += 1;
                    }
                    let text = slice(src, start, i);
                    return Err(err(start, &format!("invalid literal '{text}'")));
                }
                let text = slice(src, start, i);
                match text.parse::<i64>() {
                    Ok(n) => Tok::Int(n),
                    Err(_) => return Err(err(start, &format!("integer literal '{text}' is out of range"))),
                }
            }
            _ if is_ident_start(b) => {
                i += 1;
                loop {
                    while bytes.get(i).is_some_and(|&c| is_ident_char(c)) {
                        i += 1;
                    }
                    if bytes.get(i) != Some(&b'.') {
                        break;
                    }
                    if !bytes.get(i + 1).is_some_and(|&c| is_ident_start(c)) {
                        while bytes.get(i).is_some_and(|&c| is_word_char(c)) {
                            i += 1;
                        }
                        let text = slice(src, start, i);
                        return Err(err(start, &format!("invalid qualified name '{text}'")));
                    }
                    i += 1;
                }
                if bytes.get(i) == Some(&b'-') {
                    while bytes.get(i).is_some_and(|&c| is_word_char(c)) {
                        i += 1;
                    }
                    let text = slice(src, start, i);
                    return Err(err(start, &format!("invalid literal '{text}' (malformed GUID?)")));
                }
                Tok::Ident(slice(src, start, i).to_string())
            }
            b'"' => return Err(err(start, "unexpected '\"' (string literals use single quotes, e.g. 'text')")),
            b'@' => return Err(err(start, "unexpected '@' (annotations are not supported)")),
            _ => {
                let c = src.get(start..).and_then(|s| s.chars().next()).unwrap_or('?');
                return Err(err(start, &format!("unexpected character {c:?}")));
            }
        };
        toks.push(Token { tok, pos: start });
    }
    toks.push(Token { tok: Tok::Eof, pos: src.len() });
    Ok(toks)
}

/// Human description of a token for error messages.
pub(crate) fn describe(tok: &Tok) -> String {
    fn shorten(s: &str) -> String {
        if s.chars().count() > 40 {
            let head: String = s.chars().take(40).collect();
            format!("{head}...")
        } else {
            s.to_string()
        }
    }
    match tok {
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::Comma => "','".into(),
        Tok::Slash => "'/'".into(),
        Tok::Colon => "':'".into(),
        Tok::Semicolon => "';'".into(),
        Tok::Dollar => "'$'".into(),
        Tok::Star => "'*'".into(),
        Tok::Symbol(s) => format!("'{s}'"),
        Tok::Ident(s) => format!("'{}'", shorten(s)),
        Tok::Str(s) => format!("string literal '{}'", shorten(&s.replace('\'', "''"))),
        Tok::Int(n) => format!("integer {n}"),
        Tok::Guid(g) => format!("GUID {g}"),
        Tok::DateTime(d) => format!("date-time {}", d.to_rfc3339()),
        Tok::Eof => "end of input".into(),
    }
}

/// A cursor over the tokens of one option value.
pub(crate) struct Cursor<'a> {
    src: &'a str,
    ctx: &'static str,
    toks: Vec<Token>,
    i: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(src: &'a str, ctx: &'static str) -> Result<Self, ODataError> {
        Ok(Cursor { src, ctx, toks: lex(src, ctx)?, i: 0 })
    }

    pub fn peek(&self) -> &Tok {
        self.peek_at(0)
    }

    pub fn peek_at(&self, n: usize) -> &Tok {
        self.toks.get(self.i.saturating_add(n)).map_or(&EOF, |t| &t.tok)
    }

    /// Byte offset of the current token.
    pub fn pos(&self) -> usize {
        self.toks.get(self.i).map_or(self.src.len(), |t| t.pos)
    }

    /// Consume the current token (never moves past the end).
    pub fn bump(&mut self) -> Tok {
        let tok = self.peek().clone();
        if self.i < self.toks.len() {
            self.i += 1;
        }
        tok
    }

    pub fn at_eof(&self) -> bool {
        matches!(self.peek(), Tok::Eof)
    }

    /// Whether the current token is the identifier `kw` (ASCII case-insensitive).
    pub fn at_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    pub fn err_at(&self, pos: usize, msg: &str) -> ODataError {
        error_at(self.ctx, self.src, pos, msg)
    }

    /// Error at the current token.
    pub fn err(&self, msg: &str) -> ODataError {
        self.err_at(self.pos(), msg)
    }

    /// "expected {what} but found {current token}".
    pub fn err_expected(&self, what: &str) -> ODataError {
        self.err(&format!("expected {what} but found {}", describe(self.peek())))
    }

    /// Consume `tok` or fail with "expected {what}".
    pub fn expect(&mut self, tok: &Tok, what: &str) -> Result<(), ODataError> {
        if self.peek() == tok {
            self.bump();
            Ok(())
        } else {
            Err(self.err_expected(what))
        }
    }

    /// Consume an identifier or fail with "expected {what}".
    pub fn expect_ident(&mut self, what: &str) -> Result<String, ODataError> {
        match self.peek() {
            Tok::Ident(s) => {
                let s = s.clone();
                self.bump();
                Ok(s)
            }
            _ => Err(self.err_expected(what)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        lex(src, "$filter").unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn guid_starting_with_digits_is_not_an_integer() {
        let toks = kinds("0b3e6a9d-1c4f-4e7a-b2d5-7f0a3c6e9b08");
        let g = Uuid::parse_str("0b3e6a9d-1c4f-4e7a-b2d5-7f0a3c6e9b08").unwrap();
        assert_eq!(toks, vec![Tok::Guid(g), Tok::Eof]);
    }

    #[test]
    fn guid_starting_with_letters_is_not_an_identifier() {
        let toks = kinds("(a3f9d6b2-1c4e-4b7a-8e05-6d2f9c1b7e03)");
        let g = Uuid::parse_str("a3f9d6b2-1c4e-4b7a-8e05-6d2f9c1b7e03").unwrap();
        assert_eq!(toks, vec![Tok::LParen, Tok::Guid(g), Tok::RParen, Tok::Eof]);
    }

    #[test]
    fn malformed_guid_is_reported_as_such() {
        let e = lex("x eq a3f9d6b2-1c4e-4b7a-8e05", "$filter").unwrap_err();
        assert!(e.message.contains("invalid literal 'a3f9d6b2-1c4e-4b7a-8e05'"), "{e}");
        let e = lex("x eq 0b3e6a9d-1c4f", "$filter").unwrap_err();
        assert!(e.message.contains("invalid literal '0b3e6a9d-1c4f'"), "{e}");
    }

    #[test]
    fn date_times_and_integers() {
        let toks = kinds("2026-01-01T00:00:00.123+02:00 -42 7");
        let dt = DateTime::parse_from_rfc3339("2025-12-31T22:00:00.123Z").unwrap().with_timezone(&Utc);
        assert_eq!(toks, vec![Tok::DateTime(dt), Tok::Int(-42), Tok::Int(7), Tok::Eof]);
        assert!(lex("2026-13-01T00:00:00Z", "$filter").is_err());
        assert!(lex("99999999999999999999", "$filter").unwrap_err().message.contains("out of range"));
        assert!(lex("12abc", "$filter").is_err());
    }

    #[test]
    fn strings_with_escaped_quotes_and_unicode() {
        assert_eq!(kinds("'O''Brien' 'é''x'''"), vec![Tok::Str("O'Brien".into()), Tok::Str("é'x'".into()), Tok::Eof]);
        let e = lex("x eq 'abc", "$filter").unwrap_err();
        assert_eq!(e.message, "$filter: unterminated string literal starting at position 5");
    }

    #[test]
    fn qualified_names_symbols_and_bad_characters() {
        assert_eq!(
            kinds("is/microsoft.graph.x"),
            vec![Tok::Ident("is".into()), Tok::Slash, Tok::Ident("microsoft.graph.x".into()), Tok::Eof]
        );
        assert_eq!(
            kinds("a <= b"),
            vec![Tok::Ident("a".into()), Tok::Symbol("<=".into()), Tok::Ident("b".into()), Tok::Eof]
        );
        assert!(lex("a.", "$filter").is_err());
        assert!(lex("@odata.type", "$filter").is_err());
        assert!(lex("\"x\"", "$filter").is_err());
        let e = lex("aé", "$filter").unwrap_err();
        assert_eq!(e.message, "$filter: unexpected character 'é' at position 1");
    }

    #[test]
    fn too_long_input_is_rejected() {
        let long = "a".repeat(MAX_INPUT_LEN + 1);
        assert!(lex(&long, "$filter").unwrap_err().message.contains("too long"));
    }
}
