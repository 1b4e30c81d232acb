//! `$filter` parser: recursive descent, one function per precedence level.
//!
//! ```text
//! or_expr    := and_expr ( 'or' and_expr )*
//! and_expr   := comparison ( 'and' comparison )*
//! comparison := unary [ cmp_op unary | 'in' '(' literal ( ',' literal )* ')' ]
//! unary      := 'not' unary | primary
//! primary    := '(' or_expr ')' | literal | function '(' args ')'
//!             | path [ '/' ( 'any' | 'all' ) '(' [ ident ':' or_expr ] ')' ]
//! ```
//!
//! Comparisons are non-associative (`a eq b eq c` is rejected; parenthesise instead). As in
//! OData, `not` binds tighter than the comparison operators. Every recursive step passes
//! through [`FilterParser::enter`], which bounds the nesting depth.

use super::ast::{CompareOp, Expr, Function, Literal};
use super::lexer::{describe, Cursor, Tok};
use super::{ODataError, MAX_DEPTH};

const CTX: &str = "$filter";

/// Words that are operators and therefore cannot start an operand.
const OPERATOR_KEYWORDS: &[&str] = &["and", "or", "eq", "ne", "gt", "ge", "lt", "le", "in"];

/// Parse a `$filter` expression (already percent-decoded).
pub fn parse_filter(input: &str) -> Result<Expr, ODataError> {
    let mut p = FilterParser { cur: Cursor::new(input, CTX)?, depth: 0 };
    if p.cur.at_eof() {
        return Err(ODataError::new(format!("{CTX}: expression is empty")));
    }
    let start = p.cur.pos();
    let expr = p.parse_or()?;
    if !p.cur.at_eof() {
        return Err(p.unexpected_after_operand("end of input"));
    }
    p.require_boolean(&expr, start)?;
    Ok(expr)
}

fn compare_op(word: &str) -> Option<CompareOp> {
    Some(match word.to_ascii_lowercase().as_str() {
        "eq" => CompareOp::Eq,
        "ne" => CompareOp::Ne,
        "gt" => CompareOp::Gt,
        "ge" => CompareOp::Ge,
        "lt" => CompareOp::Lt,
        "le" => CompareOp::Le,
        _ => return None,
    })
}

fn function(name: &str) -> Option<(Function, &'static str, usize)> {
    Some(match name.to_ascii_lowercase().as_str() {
        "contains" => (Function::Contains, "contains", 2),
        "startswith" => (Function::StartsWith, "startswith", 2),
        "endswith" => (Function::EndsWith, "endswith", 2),
        "tolower" => (Function::ToLower, "tolower", 1),
        "toupper" => (Function::ToUpper, "toupper", 1),
        _ => return None,
    })
}

/// The OData spelling of a C-style operator, for "unknown operator" hints.
fn operator_hint(symbol: &str) -> Option<&'static str> {
    Some(match symbol {
        "=" | "==" | "===" => "eq",
        "!=" | "<>" | "!==" => "ne",
        "<" => "lt",
        "<=" => "le",
        ">" => "gt",
        ">=" => "ge",
        "&" | "&&" => "and",
        "|" | "||" => "or",
        "!" => "not",
        _ => return None,
    })
}

/// The literal a token denotes, if any (`true`, `false` and `null` are case-insensitive).
fn literal_of(tok: &Tok) -> Option<Literal> {
    Some(match tok {
        Tok::Str(s) => Literal::String(s.clone()),
        Tok::Int(n) => Literal::Int(*n),
        Tok::Guid(g) => Literal::Guid(*g),
        Tok::DateTime(d) => Literal::DateTime(*d),
        Tok::Ident(word) => match word.to_ascii_lowercase().as_str() {
            "true" => Literal::Bool(true),
            "false" => Literal::Bool(false),
            "null" => Literal::Null,
            _ => return None,
        },
        _ => return None,
    })
}

struct FilterParser<'a> {
    cur: Cursor<'a>,
    depth: usize,
}

impl FilterParser<'_> {
    /// Enter one nesting level; fails (instead of recursing further) past [`MAX_DEPTH`].
    fn enter(&mut self, pos: usize) -> Result<(), ODataError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(self.cur.err_at(pos, &format!("expression is nested too deeply (the maximum depth is {MAX_DEPTH})")))
        } else {
            Ok(())
        }
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Reject operands that cannot be boolean (`'abc'`, `5`, `tolower(x)`) where a condition
    /// is required: at top level and as operands of `and`, `or`, `not` and lambdas. A bare
    /// path is accepted as a boolean property test.
    fn require_boolean(&self, expr: &Expr, pos: usize) -> Result<(), ODataError> {
        let what = match expr {
            Expr::Literal(Literal::Bool(_))
            | Expr::Path(_)
            | Expr::Compare { .. }
            | Expr::And(..)
            | Expr::Or(..)
            | Expr::Not(_)
            | Expr::In { .. }
            | Expr::Lambda { .. } => return Ok(()),
            Expr::Call { func, .. } => match func {
                Function::Contains | Function::StartsWith | Function::EndsWith => return Ok(()),
                Function::ToLower => "the string-valued function tolower()".to_string(),
                Function::ToUpper => "the string-valued function toupper()".to_string(),
            },
            Expr::Literal(lit) => match lit {
                Literal::String(_) => "a string literal".to_string(),
                Literal::Int(n) => format!("the integer {n}"),
                Literal::Null => "null".to_string(),
                Literal::Guid(g) => format!("the GUID {g}"),
                Literal::DateTime(_) => "a date-time literal".to_string(),
                Literal::Bool(_) => return Ok(()),
            },
        };
        Err(self.cur.err_at(pos, &format!("expected a boolean expression but found {what}")))
    }

    /// Error for a token that follows a complete operand but is not a valid continuation.
    fn unexpected_after_operand(&self, expected: &str) -> ODataError {
        match self.cur.peek() {
            Tok::Ident(word) if word.eq_ignore_ascii_case("not") => {
                self.cur.err("unexpected 'not' ('not' must come before the expression it negates)")
            }
            Tok::Ident(word) if compare_op(word).is_some() || word.eq_ignore_ascii_case("in") => {
                self.cur.err(&format!(
                    "unexpected '{word}' (comparisons cannot be chained; use parentheses and \
                     'and'/'or')"
                ))
            }
            Tok::Ident(word) => self.cur.err(&format!("unknown operator '{word}'")),
            Tok::Symbol(sym) => match operator_hint(sym) {
                Some(hint) => self.cur.err(&format!("unknown operator '{sym}' (use '{hint}')")),
                None => self.cur.err(&format!("unknown operator '{sym}'")),
            },
            Tok::RParen if expected == "end of input" => self.cur.err("unbalanced ')'"),
            _ => self.cur.err_expected(expected),
        }
    }

    fn parse_or(&mut self) -> Result<Expr, ODataError> {
        let start = self.cur.pos();
        let mut lhs = self.parse_and()?;
        while self.cur.at_keyword("or") {
            self.require_boolean(&lhs, start)?;
            self.cur.bump();
            let rhs_start = self.cur.pos();
            let rhs = self.parse_and()?;
            self.require_boolean(&rhs, rhs_start)?;
            lhs = Expr::Or(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn parse_and(&mut self) -> Result<Expr, ODataError> {
        let start = self.cur.pos();
        let mut lhs = self.parse_comparison()?;
        while self.cur.at_keyword("and") {
            self.require_boolean(&lhs, start)?;
            self.cur.bump();
            let rhs_start = self.cur.pos();
            let rhs = self.parse_comparison()?;
            self.require_boolean(&rhs, rhs_start)?;
            lhs = Expr::And(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn parse_comparison(&mut self) -> Result<Expr, ODataError> {
        let lhs = self.parse_unary()?;
        let op = match self.cur.peek() {
            Tok::Ident(word) if word.eq_ignore_ascii_case("in") => {
                self.cur.bump();
                let list = self.parse_in_list()?;
                let expr = Expr::In { lhs: Box::new(lhs), list };
                return self.no_chained_comparison(expr);
            }
            Tok::Ident(word) => match compare_op(word) {
                Some(op) => op,
                None => return Ok(lhs),
            },
            _ => return Ok(lhs),
        };
        self.cur.bump();
        let rhs = self.parse_unary()?;
        let expr = Expr::Compare { op, lhs: Box::new(lhs), rhs: Box::new(rhs) };
        self.no_chained_comparison(expr)
    }

    fn no_chained_comparison(&self, expr: Expr) -> Result<Expr, ODataError> {
        match self.cur.peek() {
            Tok::Ident(word) if compare_op(word).is_some() || word.eq_ignore_ascii_case("in") => {
                Err(self.unexpected_after_operand("end of input"))
            }
            _ => Ok(expr),
        }
    }

    fn parse_in_list(&mut self) -> Result<Vec<Literal>, ODataError> {
        self.cur.expect(&Tok::LParen, "'(' after 'in'")?;
        if self.cur.peek() == &Tok::RParen {
            return Err(self.cur.err("the 'in' list must contain at least one value"));
        }
        let mut list = Vec::new();
        loop {
            let Some(lit) = literal_of(self.cur.peek()) else {
                return Err(self.cur.err(&format!(
                    "the 'in' list may only contain literals, but found {}",
                    describe(self.cur.peek())
                )));
            };
            self.cur.bump();
            list.push(lit);
            match self.cur.peek() {
                Tok::Comma => {
                    self.cur.bump();
                }
                Tok::RParen => {
                    self.cur.bump();
                    return Ok(list);
                }
                _ => return Err(self.cur.err_expected("',' or ')' in the 'in' list")),
            }
        }
    }

    fn parse_unary(&mut self) -> Result<Expr, ODataError> {
        if !self.cur.at_keyword("not") {
            return self.parse_primary();
        }
        let pos = self.cur.pos();
        self.cur.bump();
        self.enter(pos)?;
        let operand_start = self.cur.pos();
        let operand = self.parse_unary()?;
        self.require_boolean(&operand, operand_start)?;
        self.leave();
        Ok(Expr::Not(Box::new(operand)))
    }

    fn parse_primary(&mut self) -> Result<Expr, ODataError> {
        let pos = self.cur.pos();
        if let Some(literal) = literal_of(self.cur.peek()) {
            self.cur.bump();
            return Ok(Expr::Literal(literal));
        }
        match self.cur.peek() {
            Tok::LParen => {
                self.cur.bump();
                self.enter(pos)?;
                let inner = self.parse_or()?;
                if self.cur.peek() != &Tok::RParen {
                    return Err(self.unexpected_after_operand("')'"));
                }
                self.cur.bump();
                self.leave();
                Ok(inner)
            }
            Tok::Ident(word) if OPERATOR_KEYWORDS.iter().any(|k| word.eq_ignore_ascii_case(k)) => {
                Err(self.cur.err(&format!("expected an operand but found the operator '{word}'")))
            }
            Tok::Ident(word) => {
                let word = word.clone();
                self.cur.bump();
                self.parse_path_or_call(word, pos)
            }
            Tok::Symbol(sym) => Err(self.cur.err(&format!("expected an operand but found '{sym}' (unknown operator)"))),
            Tok::Eof => Err(self.cur.err("expected an operand but reached end of input")),
            other => Err(self.cur.err(&format!("expected an operand but found {}", describe(other)))),
        }
    }

    /// After the first identifier of an operand: a function call, a path, or a lambda.
    fn parse_path_or_call(&mut self, first: String, pos: usize) -> Result<Expr, ODataError> {
        if self.cur.peek() == &Tok::LParen {
            return self.parse_call(&first, pos);
        }
        let mut path = vec![first];
        while self.cur.peek() == &Tok::Slash {
            self.cur.bump();
            let seg_pos = self.cur.pos();
            let seg = self.cur.expect_ident("a property name after '/'")?;
            if self.cur.peek() == &Tok::LParen {
                let all = if seg.eq_ignore_ascii_case("any") {
                    false
                } else if seg.eq_ignore_ascii_case("all") {
                    true
                } else {
                    return Err(self.cur.err_at(
                        seg_pos,
                        &format!(
                            "unexpected '(' after '{seg}' (only any() and all() may follow a \
                             path)"
                        ),
                    ));
                };
                return self.parse_lambda(path, all, seg_pos);
            }
            path.push(seg);
        }
        Ok(Expr::Path(path))
    }

    fn parse_call(&mut self, name: &str, pos: usize) -> Result<Expr, ODataError> {
        let Some((func, canonical, arity)) = function(name) else {
            let hint = if name.eq_ignore_ascii_case("any") || name.eq_ignore_ascii_case("all") {
                " (a lambda must follow a collection path, e.g. items/any(x: ...))"
            } else {
                ""
            };
            return Err(self.cur.err_at(pos, &format!("unknown function '{name}'{hint}")));
        };
        self.cur.bump(); // '('
        self.enter(pos)?;
        let mut args = Vec::new();
        if self.cur.peek() == &Tok::RParen {
            self.cur.bump();
        } else {
            loop {
                args.push(self.parse_or()?);
                match self.cur.peek() {
                    Tok::Comma => {
                        self.cur.bump();
                    }
                    Tok::RParen => {
                        self.cur.bump();
                        break;
                    }
                    _ => {
                        return Err(
                            self.unexpected_after_operand(&format!("',' or ')' in the arguments of {canonical}()"))
                        )
                    }
                }
            }
        }
        self.leave();
        if args.len() != arity {
            let plural = if arity == 1 { "" } else { "s" };
            let given = match args.len() {
                1 => "1 was".to_string(),
                n => format!("{n} were"),
            };
            return Err(self
                .cur
                .err_at(pos, &format!("function '{canonical}' takes {arity} argument{plural} but {given} given")));
        }
        Ok(Expr::Call { func, args })
    }

    /// `collection/any(` has been read up to the operator name; the current token is `(`.
    fn parse_lambda(&mut self, collection: Vec<String>, all: bool, pos: usize) -> Result<Expr, ODataError> {
        let name = if all { "all" } else { "any" };
        self.cur.bump(); // '('
        self.enter(pos)?;
        if self.cur.peek() == &Tok::RParen {
            if all {
                return Err(self.cur.err("all() requires a range variable and a predicate, e.g. all(x: x eq 'a')"));
            }
            self.cur.bump();
            self.leave();
            return Ok(Expr::Lambda { collection, all, var: None, predicate: None });
        }
        let var = match self.cur.peek() {
            Tok::Ident(v) if !v.contains('.') => v.clone(),
            _ => return Err(self.cur.err_expected(&format!("a range variable name in {name}()"))),
        };
        self.cur.bump();
        self.cur.expect(&Tok::Colon, &format!("':' after the range variable in {name}()"))?;
        let pred_start = self.cur.pos();
        let predicate = self.parse_or()?;
        if self.cur.peek() != &Tok::RParen {
            return Err(self.unexpected_after_operand(&format!("')' to close {name}()")));
        }
        self.require_boolean(&predicate, pred_start)?;
        self.cur.bump();
        self.leave();
        Ok(Expr::Lambda { collection, all, var: Some(var), predicate: Some(Box::new(predicate)) })
    }
}
