//! The script format: one syscall per line, named results, expected statuses.
//!
//! ```text
//! # comment
//! $vmo = zx_vmo_create(1M, 0)
//! $addr = zx_vmar_map($root, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, $vmo, 0, 1M)
//! zx_vmar_protect($root, ZX_VM_PERM_READ | ZX_VM_PERM_EXECUTE, $addr, 4096) -> ZX_ERR_ACCESS_DENIED
//! ```
//!
//! Grammar (one statement per line, `#` starts a comment):
//!
//! ```text
//! line     := [names '='] call ['->' expect]
//! names    := name (',' name)*          name := '$'ident | '_'
//! call     := ident '(' [expr (',' expr)*] ')'
//! expect   := '*' | status ('|' status)*
//! expr     := shift ('|' shift)*
//! shift    := sum (('<<' | '>>') sum)*
//! sum      := product (('+' | '-') product)*
//! product  := atom ('*' atom)*
//! atom     := number | constant | '$'ident | string | '(' expr ')'
//! ```
//!
//! Parsing checks everything that can be checked before running: the call exists and
//! gets a valid number of arguments, every number and constant is valid, every
//! `$name` is bound by an earlier line, every status name exists. A script with any
//! such error runs nothing.

mod lex;
#[cfg(test)]
mod tests;

use crate::calls::{self, CallSpec, Ty};
use crate::{consts, status};
use lex::{lex, Tok};

/// Names every script can use without binding them.
pub const PREDEFINED: [&str; 3] = ["root", "process", "scratch"];

/// A problem with the script text, with its place (1-based line and column).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptError {
    /// Line number, from 1.
    pub line: usize,
    /// Column number (in characters), from 1.
    pub col: usize,
    /// What is wrong.
    pub message: String,
}

impl ScriptError {
    fn new(line: usize, col: usize, message: impl Into<String>) -> ScriptError {
        ScriptError {
            line,
            col,
            message: message.into(),
        }
    }

    /// The error as a compiler would print it: `file:line:col: message`, the line,
    /// and a caret under the column.
    pub fn render(&self, file: &str, source: &str) -> String {
        let text = source
            .lines()
            .nth(self.line.saturating_sub(1))
            .unwrap_or("");
        let shown: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let gutter = self.line.to_string().len();
        format!(
            "error: {file}:{}:{}: {}\n{:gutter$} |\n{} | {}\n{:gutter$} | {}^\n\n",
            self.line,
            self.col,
            self.message,
            "",
            self.line,
            shown,
            "",
            " ".repeat(self.col.saturating_sub(1)),
        )
    }
}

/// A binary operator of an expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Bitwise or.
    Or,
    /// Shift left.
    Shl,
    /// Shift right.
    Shr,
    /// Addition.
    Add,
    /// Subtraction.
    Sub,
    /// Multiplication.
    Mul,
}

/// An argument expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// A number or a constant's value.
    Num(u64),
    /// A `$name`, with its column.
    Var(String, usize),
    /// A string literal (its bytes), passed as the address of a staged copy.
    Str(Vec<u8>),
    /// `lhs op rhs`, with the operator's column for overflow errors.
    Bin(Op, Box<Expr>, Box<Expr>, usize),
}

/// Why an expression has no value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvalError {
    /// The expression names a variable and none was supplied (constant folding).
    NotConstant,
    /// An error at a column: overflow, a string inside arithmetic, an unbound name.
    At(usize, String),
}

impl Expr {
    /// Evaluates the expression to a number, looking names up with `var`. String
    /// literals are not numbers: the caller handles a whole-argument string itself.
    ///
    /// # Errors
    /// Overflow of an operator (with its column), a string inside arithmetic, or
    /// whatever `var` returns.
    pub fn eval(
        &self,
        var: &dyn Fn(&str, usize) -> Result<u64, EvalError>,
    ) -> Result<u64, EvalError> {
        match self {
            Expr::Num(n) => Ok(*n),
            Expr::Var(name, col) => var(name, *col),
            Expr::Str(_) => Err(EvalError::At(
                0,
                "a string literal must be a whole argument".into(),
            )),
            Expr::Bin(op, lhs, rhs, col) => {
                let (a, b) = (lhs.eval(var)?, rhs.eval(var)?);
                let result = match op {
                    Op::Or => Some(a | b),
                    Op::Add => a.checked_add(b),
                    Op::Sub => a.checked_sub(b),
                    Op::Mul => a.checked_mul(b),
                    Op::Shl => u32::try_from(b)
                        .ok()
                        .and_then(|s| a.checked_shl(s))
                        .filter(|v| v >> b == a),
                    Op::Shr => u32::try_from(b).ok().and_then(|s| a.checked_shr(s)),
                };
                result.ok_or_else(|| {
                    EvalError::At(
                        *col,
                        format!("{a:#x} {} {b:#x} does not fit in 64 bits", op.symbol()),
                    )
                })
            }
        }
    }

    /// The first string literal nested inside arithmetic, if any (with no column:
    /// literals are checked where arguments are parsed).
    fn has_nested_string(&self) -> bool {
        match self {
            Expr::Bin(_, l, r, _) => {
                matches!(**l, Expr::Str(_))
                    || matches!(**r, Expr::Str(_))
                    || l.has_nested_string()
                    || r.has_nested_string()
            }
            _ => false,
        }
    }

    /// Every `$name` the expression uses, with its column.
    fn vars(&self, out: &mut Vec<(String, usize)>) {
        match self {
            Expr::Var(name, col) => out.push((name.clone(), *col)),
            Expr::Bin(_, l, r, _) => {
                l.vars(out);
                r.vars(out);
            }
            _ => {}
        }
    }
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Or => "|",
            Op::Shl => "<<",
            Op::Shr => ">>",
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
        }
    }
}

/// One argument with its column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arg {
    /// The expression.
    pub expr: Expr,
    /// Where it starts.
    pub col: usize,
}

/// What a line calls.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// A syscall of the surface.
    Syscall(&'static CallSpec),
    /// `dispatch(number, args...)`: the raw entry by syscall number, as a fuzzer uses it.
    Dispatch,
    /// `read_memory(addr, len)`: the kernel's copy from user memory; prints the bytes.
    ReadMemory,
    /// `write_memory(addr, "bytes")`: the kernel's copy into user memory.
    WriteMemory,
    /// `check_memory(addr, "bytes")`: reads and compares; a difference fails the run.
    CheckMemory,
    /// `maps()`: prints the address-space tree at this point.
    Maps,
}

/// The built-in (non-syscall) calls: name, fewest and most arguments, and what
/// they do, for the README and for error messages.
const BUILTINS: &[(&str, usize, usize, &str)] = &[
    ("dispatch", 1, 9, "dispatch(number, [arg0, ... arg7])"),
    ("read_memory", 2, 2, "read_memory(addr, len)"),
    ("write_memory", 2, 2, "write_memory(addr, \"bytes\")"),
    ("check_memory", 2, 2, "check_memory(addr, \"bytes\")"),
    ("maps", 0, 0, "maps()"),
];

impl Target {
    /// The name the line used.
    pub fn name(&self) -> &'static str {
        match self {
            Target::Syscall(spec) => spec.name,
            Target::Dispatch => "dispatch",
            Target::ReadMemory => "read_memory",
            Target::WriteMemory => "write_memory",
            Target::CheckMemory => "check_memory",
            Target::Maps => "maps",
        }
    }
}

/// Which statuses a line accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Any status (`-> *`).
    Any,
    /// One of these (`-> ZX_OK`, `-> ZX_ERR_A | ZX_ERR_B`; `ZX_OK` when absent).
    OneOf(Vec<i32>),
}

impl Expect {
    /// Whether `status` is accepted.
    pub fn accepts(&self, status: i32) -> bool {
        match self {
            Expect::Any => true,
            Expect::OneOf(list) => list.contains(&status),
        }
    }

    /// The accepted statuses for messages: `ZX_OK`, `ZX_ERR_A or ZX_ERR_B`.
    pub fn describe(&self) -> String {
        match self {
            Expect::Any => "any status".into(),
            Expect::OneOf(list) => list
                .iter()
                .map(|&s| status::describe(s))
                .collect::<Vec<_>>()
                .join(" or "),
        }
    }
}

/// A name bound to a result (`None` for `_`, which skips one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The name without `$`, or `None` for `_`.
    pub name: Option<String>,
    /// Where it is written.
    pub col: usize,
}

/// One parsed line.
#[derive(Clone, Debug)]
pub struct Statement {
    /// Line number, from 1.
    pub line: usize,
    /// The line's text without its comment, trimmed.
    pub text: String,
    /// Names bound to results, in the order of the call's out-parameters.
    pub bindings: Vec<Binding>,
    /// What is called.
    pub target: Target,
    /// Column of the call's name.
    pub target_col: usize,
    /// The arguments as written.
    pub args: Vec<Arg>,
    /// Accepted statuses.
    pub expect: Expect,
}

/// A parsed script.
#[derive(Clone, Debug)]
pub struct Script {
    /// Its statements, in order (blank and comment-only lines left out).
    pub statements: Vec<Statement>,
}

/// Parses a whole script and checks it.
///
/// # Errors
/// Every error found, in line order (at most one per line).
pub fn parse(source: &str) -> Result<Script, Vec<ScriptError>> {
    let mut statements = Vec::new();
    let mut errors = Vec::new();
    let mut bound: Vec<String> = PREDEFINED.iter().map(|s| s.to_string()).collect();
    for (index, text) in source.lines().enumerate() {
        let line = index + 1;
        match parse_line(line, text, &bound) {
            Ok(Some(statement)) => {
                for b in &statement.bindings {
                    if let Some(name) = &b.name {
                        if !bound.contains(name) {
                            bound.push(name.clone());
                        }
                    }
                }
                statements.push(statement);
            }
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(Script { statements })
    } else {
        Err(errors)
    }
}

struct Parser<'a> {
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

    fn error(&self, col: usize, msg: impl Into<String>) -> ScriptError {
        ScriptError::new(self.line, col, msg)
    }

    fn found(&self) -> String {
        self.peek()
            .map_or("the end of the line".into(), Tok::describe)
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
                (0, Some(Tok::Pipe)) => Op::Or,
                (1, Some(Tok::Shl)) => Op::Shl,
                (1, Some(Tok::Shr)) => Op::Shr,
                (2, Some(Tok::Plus)) => Op::Add,
                (2, Some(Tok::Minus)) => Op::Sub,
                (3, Some(Tok::Star)) => Op::Mul,
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
            Some((Tok::LParen, _)) => {
                let inner = self.expr()?;
                self.expect(Tok::RParen, "`)`")?;
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
            (Some(Tok::Ident(s)), Some(Tok::Comma | Tok::Assign)) => s == "_",
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
                        format!(
                            "expected a `$name` or `_`, found {}",
                            self.tokens
                                .get(self.pos - 1)
                                .map_or("the end of the line".into(), |t| t.0.describe())
                        ),
                    ))
                }
            }
            match self.peek() {
                Some(Tok::Comma) => self.pos += 1,
                Some(Tok::Assign) => {
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
        if self.peek() != Some(&Tok::Arrow) {
            return Ok(Expect::OneOf(vec![0]));
        }
        self.pos += 1;
        if self.peek() == Some(&Tok::Star) {
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
                            self.tokens
                                .get(self.pos - 1)
                                .map_or("the end of the line".into(), |t| t.0.describe())
                        ),
                    ))
                }
            }
            if self.peek() == Some(&Tok::Pipe) {
                self.pos += 1;
            } else {
                return Ok(Expect::OneOf(list));
            }
        }
    }
}

/// ` (did you mean `X`?)` when a known name is close to `name`, else empty.
fn suggest<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> String {
    let upper = name.to_ascii_uppercase();
    known
        .map(|k| {
            let best = strsim::levenshtein(name, k)
                .min(strsim::levenshtein(&upper, k))
                .min(
                    k.strip_prefix("ZX_")
                        .map_or(usize::MAX, |s| strsim::levenshtein(&upper, s)),
                );
            (best, k)
        })
        .filter(|&(d, k)| d <= 3.max(k.len() / 6))
        .min_by_key(|&(d, _)| d)
        .map_or(String::new(), |(_, k)| format!(" (did you mean `{k}`?)"))
}

fn target_by_name(name: &str) -> Option<Target> {
    if let Some(spec) = calls::find(name) {
        return Some(Target::Syscall(spec));
    }
    Some(match name {
        "dispatch" => Target::Dispatch,
        "read_memory" => Target::ReadMemory,
        "write_memory" => Target::WriteMemory,
        "check_memory" => Target::CheckMemory,
        "maps" => Target::Maps,
        _ => return None,
    })
}

/// "2", "2 or 3", "2, 4, 5 or 6".
fn counts(list: &[usize]) -> String {
    let words: Vec<String> = list.iter().map(|n| n.to_string()).collect();
    match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => "no".into(),
    }
}

/// The results a call gives to bind, for the number of arguments given.
pub fn result_count(target: Target, nargs: usize) -> usize {
    match target {
        Target::Syscall(spec) if spec.params.is_empty() => 1,
        Target::Syscall(spec) => spec.outs(nargs).len(),
        _ => 0,
    }
}

fn parse_line(line: usize, text: &str, bound: &[String]) -> Result<Option<Statement>, ScriptError> {
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
            .chain(BUILTINS.iter().map(|b| b.0));
        let hint = suggest(&name, known);
        p.error(target_col, format!("unknown call `{name}`{hint}"))
    })?;

    p.expect(Tok::LParen, &format!("`(` after `{name}`"))?;
    let mut args = Vec::new();
    if p.peek() != Some(&Tok::RParen) {
        loop {
            let col = p.col();
            let expr = p.expr()?;
            args.push(Arg { expr, col });
            match p.peek() {
                Some(Tok::Comma) => p.pos += 1,
                Some(Tok::RParen) => break,
                _ => {
                    return Err(
                        p.error(p.col(), format!("expected `,` or `)`, found {}", p.found()))
                    )
                }
            }
        }
    }
    p.expect(Tok::RParen, "`)`")?;
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

fn check_arity(p: &Parser, target: Target, col: usize, args: &[Arg]) -> Result<(), ScriptError> {
    let n = args.len();
    let (ok, allowed, signature) = match target {
        Target::Syscall(spec) => {
            let allowed: Vec<usize> = (0..=spec.params.len())
                .filter(|&k| spec.accepts(k))
                .collect();
            (spec.accepts(n), allowed, spec.signature())
        }
        other => {
            let &(_, min, max, sig) = BUILTINS
                .iter()
                .find(|b| b.0 == other.name())
                .expect("every builtin is listed");
            (
                (min..=max).contains(&n),
                (min..=max).collect(),
                sig.to_string(),
            )
        }
    };
    if ok {
        return Ok(());
    }
    Err(p.error(
        col,
        format!(
            "`{}` takes {} argument{}, got {n}: {signature}",
            target.name(),
            counts(&allowed),
            if allowed == [1] { "" } else { "s" }
        ),
    ))
}

fn check_args(
    p: &Parser,
    target: Target,
    args: &[Arg],
    bound: &[String],
) -> Result<(), ScriptError> {
    for (i, arg) in args.iter().enumerate() {
        let mut vars = Vec::new();
        arg.expr.vars(&mut vars);
        for (name, col) in vars {
            if !bound.contains(&name) {
                let known: Vec<String> = bound.iter().map(|b| format!("${b}")).collect();
                let hint = suggest(&format!("${name}"), known.iter().map(String::as_str));
                return Err(p.error(col, format!("undefined name `${name}`{hint}: bind it on an earlier line, like `${name} = zx_vmo_create(4096, 0)`")));
            }
        }
        if arg.expr.has_nested_string() {
            return Err(p.error(
                arg.col,
                "a string literal must be a whole argument, not part of arithmetic",
            ));
        }
        let is_string = matches!(arg.expr, Expr::Str(_));
        let (param, ty) = match target {
            Target::Syscall(spec) => (spec.params[i].name, spec.params[i].ty),
            Target::Dispatch if i == 0 => ("number", Ty::U32),
            Target::Dispatch => ("arg", Ty::Ptr),
            Target::WriteMemory | Target::CheckMemory if i == 1 => {
                if !is_string {
                    return Err(p.error(
                        arg.col,
                        format!(
                            "the second argument of `{}` must be a string literal like \"abc\"",
                            target.name()
                        ),
                    ));
                }
                continue;
            }
            _ => (if i == 0 { "addr" } else { "len" }, Ty::U64),
        };
        if is_string && ty != Ty::Ptr {
            return Err(p.error(
                arg.col,
                format!("`{param}` takes a number; a string literal can only stand for a pointer"),
            ));
        }
        match arg.expr.eval(&|_, _| Err(EvalError::NotConstant)) {
            Ok(value) if ty == Ty::U32 && value > u64::from(u32::MAX) => {
                return Err(p.error(
                    arg.col,
                    format!("`{param}` is a 32-bit value; {value:#x} does not fit"),
                ));
            }
            Err(EvalError::At(col, msg)) if col > 0 => return Err(p.error(col, msg)),
            _ => {}
        }
    }
    Ok(())
}
