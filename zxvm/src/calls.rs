//! The syscalls a script can name, as zxvm sees them: the syscall table of
//! `zircon_syscall` (names, parameters, kinds), plus which trailing parameters zxvm
//! fills in when a line leaves them off. Calls go through `dispatch`.

use std::sync::LazyLock;
use zircon_syscall::signature::{Arg, Extent, ValueKind, Word};
use zircon_syscall::*;

/// How an argument is passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// A 32-bit value: a handle, options, rights, an op code, a topic.
    U32,
    /// A 64-bit value (`u64` or `usize`; the same width on our targets).
    U64,
    /// A user address (`usize`); a string literal may stand here and is staged in
    /// scratch memory.
    Ptr,
}

/// What zxvm passes for a parameter that a line leaves off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Omit {
    /// The line must give it.
    Required,
    /// Zero (`buffer` and `buffer_size` of the range ops, which take none).
    Zero,
    /// The address of a fresh out-slot; its value is printed and may be bound.
    Out(Word),
    /// The address of zxvm's info buffer.
    InfoBuffer,
    /// The size of zxvm's info buffer.
    InfoSize,
}

/// One parameter of a syscall.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// Its name in Zircon's signature.
    pub name: &'static str,
    /// How it is passed.
    pub ty: Ty,
    /// What zxvm passes when the line leaves it off.
    pub omit: Omit,
}

/// A syscall as a script sees it.
#[derive(Debug)]
pub struct CallSpec {
    /// Its syscall number.
    pub number: u32,
    /// Its Zircon name.
    pub name: &'static str,
    /// Its parameters, in Zircon's order.
    pub params: Vec<Param>,
    /// Whether it answers a handle (a positive value) instead of a status.
    pub returns_handle: bool,
}

impl CallSpec {
    /// The fewest arguments a line may give: every parameter up to the last
    /// required one.
    pub fn min_args(&self) -> usize {
        self.params
            .iter()
            .rposition(|p| p.omit == Omit::Required)
            .map_or(0, |i| i + 1)
    }

    /// Whether `n` arguments is a valid form of the call: between the minimum and
    /// the full count, and not splitting the info buffer from its size.
    pub fn accepts(&self, n: usize) -> bool {
        n >= self.min_args()
            && n <= self.params.len()
            && !(n > 0
                && n < self.params.len()
                && self.params[n - 1].omit == Omit::InfoBuffer
                && self.params[n].omit == Omit::InfoSize)
    }

    /// The out-parameters zxvm supplies when the line gives `n` arguments.
    pub fn outs(&self, n: usize) -> Vec<Word> {
        self.params[n.min(self.params.len())..]
            .iter()
            .filter_map(|p| match p.omit {
                Omit::Out(kind) => Some(kind),
                _ => None,
            })
            .collect()
    }

    /// The signature for error messages: `zx_vmo_create(size, options, [out])`.
    pub fn signature(&self) -> String {
        let min = self.min_args();
        let mut text = format!("{}(", self.name);
        for (i, p) in self.params.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            if i == min {
                text.push('[');
            }
            text.push_str(p.name);
        }
        if min < self.params.len() {
            text.push(']');
        }
        text.push(')');
        text
    }
}

impl CallSpec {
    /// The table entry `call` with zxvm's defaults: out-words get fresh slots, the
    /// buffer and size of a call that reads a record by topic or property get zxvm's
    /// info buffer, a read-write buffer (the range ops') gets none.
    fn from_table(call: &Syscall) -> CallSpec {
        let selects_record = call.params.iter().any(|p| {
            matches!(
                p.arg,
                Arg::Value(ValueKind::Topic) | Arg::Value(ValueKind::Property)
            )
        });
        let mut params: Vec<Param> = call
            .params
            .iter()
            .map(|p| Param {
                name: p.name,
                ty: match p.arg {
                    Arg::Addr | Arg::In(_) | Arg::Out(_) | Arg::InOut(_) | Arg::OutWord(_) => {
                        Ty::Ptr
                    }
                    _ if p.bits == 32 => Ty::U32,
                    _ => Ty::U64,
                },
                omit: match p.arg {
                    Arg::OutWord(word) => Omit::Out(word),
                    _ => Omit::Required,
                },
            })
            .collect();
        for (i, p) in call.params.iter().enumerate() {
            let (buffer, size, sizer) = match p.arg {
                Arg::Out(Extent::SizedBy(n)) if selects_record => {
                    (Omit::InfoBuffer, Omit::InfoSize, n)
                }
                Arg::InOut(Extent::SizedBy(n)) => (Omit::Zero, Omit::Zero, n),
                _ => continue,
            };
            params[i].omit = buffer;
            params[sizer].omit = size;
        }
        CallSpec {
            number: call.number,
            name: call.name,
            params,
            returns_handle: call.returns_handle,
        }
    }
}

/// Every syscall of the surface, in the order of the syscall numbers.
pub static CALLS: LazyLock<Vec<CallSpec>> =
    LazyLock::new(|| SYSCALLS.iter().map(CallSpec::from_table).collect());

/// Looks a syscall up by its Zircon name.
pub fn find(name: &str) -> Option<&'static CallSpec> {
    CALLS.iter().find(|c| c.name == name)
}

/// Every call as a line of `zxvm calls`: its signature and, after `->`, the results
/// zxvm prints and binds when the line leaves the out-parameters off.
pub fn table() -> String {
    let mut text = String::new();
    for call in CALLS.iter() {
        let handle = call.returns_handle.then_some("handle");
        let outs = call
            .params
            .iter()
            .filter(|p| matches!(p.omit, Omit::Out(_)))
            .map(|p| p.name);
        let names: Vec<&str> = handle.into_iter().chain(outs).collect();
        let results = if names.is_empty() {
            String::new()
        } else {
            format!(" -> {}", names.join(", "))
        };
        text.push_str(&format!("{}{results}\n", call.signature()));
    }
    text
}

/// Calls syscall `number` on `p` through `dispatch`, the words of `args` in order
/// and zero for the rest (32-bit parameters have been range-checked by the caller).
/// Returns the status, or, for the calls that return a handle, that handle.
pub fn invoke(p: &Process, number: u32, args: &[u64]) -> i32 {
    let mut words = [0usize; 8];
    for (word, &arg) in words.iter_mut().zip(args) {
        *word = arg as usize;
    }
    p.dispatch(number, words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_of_the_table_can_be_named_with_its_required_arguments() {
        assert_eq!(CALLS.len(), SYSCALLS.len());
        for call in SYSCALLS {
            let spec = find(call.name).expect(call.name);
            assert_eq!(spec.number, call.number);
            assert!(spec.accepts(spec.min_args()), "{}", call.name);
            assert!(spec.accepts(call.params.len()), "{}", call.name);
        }
    }

    #[test]
    fn short_and_full_forms() {
        let map = find("zx_vmar_map").unwrap();
        assert_eq!(map.min_args(), 6);
        assert!(map.accepts(6) && map.accepts(7));
        assert!(!map.accepts(5) && !map.accepts(8));
        assert_eq!(map.outs(6), vec![Word::Address]);
        assert!(map.outs(7).is_empty());

        let info = find("zx_object_get_info").unwrap();
        assert_eq!(info.min_args(), 2);
        assert!(info.accepts(2) && info.accepts(4) && info.accepts(5) && info.accepts(6));
        assert!(!info.accepts(3), "a buffer without its size is refused");
        assert_eq!(info.outs(2), vec![Word::Count, Word::Count]);
        assert_eq!(
            info.signature(),
            "zx_object_get_info(handle, topic, [buffer, buffer_size, actual, avail])"
        );

        let op = find("zx_vmar_op_range").unwrap();
        assert!(op.accepts(4) && op.accepts(6) && !op.accepts(3));
        assert!(op.outs(4).is_empty());

        assert_eq!(
            find("zx_vmar_root_self").unwrap().signature(),
            "zx_vmar_root_self()"
        );
        assert!(find("zx_vmo_creat").is_none());
        let table = table();
        assert_eq!(table.lines().count(), SYSCALLS.len());
        assert!(table.contains("\nzx_vmar_map(vmar, options, vmar_offset, vmo, vmo_offset, len, [mapped_addr]) -> mapped_addr\n"));
        assert!(table.contains("zx_vmar_root_self() -> handle\n"));
    }
}
