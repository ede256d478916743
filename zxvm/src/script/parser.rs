//! The parser proper: a line's tokens to a [`Statement`].

use super::check::{check_args, check_arity, result_count, suggest};
use super::lex::{lex, Tok};
use super::{
    Arg, Binding, Builtin, Expect, Expr, Op, ScriptError, Statement, Target, BUILTINS, PREDEFINED,
};
use crate::{calls, consts, status};

/// A cursor over one line's tokens.
pub(super) struct Parser<'a> {
    line: usize,
    tokens: &'a [(Tok, usize)],
    pos: usize,
    end_col: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|(t, _)| t)
    }

    fn col(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.end_col, |&(_, c)| c)
    }

    fn next(&mut self) -> Option<(Tok, usize)> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    pub(super) fn error(&self, col: usize, msg: impl Into<String>) -> ScriptError {
        ScriptError::new(self.line, col, msg)
    }

    fn found(&self) -> String {
        self.peek()
            .map_or("the end of the line".into(), Tok::describe)
    }

    /// The token just taken, for a message about it.
    fn found_before(&self) -> String {
        self.tokens
            .get(self.pos.wrapping_sub(1))
            .map_or("the end of the line".into(), |t| t.0.describe())
    }

    fn expect(&mut self, want: Tok, what: &str) -> Result<usize, ScriptError> {
        if self.peek() == Some(&want) {
            let col = self.col();
            self.pos += 1;
            Ok(col)
        } else {
            Err(self.error(
                self.col(),
                format!("expected {what}, found {}", self.found()),
            ))
        }
    }

    fn expr(&mut self) -> Result<Expr, ScriptError> {
        self.binary(0)
    }

    /// Precedence climbing over the four levels `|`, shifts, `+ -`, `*`.
    fn binary(&mut self, level: usize) -> Result<Expr, ScriptError> {
        if level == 4 {
            return self.atom();
        }
        let mut lhs = self.binary(level + 1)?;
        loop {
            let op = match (level, self.peek()) {
                (0, Some(Tok::Punct("|"))) => Op::Or,
                (1, Some(Tok::Punct("<<"))) => Op::Shl,
                (1, Some(Tok::Punct(">>"))) => Op::Shr,
                (2, Some(Tok::Punct("+"))) => Op::Add,
                (2, Some(Tok::Punct("-"))) => Op::Sub,
                (3, Some(Tok::Punct("*"))) => Op::Mul,
                _ => return Ok(lhs),
            };
            let col = self.col();
            self.pos += 1;
            let rhs = self.binary(level + 1)?;
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs), col);
        }
    }

    fn atom(&mut self) -> Result<Expr, ScriptError> {
        let col = self.col();
        match self.next() {
            Some((Tok::Num(n), _)) => Ok(Expr::Num(n)),
            Some((Tok::Var(name), _)) => Ok(Expr::Var(name, col)),
            Some((Tok::Str(bytes), _)) => Ok(Expr::Str(bytes)),
            Some((Tok::Ident(name), _)) => consts::lookup(&name).map(Expr::Num).ok_or_else(|| {
                let hint = suggest(&name, consts::all_names());
                self.error(col, format!("unknown constant `{name}`{hint}"))
            }),
            Some((Tok::Punct("("), _)) => {
                let inner = self.expr()?;
                self.expect(Tok::Punct(")"), "`)`")?;
                Ok(inner)
            }
            Some((tok, _)) => {
                Err(self.error(col, format!("expected a value, found {}", tok.describe())))
            }
            None => Err(self.error(col, "expected a value, found the end of the line")),
        }
    }

    fn bindings(&mut self) -> Result<Vec<Binding>, ScriptError> {
        let starts_binding = match (self.peek(), self.tokens.get(self.pos + 1).map(|t| &t.0)) {
            (Some(Tok::Var(_)), _) => true,
            (Some(Tok::Ident(s)), Some(Tok::Punct(",") | Tok::Punct("="))) => s == "_",
            _ => false,
        };
        if !starts_binding {
            return Ok(Vec::new());
        }
        let mut names = Vec::new();
        loop {
            let col = self.col();
            match self.next() {
                Some((Tok::Var(name), _)) => {
                    if PREDEFINED.contains(&name.as_str()) {
                        return Err(self.error(
                            col,
                            format!("`${name}` is predefined and cannot be rebound"),
                        ));
                    }
                    if names
                        .iter()
                        .any(|b: &Binding| b.name.as_deref() == Some(&name))
                    {
                        return Err(
                            self.error(col, format!("`${name}` is bound twice on this line"))
                        );
                    }
                    names.push(Binding {
                        name: Some(name),
                        col,
                    });
                }
                Some((Tok::Ident(s), _)) if s == "_" => names.push(Binding { name: None, col }),
                _ => {
                    return Err(self.error(
                        col,
                        format!("expected a `$name` or `_`, found {}", self.found_before()),
                    ))
                }
            }
            match self.peek() {
                Some(Tok::Punct(",")) => self.pos += 1,
                Some(Tok::Punct("=")) => {
                    self.pos += 1;
                    return Ok(names);
                }
                _ => {
                    return Err(self.error(
                        self.col(),
                        format!("expected `,` or `=` after a name, found {}", self.found()),
                    ))
                }
            }
        }
    }

    fn expectation(&mut self) -> Result<Expect, ScriptError> {
        if self.peek() != Some(&Tok::Punct("->")) {
            return Ok(Expect::OneOf(vec![0]));
        }
        self.pos += 1;
        if self.peek() == Some(&Tok::Punct("*")) {
            self.pos += 1;
            return Ok(Expect::Any);
        }
        let mut list = Vec::new();
        loop {
            let col = self.col();
            match self.next() {
                Some((Tok::Ident(name), _)) => match status::status_by_name(&name) {
                    Some(value) => list.push(value),
                    None => {
                        let hint = suggest(&name, status::all_names());
                        return Err(self.error(col, format!("unknown status `{name}`{hint}")));
                    }
                },
                _ => {
                    return Err(self.error(
                        col,
                        format!(
                            "expected a status name (like `ZX_OK`) or `*` after `->`, found {}",
                            self.found_before()
                        ),
                    ))
                }
            }
            if self.peek() == Some(&Tok::Punct("|")) {
                self.pos += 1;
            } else {
                return Ok(Expect::OneOf(list));
            }
        }
    }
}

fn target_by_name(name: &str) -> Option<Target> {
    if let Some(spec) = calls::find(name) {
        return Some(Target::Syscall(spec));
    }
    Builtin::by_name(name).map(Target::Builtin)
}

/// Parses one line; `Ok(None)` for a blank or comment-only line.
pub(super) fn parse_line(
    line: usize,
    text: &str,
    bound: &[String],
) -> Result<Option<Statement>, ScriptError> {
    let tokens = lex(line, text)?;
    if tokens.is_empty() {
        return Ok(None);
    }
    let end_col = text.trim_end().chars().count() + 1;
    let mut p = Parser {
        line,
        tokens: &tokens,
        pos: 0,
        end_col,
    };
    let bindings = p.bindings()?;

    let target_col = p.col();
    let name = match p.next() {
        Some((Tok::Ident(name), _)) => name,
        other => {
            let found = other.map_or("the end of the line".into(), |t| t.0.describe());
            return Err(p.error(
                target_col,
                format!("expected a call like `zx_vmo_create(...)`, found {found}"),
            ));
        }
    };
    let target = target_by_name(&name).ok_or_else(|| {
        let known = calls::CALLS
            .iter()
            .map(|c| c.name)
            .chain(BUILTINS.iter().map(|b| b.0.name()));
        let hint = suggest(&name, known);
        p.error(target_col, format!("unknown call `{name}`{hint}"))
    })?;

    p.expect(Tok::Punct("("), &format!("`(` after `{name}`"))?;
    let mut args = Vec::new();
    if p.peek() != Some(&Tok::Punct(")")) {
        loop {
            let col = p.col();
            let expr = p.expr()?;
            args.push(Arg { expr, col });
            match p.peek() {
                Some(Tok::Punct(",")) => p.pos += 1,
                Some(Tok::Punct(")")) => break,
                _ => {
                    return Err(
                        p.error(p.col(), format!("expected `,` or `)`, found {}", p.found()))
                    )
                }
            }
        }
    }
    p.expect(Tok::Punct(")"), "`)`")?;
    let expect = p.expectation()?;
    if p.peek().is_some() {
        return Err(p.error(p.col(), format!("unexpected {} after the call", p.found())));
    }

    check_arity(&p, target, target_col, &args)?;
    check_args(&p, target, &args, bound)?;

    let results = result_count(target, args.len());
    if bindings.len() > results {
        let col = bindings[results].col;
        let msg = match (results, target) {
            (0, Target::Syscall(spec)) if !spec.outs(0).is_empty() => format!(
                "`{name}` gives no results to bind when the line passes its own out-pointers"
            ),
            (0, _) => format!("`{name}` gives no results to bind"),
            (n, _) => format!(
                "`{name}` gives {n} result{} here, but {} names are bound",
                if n == 1 { "" } else { "s" },
                bindings.len()
            ),
        };
        return Err(p.error(col, msg));
    }
    if !bindings.is_empty() && !expect.accepts(0) {
        return Err(p.error(
            bindings[0].col,
            "a line that expects a failure cannot bind names",
        ));
    }

    let text = strip_comment(text);
    Ok(Some(Statement {
        line,
        text: text.trim().to_string(),
        bindings,
        target,
        target_col,
        args,
        expect,
    }))
}

/// The line without its comment: up to the first `#` outside a string literal.
fn strip_comment(text: &str) -> &str {
    let mut inside = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            '#' if !inside => return &text[..i],
            '\\' if inside && !escaped => {
                escaped = true;
                continue;
            }
            '"' if !escaped => inside = !inside,
            _ => {}
        }
        escaped = false;
    }
    text
}
