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

mod check;
mod lex;
mod parser;
#[cfg(test)]
mod tests;

use crate::calls::CallSpec;
use crate::status;

/// Names every script can use without binding them.
pub const PREDEFINED: [&str; 5] = ["root", "process", "scratch", "root_resource", "device"];

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
    /// One of zxvm's own calls.
    Builtin(Builtin),
}

/// zxvm's own calls, besides the syscalls (see [`BUILTINS`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    /// The raw entry by syscall number, as a fuzzer uses it.
    Dispatch,
    /// The kernel's copy from user memory; prints the bytes.
    ReadMemory,
    /// The kernel's copy into user memory.
    WriteMemory,
    /// Reads through the kernel's copy and compares.
    CheckMemory,
    /// A store through a plain pointer, as user code makes it.
    Poke,
    /// A load through a plain pointer, compared.
    Peek,
    /// One store through a pointer at every stride.
    Touch,
    /// The VMO's bytes at every stride.
    CheckStride,
    /// `ZX_INFO_VMO` committed pages and mappings.
    CheckVmo,
    /// How many mappings of a VMO the map shows.
    CheckMappings,
    /// One mapping of a VMO, as the map shows it.
    CheckMapping,
    /// `ZX_INFO_VMAR` base and size.
    CheckVmar,
    /// No mapping overlaps a range.
    CheckUnmapped,
    /// A handle's object and rights.
    CheckHandle,
    /// The map equals the one the last `maps()` printed.
    CheckMapsUnchanged,
    /// Prints the address-space tree.
    Maps,
}

/// The built-in calls with their signatures, which say everything else: the name,
/// the arguments (those in brackets may be left off), and the one written as a
/// string literal (`"bytes"`). The README and error messages show the signatures.
/// A line calling a `check_*` built-in, or `peek`, is a check: it fails the run when
/// it does not hold.
pub const BUILTINS: &[(Builtin, &str)] = &[
    (
        Builtin::Dispatch,
        "dispatch(number, [arg0, arg1, arg2, arg3, arg4, arg5, arg6, arg7])",
    ),
    (Builtin::ReadMemory, "read_memory(addr, len)"),
    (Builtin::WriteMemory, "write_memory(addr, \"bytes\")"),
    (Builtin::CheckMemory, "check_memory(addr, \"bytes\")"),
    (Builtin::Poke, "poke(addr, \"bytes\")"),
    (Builtin::Peek, "peek(addr, \"bytes\")"),
    (Builtin::Touch, "touch(addr, len, stride, [first])"),
    (
        Builtin::CheckStride,
        "check_stride(vmo, offset, len, stride, first)",
    ),
    (
        Builtin::CheckVmo,
        "check_vmo(vmo, committed_pages, [num_mappings])",
    ),
    (Builtin::CheckMappings, "check_mappings(vmo, count)"),
    (
        Builtin::CheckMapping,
        "check_mapping(vmo, index, base, size, perms, vmo_offset, committed_pages)",
    ),
    (Builtin::CheckVmar, "check_vmar(vmar, base, len)"),
    (Builtin::CheckUnmapped, "check_unmapped(addr, len)"),
    (
        Builtin::CheckHandle,
        "check_handle(handle, same_object_as, rights)",
    ),
    (Builtin::CheckMapsUnchanged, "check_maps_unchanged()"),
    (Builtin::Maps, "maps()"),
];

impl Builtin {
    /// Its signature, from [`BUILTINS`].
    pub fn signature(self) -> &'static str {
        BUILTINS.iter().find(|b| b.0 == self).map_or("", |b| b.1)
    }

    /// Its name: the signature up to `(`.
    pub fn name(self) -> &'static str {
        let sig = self.signature();
        &sig[..sig.find('(').unwrap_or(sig.len())]
    }

    /// The built-in called `name`.
    pub fn by_name(name: &str) -> Option<Builtin> {
        BUILTINS.iter().map(|b| b.0).find(|b| b.name() == name)
    }

    /// Its parameters as the signature writes them.
    fn params(self) -> impl Iterator<Item = &'static str> {
        let sig = self.signature();
        let inner = &sig[self.name().len() + 1..sig.len().saturating_sub(1)];
        inner.split(", ").filter(|p| !p.is_empty())
    }

    /// The fewest arguments: those before the first bracket.
    pub fn min_args(self) -> usize {
        self.params().take_while(|p| !p.starts_with('[')).count()
    }

    /// The most arguments.
    pub fn max_args(self) -> usize {
        self.params().count()
    }

    /// The name of argument `i`.
    pub fn param(self, i: usize) -> &'static str {
        self.params()
            .nth(i)
            .map_or("arg", |p| p.trim_matches(|c| c == '[' || c == ']'))
    }

    /// Whether argument `i` must be a string literal.
    pub fn string_arg(self, i: usize) -> bool {
        self.params().nth(i).is_some_and(|p| p.starts_with('"'))
    }

    /// Whether a line calling it is a check.
    pub fn is_check(self) -> bool {
        self.name().starts_with("check_") || self == Builtin::Peek
    }
}

impl Target {
    /// The name the line used.
    pub fn name(&self) -> &'static str {
        match self {
            Target::Syscall(spec) => spec.name,
            Target::Builtin(b) => b.name(),
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

impl Statement {
    /// Whether the line is a check: a `check_*` built-in, or a call expected to
    /// fail.
    pub fn is_check(&self) -> bool {
        match self.target {
            Target::Builtin(b) if b.is_check() => true,
            _ => matches!(&self.expect, Expect::OneOf(list) if !list.contains(&0)),
        }
    }
}

/// A parsed script.
#[derive(Clone, Debug)]
pub struct Script {
    /// Its statements, in order (blank and comment-only lines left out).
    pub statements: Vec<Statement>,
    /// Step titles: comment lines starting `## `, with their line numbers; a run
    /// prints each before the statements that follow it.
    pub headings: Vec<(usize, String)>,
}

/// Parses a whole script and checks it.
///
/// # Errors
/// Every error found, in line order (at most one per line).
pub fn parse(source: &str) -> Result<Script, Vec<ScriptError>> {
    let mut statements = Vec::new();
    let mut headings = Vec::new();
    let mut errors = Vec::new();
    let mut bound: Vec<String> = PREDEFINED.iter().map(|s| s.to_string()).collect();
    for (index, text) in source.lines().enumerate() {
        let line = index + 1;
        if let Some(title) = text.trim().strip_prefix("## ") {
            headings.push((line, title.trim().to_string()));
            continue;
        }
        match parser::parse_line(line, text, &bound) {
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
        Ok(Script {
            statements,
            headings,
        })
    } else {
        Err(errors)
    }
}
