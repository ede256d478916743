//! Splitting a script line into tokens, and reading numbers and string literals.

use super::ScriptError;

/// A token of a script line.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    Var(String),
    Num(u64),
    Str(Vec<u8>),
    /// One of [`PUNCTUATION`].
    Punct(&'static str),
}

/// The punctuation and operators of the language, two-character ones first.
const PUNCTUATION: [&str; 11] = ["->", "<<", ">>", "(", ")", ",", "=", "|", "+", "-", "*"];

impl Tok {
    /// The token as an error message names it.
    pub(super) fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Var(s) => format!("`${s}`"),
            Tok::Num(n) => format!("number {n}"),
            Tok::Str(_) => "a string".into(),
            Tok::Punct(p) => format!("`{p}`"),
        }
    }
}

/// The end of the word (letters, digits, `_`) that starts at `from`.
fn word_end(chars: &[char], from: usize) -> usize {
    let is_word = |c: &char| c.is_ascii_alphanumeric() || *c == '_';
    from + chars[from..].iter().take_while(|c| is_word(c)).count()
}

/// Splits a line into tokens with their columns; stops at a `#` outside a string.
pub(super) fn lex(line: usize, text: &str) -> Result<Vec<(Tok, usize)>, ScriptError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        let err = |col: usize, msg: String| ScriptError::new(line, col, msg);
        match c {
            ' ' | '\t' | '\r' => i += 1,
            '#' => break,
            '<' | '>' if chars.get(i + 1) != Some(&c) => {
                return Err(err(
                    col,
                    format!("unexpected `{c}` (shifts are `<<` and `>>`)"),
                ));
            }
            _ if PUNCTUATION.iter().any(|p| p.starts_with(c)) => {
                let here = |p: &&str| {
                    p.chars()
                        .enumerate()
                        .all(|(k, pc)| chars.get(i + k) == Some(&pc))
                };
                let p = PUNCTUATION.into_iter().find(here).unwrap_or("");
                tokens.push((Tok::Punct(p), col));
                i += p.len().max(1);
            }
            '$' => {
                let end = word_end(&chars, i + 1);
                if end == i + 1 {
                    return Err(err(col, "`$` must be followed by a name".into()));
                }
                tokens.push((Tok::Var(chars[i + 1..end].iter().collect()), col));
                i = end;
            }
            '"' => {
                let (bytes, next) = lex_string(&chars, i).map_err(|(at, msg)| err(at + 1, msg))?;
                tokens.push((Tok::Str(bytes), col));
                i = next;
            }
            c if c.is_ascii_digit() => {
                let end = word_end(&chars, i);
                let word: String = chars[i..end].iter().collect();
                tokens.push((
                    Tok::Num(parse_number(&word).map_err(|msg| err(col, msg))?),
                    col,
                ));
                i = end;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let end = word_end(&chars, i);
                tokens.push((Tok::Ident(chars[i..end].iter().collect()), col));
                i = end;
            }
            other => return Err(err(col, format!("unexpected character `{other}`"))),
        }
    }
    Ok(tokens)
}

/// Reads a string literal starting at the quote at `start`; returns its bytes and
/// the index after the closing quote, or the index and text of an error.
fn lex_string(chars: &[char], start: usize) -> Result<(Vec<u8>, usize), (usize, String)> {
    let mut bytes = Vec::new();
    let mut i = start + 1;
    loop {
        let Some(&c) = chars.get(i) else {
            return Err((start, "string is not closed (missing `\"`)".into()));
        };
        match c {
            '"' => return Ok((bytes, i + 1)),
            '\\' => {
                let escape = chars.get(i + 1).copied();
                let byte = match escape {
                    Some('n') => b'\n',
                    Some('t') => b'\t',
                    Some('r') => b'\r',
                    Some('0') => 0,
                    Some('\\') => b'\\',
                    Some('"') => b'"',
                    Some('x') => {
                        let hex: String = chars.iter().skip(i + 2).take(2).collect();
                        let value = (hex.len() == 2)
                            .then(|| u8::from_str_radix(&hex, 16).ok())
                            .flatten()
                            .ok_or((i, format!("bad escape `\\x{hex}`: needs two hex digits")))?;
                        bytes.push(value);
                        i += 4;
                        continue;
                    }
                    Some(other) => return Err((i, format!("unknown escape `\\{other}`"))),
                    None => return Err((start, "string is not closed (missing `\"`)".into())),
                };
                bytes.push(byte);
                i += 2;
            }
            c => {
                let mut buf = [0u8; 4];
                bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                i += 1;
            }
        }
    }
}

/// Parses a number: decimal, `0x` hex, `0o` octal or `0b` binary, `_` separators
/// allowed, optional binary-size suffix `K`, `M`, `G`, `T` (or `KiB` ... `TiB`).
pub fn parse_number(word: &str) -> Result<u64, String> {
    const SUFFIXES: [(&str, u32); 8] = [
        ("KiB", 10),
        ("MiB", 20),
        ("GiB", 30),
        ("TiB", 40),
        ("K", 10),
        ("M", 20),
        ("G", 30),
        ("T", 40),
    ];
    let (body, shift) = SUFFIXES
        .iter()
        .find_map(|&(s, shift)| word.strip_suffix(s).map(|b| (b, shift)))
        .unwrap_or((word, 0));
    let (digits, radix, kind) = if let Some(d) = body.strip_prefix("0x") {
        (d, 16, "hex")
    } else if let Some(d) = body.strip_prefix("0o") {
        (d, 8, "octal")
    } else if let Some(d) = body.strip_prefix("0b") {
        (d, 2, "binary")
    } else {
        (body, 10, "decimal")
    };
    let digits: String = digits.chars().filter(|&c| c != '_').collect();
    if digits.is_empty() {
        return Err(format!("bad number `{word}`: no digits"));
    }
    if let Some(bad) = digits.chars().find(|c| !c.is_digit(radix)) {
        return Err(format!(
            "bad number `{word}`: `{bad}` is not a {kind} digit"
        ));
    }
    let too_big = || format!("number `{word}` does not fit in 64 bits");
    let value = u64::from_str_radix(&digits, radix).map_err(|_| too_big())?;
    value.checked_mul(1u64 << shift).ok_or_else(too_big)
}
