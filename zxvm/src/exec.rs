//! Running a parsed script against a process: evaluating arguments, supplying
//! out-parameters, calling, printing each status and result, binding names, and
//! checking each status against the line's expectation.

use crate::calls::{self, CallSpec, Omit, Ty};
use crate::info::{
    HandleBasic, MapEntry, VmarInfo, VmoInfo, HANDLE_BASIC_RECORD_SIZE, MAPS_RECORD_SIZE,
    MAPS_V1_RECORD_SIZE, VMAR_RECORD_SIZE, VMO_RECORD_SIZE, VMO_V1_RECORD_SIZE,
};
use crate::script::{EvalError, Expr, Script, ScriptError, Statement, Target};
use crate::session::{MapsReport, Session, INFO_SIZE, STAGE_SIZE};
use crate::{fmt, info, maps, status};
use std::collections::HashMap;
use std::io::{self, Write};
use zircon_syscall::signature::Word;
use zircon_syscall::*;

/// The most bytes `read_memory` copies in one line.
const MAX_READ: u64 = 1 << 20;
/// The most bytes of a buffer printed after a call.
const SHOW_BYTES: usize = 64;

/// How a run ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every line returned an accepted status and every check held.
    Passed,
    /// These lines returned an unexpected status or failed a check (at least one).
    Failed(Vec<ScriptError>),
    /// A line could not be evaluated (overflow, an unbound name, an oversized
    /// string): the run stopped there.
    BadInput(ScriptError),
}

/// What the run prints besides each line's status.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// Also print each call with its evaluated arguments.
    pub verbose: bool,
    /// Go on after an unexpected status instead of stopping.
    pub keep_going: bool,
    /// Print only failures (used by `zxvm maps FILE`).
    pub quiet: bool,
}

/// What a name holds: a value, or the reason it has none.
#[derive(Clone, Copy, Debug)]
enum Slot {
    Value(u64),
    /// The line that binds it returned this status instead of `ZX_OK`.
    Unset {
        line: usize,
        status: i32,
    },
}

/// A result a call wrote to an out-parameter zxvm supplied.
struct Output {
    /// The parameter's name in the signature.
    param: &'static str,
    kind: Word,
    value: u64,
}

/// Runs scripts in one session.
pub struct Runner<'a, W: Write> {
    session: &'a Session,
    out: W,
    vars: HashMap<String, Slot>,
    options: RunOptions,
}

impl<'a, W: Write> Runner<'a, W> {
    /// A runner printing to `out`, with `$root`, `$process` and `$scratch` bound.
    pub fn new(session: &'a Session, out: W, options: RunOptions) -> Self {
        let p = session.process();
        let mut vars = HashMap::new();
        vars.insert("root".into(), Slot::Value(u64::from(p.zx_vmar_root_self())));
        vars.insert(
            "process".into(),
            Slot::Value(u64::from(p.zx_process_self())),
        );
        vars.insert("scratch".into(), Slot::Value(session.script_area() as u64));
        Runner {
            session,
            out,
            vars,
            options,
        }
    }

    /// Runs every statement in order.
    ///
    /// # Errors
    /// Only a failure to write the output.
    pub fn run(&mut self, script: &Script) -> io::Result<Outcome> {
        let mut failures = Vec::new();
        for statement in &script.statements {
            match self.step(statement)? {
                Ok(None) => {}
                Ok(Some(failure)) => {
                    failures.push(failure);
                    if !self.options.keep_going {
                        break;
                    }
                }
                Err(error) => return Ok(Outcome::BadInput(error)),
            }
        }
        Ok(if failures.is_empty() {
            Outcome::Passed
        } else {
            Outcome::Failed(failures)
        })
    }

    fn lookup(&self, name: &str, col: usize) -> Result<u64, EvalError> {
        match self.vars.get(name) {
            Some(Slot::Value(v)) => Ok(*v),
            Some(Slot::Unset { line, status }) => Err(EvalError::At(
                col,
                format!(
                    "`${name}` has no value: line {line}, which binds it, returned {}",
                    status::describe(*status)
                ),
            )),
            // The parser rejects names no earlier line binds.
            None => Err(EvalError::At(col, format!("undefined name `${name}`"))),
        }
    }

    /// Evaluates the arguments, staging string literals in scratch memory.
    fn evaluate(&self, s: &Statement) -> Result<Vec<u64>, ScriptError> {
        let mut values = Vec::with_capacity(s.args.len());
        let mut staged = 0usize;
        for (i, arg) in s.args.iter().enumerate() {
            let at = |col: usize, msg: String| ScriptError {
                line: s.line,
                col,
                message: msg,
            };
            let value = match &arg.expr {
                Expr::Str(bytes) => {
                    if staged + bytes.len() > STAGE_SIZE {
                        return Err(at(
                            arg.col,
                            format!("the string literals of one line may hold at most {STAGE_SIZE} bytes"),
                        ));
                    }
                    let addr = self.session.stage_addr() + staged;
                    self.session
                        .process()
                        .write_memory(addr, bytes)
                        .map_err(|st| {
                            at(
                                arg.col,
                                format!("staging the string failed with {}", status::describe(st)),
                            )
                        })?;
                    staged += bytes.len();
                    addr as u64
                }
                expr => expr
                    .eval(&|name, col| self.lookup(name, col))
                    .map_err(|e| match e {
                        EvalError::At(col, msg) => at(col, msg),
                        EvalError::NotConstant => at(arg.col, "no value".into()),
                    })?,
            };
            let ty = match s.target {
                Target::Syscall(spec) => spec.params[i].ty,
                Target::Dispatch if i == 0 => Ty::U32,
                _ => Ty::U64,
            };
            if ty == Ty::U32 && value > u64::from(u32::MAX) {
                return Err(at(
                    arg.col,
                    format!("this is a 32-bit value; {value:#x} does not fit"),
                ));
            }
            values.push(value);
        }
        Ok(values)
    }

    /// Runs one line. `Ok(Ok(None))`: accepted; `Ok(Ok(Some(_)))`: an unexpected
    /// status or a failed check, described; `Ok(Err(_))`: the line could not be
    /// evaluated.
    fn step(&mut self, s: &Statement) -> io::Result<Result<Option<ScriptError>, ScriptError>> {
        if !self.options.quiet {
            writeln!(self.out, "[{}] {}", s.line, s.text)?;
        }
        let args = match self.evaluate(s) {
            Ok(values) => values,
            Err(e) => return Ok(Err(e)),
        };
        if matches!(s.target, Target::ReadMemory) && args[1] > MAX_READ {
            return Ok(Err(ScriptError {
                line: s.line,
                col: s.args[1].col,
                message: format!("read_memory reads at most {MAX_READ} bytes"),
            }));
        }
        let mut notes = Vec::new();
        let mut results: Vec<Output> = Vec::new();
        let mut check_failed = None;
        let status = match s.target {
            Target::Syscall(spec) => self.syscall(spec, &args, &mut results, &mut notes),
            Target::Dispatch => {
                let mut raw = [0usize; 8];
                for (slot, &v) in raw.iter_mut().zip(&args[1..]) {
                    *slot = v as usize;
                }
                self.session.process().dispatch(args[0] as u32, raw)
            }
            Target::ReadMemory => match self.session.read_bytes(args[0] as usize, args[1] as usize)
            {
                Ok(bytes) => {
                    notes.push(show_bytes(&bytes));
                    ZX_OK
                }
                Err(st) => st,
            },
            Target::WriteMemory => {
                let bytes = string_arg(s, 1);
                match self.session.process().write_memory(args[0] as usize, bytes) {
                    Ok(()) => ZX_OK,
                    Err(st) => st,
                }
            }
            Target::CheckMemory => {
                let want = string_arg(s, 1);
                match self.session.read_bytes(args[0] as usize, want.len()) {
                    Ok(got) => {
                        if got != want {
                            check_failed = Some(format!(
                                "memory at {:#x} reads {}, expected {}",
                                args[0],
                                fmt::quoted_bytes(&got),
                                fmt::quoted_bytes(want)
                            ));
                        }
                        ZX_OK
                    }
                    Err(st) => st,
                }
            }
            Target::Maps => match self.session.maps() {
                Ok(report) => {
                    notes.push(maps::render(&report).trim_end().to_string());
                    ZX_OK
                }
                Err(st) => st,
            },
        };

        // Bind names: to the results when the call succeeded, else to the reason.
        for (i, binding) in s.bindings.iter().enumerate() {
            let Some(name) = &binding.name else { continue };
            let slot = match results.get(i) {
                Some(out) if status == ZX_OK => Slot::Value(out.value),
                _ => Slot::Unset {
                    line: s.line,
                    status,
                },
            };
            self.vars.insert(name.clone(), slot);
        }

        let accepted = s.expect.accepts(status);
        let quiet = self.options.quiet && accepted && check_failed.is_none();
        if !quiet {
            if self.options.quiet {
                writeln!(self.out, "[{}] {}", s.line, s.text)?;
            }
            let mut line = format!("    = {}", status::describe(status));
            if !accepted {
                line.push_str(&format!(", expected {}", s.expect.describe()));
            }
            for (i, out) in results.iter().enumerate() {
                let label = match s.bindings.get(i).and_then(|b| b.name.as_ref()) {
                    Some(name) => format!("${name}"),
                    None => out.param.to_string(),
                };
                line.push_str(&format!("  {label} = {}", show_value(out.kind, out.value)));
            }
            writeln!(self.out, "{line}")?;
            if self.options.verbose {
                writeln!(self.out, "    args: {}", show_args(&args))?;
            }
            for note in &notes {
                for text in note.lines() {
                    writeln!(self.out, "    {text}")?;
                }
            }
            if let Some(msg) = &check_failed {
                writeln!(self.out, "    check failed: {msg}")?;
            }
        }
        let failure = if !accepted {
            Some(format!(
                "`{}` returned {}, expected {}",
                s.target.name(),
                status::describe(status),
                s.expect.describe()
            ))
        } else {
            check_failed.map(|msg| format!("check failed: {msg}"))
        };
        Ok(Ok(failure.map(|message| ScriptError {
            line: s.line,
            col: s.target_col,
            message,
        })))
    }

    /// Calls a syscall, filling in the parameters the line left off; collects the
    /// results (name, value) and notes about what came back.
    fn syscall(
        &self,
        spec: &CallSpec,
        given: &[u64],
        results: &mut Vec<Output>,
        notes: &mut Vec<String>,
    ) -> i32 {
        let p = self.session.process();
        if spec.params.is_empty() {
            let handle = calls::invoke(p, spec, &[]);
            results.push(Output {
                param: "handle",
                kind: Word::NewHandle(ZX_OBJ_TYPE_NONE),
                value: handle as u64,
            });
            return ZX_OK;
        }
        let mut full = given.to_vec();
        let mut outs = Vec::new();
        for param in &spec.params[given.len()..] {
            full.push(match param.omit {
                Omit::Required | Omit::Zero => 0,
                Omit::Out(kind) => {
                    let slot = outs.len();
                    // A failed clear shows up as the call's own failure to copy out.
                    let _ = self.session.clear_out(slot);
                    outs.push((param.name, kind, slot));
                    self.session.out_addr(slot) as u64
                }
                Omit::InfoBuffer => self.session.info_addr() as u64,
                Omit::InfoSize => INFO_SIZE as u64,
            });
        }
        let status = calls::invoke(p, spec, &full);
        if status != ZX_OK {
            return status;
        }
        for (param, kind, slot) in outs {
            if let Ok(value) = self.session.read_out(slot, kind.width()) {
                results.push(Output { param, kind, value });
            }
        }
        self.describe_output(spec, &full, notes);
        status
    }

    /// Notes about what a successful call wrote to its buffers.
    fn describe_output(&self, spec: &CallSpec, a: &[u64], notes: &mut Vec<String>) {
        let read = |addr: u64, len: u64| {
            self.session
                .read_bytes(addr as usize, len.min(MAX_READ) as usize)
                .ok()
        };
        match spec.number {
            SYS_VMO_READ => {
                if let Some(bytes) = read(a[1], a[3].min(SHOW_BYTES as u64)) {
                    notes.push(show_bytes_of(&bytes, a[3]));
                }
            }
            SYS_PROCESS_READ_MEMORY => {
                let actual = self
                    .session
                    .read_bytes(a[4] as usize, 8)
                    .ok()
                    .map(|b| le(&b));
                if let Some(bytes) = actual.and_then(|n| read(a[2], n.min(SHOW_BYTES as u64))) {
                    notes.push(show_bytes_of(&bytes, actual.unwrap_or(0)));
                }
            }
            SYS_OBJECT_GET_PROPERTY => {
                let want = match a[1] as u32 {
                    ZX_PROP_NAME => ZX_MAX_NAME_LEN as u64,
                    ZX_PROP_VMO_CONTENT_SIZE => 8,
                    _ => return,
                };
                if let Some(bytes) = read(a[2], want.min(a[3])) {
                    if a[1] as u32 == ZX_PROP_NAME {
                        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                        notes.push(format!("name = {}", fmt::quoted_bytes(&bytes[..end])));
                    } else if bytes.len() == 8 {
                        notes.push(format!("content size = {}", le(&bytes)));
                    }
                }
            }
            SYS_OBJECT_GET_INFO => {
                let actual = self
                    .session
                    .read_bytes(a[4] as usize, 8)
                    .ok()
                    .map(|b| le(&b) as usize);
                if let Some(text) =
                    describe_info(a[1] as u32, actual, &|len| read(a[2], len.min(a[3])))
                {
                    notes.push(text);
                }
            }
            _ => {}
        }
    }
}

/// The second argument of `write_memory` / `check_memory`, which the parser
/// guarantees is a string literal.
fn string_arg(s: &Statement, i: usize) -> &[u8] {
    match &s.args[i].expr {
        Expr::Str(bytes) => bytes,
        _ => &[],
    }
}

fn le(bytes: &[u8]) -> u64 {
    let mut raw = [0u8; 8];
    let n = bytes.len().min(8);
    raw[..n].copy_from_slice(&bytes[..n]);
    u64::from_le_bytes(raw)
}

/// A result for people: handles and addresses in hex, sizes with their unit.
fn show_value(kind: Word, value: u64) -> String {
    match kind {
        Word::Size => format!("{value:#x} ({})", fmt::size(value)),
        Word::Count => value.to_string(),
        Word::NewHandle(_) | Word::Address => format!("{value:#x}"),
    }
}

fn show_args(args: &[u64]) -> String {
    let parts: Vec<String> = args.iter().map(|v| format!("{v:#x}")).collect();
    format!("({})", parts.join(", "))
}

fn show_bytes(bytes: &[u8]) -> String {
    show_bytes_of(&bytes[..bytes.len().min(SHOW_BYTES)], bytes.len() as u64)
}

fn show_bytes_of(shown: &[u8], total: u64) -> String {
    let more = total.saturating_sub(shown.len() as u64);
    if more > 0 {
        format!("bytes: {} ... ({total} bytes)", fmt::quoted_bytes(shown))
    } else {
        format!("bytes: {}", fmt::quoted_bytes(shown))
    }
}

/// Decodes an info buffer for the topics zxvm knows. `read(len)` reads `len` bytes
/// of the buffer (never more than its size).
fn describe_info(
    topic: u32,
    actual: Option<usize>,
    read: &dyn Fn(u64) -> Option<Vec<u8>>,
) -> Option<String> {
    let records = |size: usize| -> Option<Vec<u8>> { read(actual?.saturating_mul(size) as u64) };
    match topic {
        ZX_INFO_HANDLE_BASIC => {
            let h = HandleBasic::decode(&read(HANDLE_BASIC_RECORD_SIZE as u64)?)?;
            Some(format!(
                "koid {}, type {}, rights {:#x}",
                h.koid,
                info::obj_type_name(h.obj_type),
                h.rights
            ))
        }
        ZX_INFO_VMAR => {
            let v = VmarInfo::decode(&read(VMAR_RECORD_SIZE as u64)?)?;
            Some(format!(
                "base {:#x}, len {:#x} ({})",
                v.base,
                v.len,
                fmt::size(v.len)
            ))
        }
        ZX_INFO_VMO | ZX_INFO_VMO_V1 | ZX_INFO_VMO_V2 => {
            let v = VmoInfo::decode(&read(VMO_V1_RECORD_SIZE as u64)?)?;
            Some(describe_vmo(&v))
        }
        ZX_INFO_PROCESS_MAPS | ZX_INFO_PROCESS_MAPS_V1 => {
            let size = if topic == ZX_INFO_PROCESS_MAPS {
                MAPS_RECORD_SIZE
            } else {
                MAPS_V1_RECORD_SIZE
            };
            let entries = MapEntry::decode_all(&records(size)?, size);
            let avail = entries.len();
            Some(
                maps::render(&MapsReport { entries, avail })
                    .trim_end()
                    .to_string(),
            )
        }
        ZX_INFO_PROCESS_VMOS | ZX_INFO_PROCESS_VMOS_V1 | ZX_INFO_PROCESS_VMOS_V2 => {
            let size = match topic {
                ZX_INFO_PROCESS_VMOS_V1 => VMO_V1_RECORD_SIZE,
                ZX_INFO_PROCESS_VMOS_V2 => 120,
                _ => VMO_RECORD_SIZE,
            };
            let bytes = records(size)?;
            let lines: Vec<String> = bytes
                .chunks_exact(size)
                .filter_map(VmoInfo::decode)
                .map(|v| describe_vmo(&v))
                .collect();
            Some(lines.join("\n"))
        }
        _ => None,
    }
}

fn describe_vmo(v: &VmoInfo) -> String {
    let via = if v.flags & ZX_INFO_VMO_VIA_MAPPING != 0 {
        "mapping"
    } else {
        "handle"
    };
    format!(
        "vmo koid {} {} size {} committed {} mappings {} children {} flags {:#x} rights {:#x} (via {via})",
        v.koid,
        fmt::quoted_bytes(v.name.as_bytes()),
        fmt::size(v.size_bytes),
        fmt::size(v.committed_bytes),
        v.num_mappings,
        v.num_children,
        v.flags,
        v.handle_rights
    )
}
