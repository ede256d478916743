//! The checks that need a whole statement: argument counts, argument kinds, names
//! bound before use, constant values that cannot fit; and the suggestions that
//! error messages carry.

use super::parser::Parser;
use super::{Arg, Builtin, EvalError, Expr, ScriptError, Target};
use crate::calls::Ty;

/// ` (did you mean `X`?)` when a known name is close to `name`, else empty.
pub(super) fn suggest<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> String {
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
pub(super) fn result_count(target: Target, nargs: usize) -> usize {
    match target {
        Target::Syscall(spec) => usize::from(spec.returns_handle) + spec.outs(nargs).len(),
        _ => 0,
    }
}

pub(super) fn check_arity(
    p: &Parser,
    target: Target,
    col: usize,
    args: &[Arg],
) -> Result<(), ScriptError> {
    let n = args.len();
    let (ok, allowed, signature) = match target {
        Target::Syscall(spec) => {
            let allowed: Vec<usize> = (0..=spec.params.len())
                .filter(|&k| spec.accepts(k))
                .collect();
            (spec.accepts(n), allowed, spec.signature())
        }
        Target::Builtin(b) => {
            let (min, max) = (b.min_args(), b.max_args());
            (
                (min..=max).contains(&n),
                (min..=max).collect(),
                b.signature().to_string(),
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

pub(super) fn check_args(
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
            Target::Builtin(Builtin::Dispatch) if i == 0 => ("number", Ty::U32),
            Target::Builtin(Builtin::Dispatch) => ("arg", Ty::Ptr),
            Target::Builtin(b) if b.string_arg(i) => {
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
            Target::Builtin(b) => (b.param(i), Ty::U64),
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
