//! Running a parsed script against a process: evaluating arguments, supplying
//! out-parameters, calling, printing each status and result, binding names, and
//! checking each status against the line's expectation.

use crate::calls::{self, CallSpec, Omit, Ty};
use crate::info::{MapEntry, PAGE_SIZE};
use crate::script::{Builtin, EvalError, Expr, Script, ScriptError, Statement, Target};
use crate::session::{MapsReport, Session, INFO_SIZE, STAGE_SIZE};
use crate::{fmt, info, maps, status};
use std::collections::HashMap;
use std::io::{self, Write};
use zircon_syscall::records::info_record_size;
use zircon_syscall::signature::Word;
use zircon_syscall::*;

/// The most bytes `read_memory` copies in one line.
const MAX_READ: u64 = 1 << 20;
/// The most strides `touch` and `check_stride` visit in one line.
const MAX_STEPS: u64 = 1 << 16;
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
    /// The map the last `maps()` printed.
    last_map: Option<Vec<MapEntry>>,
    /// Check lines that held.
    pub checks_passed: usize,
}

impl<'a, W: Write> Runner<'a, W> {
    /// A runner printing to `out`, with `$root`, `$process`, `$scratch`,
    /// `$root_resource` and `$device` bound.
    pub fn new(session: &'a Session, out: W, options: RunOptions) -> Self {
        let p = session.process();
        let mut vars = HashMap::new();
        vars.insert("root".into(), Slot::Value(u64::from(p.zx_vmar_root_self())));
        vars.insert(
            "process".into(),
            Slot::Value(u64::from(p.zx_process_self())),
        );
        vars.insert("scratch".into(), Slot::Value(session.script_area() as u64));
        vars.insert(
            "root_resource".into(),
            Slot::Value(u64::from(session.root_resource())),
        );
        vars.insert(
            "device".into(),
            Slot::Value(session.device_memory().0 as u64),
        );
        Runner {
            session,
            out,
            vars,
            options,
            last_map: None,
            checks_passed: 0,
        }
    }

    /// Runs every statement in order.
    ///
    /// # Errors
    /// Only a failure to write the output.
    pub fn run(&mut self, script: &Script) -> io::Result<Outcome> {
        let mut failures = Vec::new();
        let mut headings = script.headings.iter().peekable();
        for statement in &script.statements {
            while let Some((_, title)) = headings.next_if(|h| h.0 < statement.line) {
                if !self.options.quiet {
                    writeln!(self.out, "\n-- {title}")?;
                }
            }
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
                Target::Builtin(Builtin::Dispatch) if i == 0 => Ty::U32,
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
        let steps = match s.target {
            Target::Builtin(Builtin::Touch) => args[1].div_ceil(args[2].max(1)),
            Target::Builtin(Builtin::CheckStride) => args[2].div_ceil(args[3].max(1)),
            _ => 0,
        };
        if steps > MAX_STEPS {
            return Ok(Err(ScriptError {
                line: s.line,
                col: s.target_col,
                message: format!("`{}` visits at most {MAX_STEPS} strides", s.target.name()),
            }));
        }
        if matches!(s.target, Target::Builtin(Builtin::ReadMemory)) && args[1] > MAX_READ {
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
            Target::Builtin(b) => self.builtin(b, s, &args, &mut notes, &mut check_failed),
        };
        if check_failed.is_none() && s.is_check() {
            self.checks_passed += 1;
        }

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
        let status = match calls::invoke(self.session.process(), spec.number, &full) {
            handle if spec.returns_handle && handle >= 0 => {
                let kind = Word::NewHandle(ZX_OBJ_TYPE_NONE);
                results.push(Output {
                    param: "handle",
                    kind,
                    value: handle as u64,
                });
                ZX_OK
            }
            status => status,
        };
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

    // `syscall` and `builtin` share a parameter shape (the line, its values, where
    // to put notes), nothing more.
    /// Runs a built-in; a check that does not hold sets `failed`.
    fn builtin(
        &mut self,
        b: Builtin,
        s: &Statement,
        a: &[u64],
        notes: &mut Vec<String>,
        failed: &mut Option<String>,
    ) -> i32 {
        let p = self.session.process();
        let mut check = |ok: bool, msg: &dyn Fn() -> String| {
            if !ok {
                *failed = Some(msg());
            }
        };
        let result: Result<(), i32> = (|| {
            match b {
                Builtin::Dispatch => match calls::invoke(p, a[0] as u32, &a[1..]) {
                    ZX_OK => {}
                    status => return Err(status),
                },
                Builtin::ReadMemory => notes.push(show_bytes(
                    &self.session.read_bytes(a[0] as usize, a[1] as usize)?,
                )),
                Builtin::WriteMemory => p.write_memory(a[0] as usize, string_arg(s, 1))?,
                Builtin::CheckMemory => {
                    let want = string_arg(s, 1);
                    let got = self.session.read_bytes(a[0] as usize, want.len())?;
                    check(got == want, &|| reads("memory", a[0], &got, want));
                }
                Builtin::Poke => {
                    let bytes = string_arg(s, 1);
                    self.permitted(a[0], bytes.len() as u64, ZX_VM_PERM_WRITE)?;
                    for (i, &byte) in bytes.iter().enumerate() {
                        poke(a[0] as usize + i, byte);
                    }
                }
                Builtin::Peek => {
                    let want = string_arg(s, 1);
                    self.permitted(a[0], want.len() as u64, ZX_VM_PERM_READ)?;
                    let got: Vec<u8> = (0..want.len()).map(|i| peek(a[0] as usize + i)).collect();
                    check(got == want, &|| reads("a pointer", a[0], &got, want));
                }
                Builtin::Touch => {
                    let (addr, len, stride) = (a[0], a[1], a[2].max(1));
                    self.permitted(addr, len, ZX_VM_PERM_WRITE)?;
                    let first = a.get(3).copied().unwrap_or(1);
                    for i in 0..len.div_ceil(stride) {
                        poke((addr + i * stride) as usize, first.wrapping_add(i) as u8);
                    }
                    notes.push(format!(
                        "wrote {} bytes through a pointer, one every {}",
                        len.div_ceil(stride),
                        fmt::size(stride)
                    ));
                }
                Builtin::CheckStride => {
                    let (vmo, offset, len, stride, first) =
                        (a[0] as u32, a[1], a[2], a[3].max(1), a[4]);
                    let buf = self.session.stage_addr();
                    for i in 0..len.div_ceil(stride) {
                        let status = p.zx_vmo_read(vmo, buf, offset.wrapping_add(i * stride), 1);
                        if status != ZX_OK {
                            return Err(status);
                        }
                        let got = self.session.read_bytes(buf, 1)?[0];
                        let want = if first == 0 {
                            0
                        } else {
                            first.wrapping_add(i) as u8
                        };
                        if got != want {
                            check(false, &|| {
                                format!(
                                    "byte at {:#x} is {got}, expected {want}",
                                    offset.wrapping_add(i * stride)
                                )
                            });
                            break;
                        }
                    }
                }
                Builtin::CheckVmo => {
                    let info = self.session.info::<VmoInfo>(a[0] as u32, ZX_INFO_VMO)?;
                    let pages = info.committed_bytes / PAGE_SIZE;
                    check(pages == a[1], &|| {
                        format!("{pages} pages committed, expected {}", a[1])
                    });
                    if let Some(&want) = a.get(2) {
                        let n = info.num_mappings as u64;
                        check(n == want, &|| format!("{n} mappings, expected {want}"));
                    }
                }
                Builtin::CheckMappings => {
                    let n = self.mappings_of(a[0] as u32)?.len() as u64;
                    check(n == a[1], &|| format!("{n} mappings, expected {}", a[1]));
                }
                Builtin::CheckMapping => {
                    let all = self.mappings_of(a[0] as u32)?;
                    let got = all.get(a[1] as usize).map(|e| {
                        let m = e.mapping.clone().unwrap_or_default();
                        [
                            e.base,
                            e.size,
                            u64::from(m.mmu_flags),
                            m.vmo_offset,
                            m.committed_pages,
                        ]
                    });
                    let found = || match got {
                        Some([base, size, perms, offset, pages]) => format!(
                            "mapping {} is {base:#x} +{} {} at VMO offset {offset:#x} with {pages} \
                             pages committed",
                            a[1],
                            fmt::size(size),
                            fmt::perms(perms as u32)
                        ),
                        None => format!("the VMO has {} mappings", all.len()),
                    };
                    check(
                        got.as_ref() == Some(&[a[2], a[3], a[4], a[5], a[6]]),
                        &found,
                    );
                }
                Builtin::CheckVmar => {
                    let info = self.session.info::<VmarInfo>(a[0] as u32, ZX_INFO_VMAR)?;
                    let got = (info.base as u64, info.len as u64);
                    check(got == (a[1], a[2]), &|| {
                        format!("base {:#x}, len {:#x}", got.0, got.1)
                    });
                }
                Builtin::CheckUnmapped => {
                    let entries = self.session.maps()?.entries;
                    let end = a[0].saturating_add(a[1]);
                    let hit = entries
                        .iter()
                        .find(|e| e.mapping.is_some() && e.base < end && e.end() > a[0]);
                    check(hit.is_none(), &|| {
                        format!("{:?} is mapped there", hit.map_or("", |e| e.name.as_str()))
                    });
                }
                Builtin::CheckHandle => {
                    let (h, same) = (self.basic(a[0])?, self.basic(a[1])?);
                    check(h.koid == same.koid && u64::from(h.rights) == a[2], &|| {
                        format!(
                            "koid {} (expected {}), rights {:#x}",
                            h.koid, same.koid, h.rights
                        )
                    });
                }
                Builtin::CheckMapsUnchanged => {
                    let now = self.session.maps()?.entries;
                    let before = self.last_map.clone().unwrap_or_default();
                    check(now == before, &|| {
                        format!("{} entries before, {} now", before.len(), now.len())
                    });
                }
                Builtin::Maps => {
                    let report = self.session.maps()?;
                    notes.push(maps::render(&report).trim_end().to_string());
                    self.last_map = Some(report.entries);
                }
            }
            Ok(())
        })();
        match result {
            Ok(()) => ZX_OK,
            Err(status) => status,
        }
    }

    /// `ZX_INFO_HANDLE_BASIC` of `handle`.
    fn basic(&self, handle: u64) -> Result<HandleBasic, i32> {
        self.session.info(handle as u32, ZX_INFO_HANDLE_BASIC)
    }

    /// The mappings of the VMO behind `vmo`, in address order.
    fn mappings_of(&self, vmo: u32) -> Result<Vec<MapEntry>, i32> {
        let koid = self.basic(u64::from(vmo))?.koid;
        let entries = self.session.maps()?.entries;
        Ok(entries
            .into_iter()
            .filter(|e| e.mapping.as_ref().is_some_and(|m| m.vmo_koid == koid))
            .collect())
    }

    /// `Ok` if the map shows every byte of `[addr, addr + len)` inside mappings that
    /// allow `perm`, so that a pointer access there is served, not a fatal fault;
    /// else `ZX_ERR_INVALID_ARGS`, the status of a kernel copy that faults.
    fn permitted(&self, addr: u64, len: u64, perm: u32) -> Result<(), i32> {
        let entries = self.session.maps()?.entries;
        if covered(&entries, addr, len, perm) {
            Ok(())
        } else {
            Err(ZX_ERR_INVALID_ARGS)
        }
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
                let actual = self.session.read_word(a[4] as usize, 8).ok();
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
                    } else if let Ok(size) = <[u8; 8]>::try_from(bytes) {
                        notes.push(format!("content size = {}", u64::from_le_bytes(size)));
                    }
                }
            }
            SYS_OBJECT_GET_INFO => {
                let actual = self
                    .session
                    .read_word(a[4] as usize, 8)
                    .ok()
                    .map(|n| n as usize);
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

/// `memory at 0x1000 reads "ab", expected "ac"`: what a read through `via` found.
fn reads(via: &str, addr: u64, got: &[u8], want: &[u8]) -> String {
    let (got, want) = (fmt::quoted_bytes(got), fmt::quoted_bytes(want));
    format!("{via} at {addr:#x} reads {got}, expected {want}")
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
    let size = info_record_size(topic)?;
    // The topic's one record, if the buffer held all of it.
    let one = || read(size as u64).filter(|b| b.len() == size);
    let records = || read(actual?.saturating_mul(size) as u64);
    match topic {
        ZX_INFO_HANDLE_BASIC => {
            let h = HandleBasic::read_from(&one()?);
            Some(format!(
                "koid {}, type {}, rights {:#x}",
                h.koid,
                info::obj_type_name(h.obj_type),
                h.rights
            ))
        }
        ZX_INFO_VMAR => {
            let v = VmarInfo::read_from(&one()?);
            Some(format!(
                "base {:#x}, len {:#x} ({})",
                v.base,
                v.len,
                fmt::size(v.len as u64)
            ))
        }
        ZX_INFO_VMO | ZX_INFO_VMO_V1 | ZX_INFO_VMO_V2 => {
            Some(describe_vmo(&VmoInfo::read_from(&one()?)))
        }
        ZX_INFO_PROCESS_MAPS | ZX_INFO_PROCESS_MAPS_V1 => {
            let entries = MapEntry::decode_all(&records()?, topic);
            let avail = entries.len();
            Some(
                maps::render(&MapsReport { entries, avail })
                    .trim_end()
                    .to_string(),
            )
        }
        ZX_INFO_PROCESS_VMOS | ZX_INFO_PROCESS_VMOS_V1 | ZX_INFO_PROCESS_VMOS_V2 => {
            let lines: Vec<String> = records()?
                .chunks_exact(size)
                .map(|r| describe_vmo(&VmoInfo::read_from(r)))
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
        fmt::quoted_bytes(v.name()),
        fmt::size(v.size_bytes),
        fmt::size(v.committed_bytes),
        v.num_mappings,
        v.num_children,
        v.flags,
        v.handle_rights
    )
}

/// Whether mappings that allow `perm` cover every byte of `[addr, addr + len)`.
fn covered(entries: &[MapEntry], addr: u64, len: u64, perm: u32) -> bool {
    let Some(end) = addr.checked_add(len) else {
        return false;
    };
    let mut at = addr;
    while at < end {
        let next = entries.iter().find(|e| {
            e.mapping
                .as_ref()
                .is_some_and(|m| m.mmu_flags & perm == perm)
                && e.base <= at
                && at < e.end()
        });
        match next {
            Some(e) => at = e.end(),
            None => return false,
        }
    }
    true
}

/// Stores `byte` at user address `addr` through a plain pointer.
fn poke(addr: usize, byte: u8) {
    // SAFETY: the caller found `addr` inside a writable mapping of this process's
    // address space (`permitted`). On the unix backend a user address is the host
    // address of that mapping, and a first touch is demand-paged by the HAL's fault
    // handler. The memory is no Rust object, so no reference aliases it; volatile
    // keeps the store.
    unsafe { (addr as *mut u8).write_volatile(byte) };
}

/// Loads the byte at user address `addr` through a plain pointer.
fn peek(addr: usize) -> u8 {
    // SAFETY: as in `poke`, with read permission: the caller found `addr` inside a
    // readable mapping of this process, reached at its host address.
    unsafe { (addr as *const u8).read_volatile() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::info::{EntryKind, MappingInfo};

    fn mapping(base: u64, size: u64, flags: u32) -> MapEntry {
        MapEntry {
            name: "m".into(),
            base,
            size,
            depth: 2,
            kind: EntryKind::Mapping,
            mapping: Some(MappingInfo {
                mmu_flags: flags,
                vmo_koid: 1,
                vmo_offset: 0,
                committed_pages: 0,
                pager: None,
            }),
        }
    }

    #[test]
    fn raw_access_needs_every_byte_covered_with_the_permission() {
        let rw = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE;
        let map = vec![
            mapping(0x1000, 0x1000, rw),
            mapping(0x2000, 0x1000, rw),
            mapping(0x4000, 0x1000, ZX_VM_PERM_READ),
        ];
        assert!(
            covered(&map, 0x1ff8, 16, ZX_VM_PERM_WRITE),
            "across two mappings"
        );
        assert!(
            !covered(&map, 0x2ff8, 16, ZX_VM_PERM_READ),
            "runs into a gap"
        );
        assert!(covered(&map, 0x4000, 16, ZX_VM_PERM_READ));
        assert!(!covered(&map, 0x4000, 16, ZX_VM_PERM_WRITE), "read-only");
        assert!(
            !covered(&map, u64::MAX - 4, 16, ZX_VM_PERM_READ),
            "overflow"
        );
        assert!(!covered(&[], 0x1000, 1, ZX_VM_PERM_READ));
    }
}
