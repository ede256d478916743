//! Splitting a script line into tokens, and reading numbers and string literals.

use super::ScriptError;

/// A token of a script line.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    Var(String),
    Num(u64),
    Str(Vec<u8>),
    LParen,
    RParen,
    Comma,
    Assign,
    Pipe,
    Plus,
    Minus,
    Star,
    Shl,
    Shr,
    Arrow,
}

impl Tok {
    /// The token as an error message names it.
    pub(super) fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Var(s) => format!("`${s}`"),
            Tok::Num(n) => format!("number {n}"),
            Tok::Str(_) => "a string".into(),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Assign => "`=`".into(),
            Tok::Pipe => "`|`".into(),
            Tok::Plus => "`+`".into(),
            Tok::Minus => "`-`".into(),
            Tok::Star => "`*`".into(),
            Tok::Shl => "`<<`".into(),
            Tok::Shr => "`>>`".into(),
            Tok::Arrow => "`->`".into(),
        }
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
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
            '(' | ')' | ',' | '=' | '|' | '+' | '*' => {
                tokens.push((
                    match c {
                        '(' => Tok::LParen,
                        ')' => Tok::RParen,
                        ',' => Tok::Comma,
                        '=' => Tok::Assign,
                        '|' => Tok::Pipe,
                        '+' => Tok::Plus,
                        _ => Tok::Star,
                    },
                    col,
                ));
                i += 1;
            }
            '-' if chars.get(i + 1) == Some(&'>') => {
                tokens.push((Tok::Arrow, col));
                i += 2;
            }
            '-' => {
                tokens.push((Tok::Minus, col));
                i += 1;
            }
            '<' | '>' => {
                if chars.get(i + 1) != Some(&c) {
                    return Err(err(
                        col,
                        format!("unexpected `{c}` (shifts are `<<` and `>>`)"),
                    ));
                }
                tokens.push((if c == '<' { Tok::Shl } else { Tok::Shr }, col));
                i += 2;
            }
            '$' => {
                let start = i + 1;
                let mut end = start;
                while end < chars.len() && is_ident_char(chars[end]) {
                    end += 1;
                }
                if end == start {
                    return Err(err(col, "`$` must be followed by a name".into()));
                }
                tokens.push((Tok::Var(chars[start..end].iter().collect()), col));
                i = end;
            }
            '"' => {
                let (bytes, next) = lex_string(&chars, i).map_err(|(at, msg)| err(at + 1, msg))?;
                tokens.push((Tok::Str(bytes), col));
                i = next;
            }
            c if c.is_ascii_digit() => {
                let mut end = i;
                while end < chars.len() && is_ident_char(chars[end]) {
                    end += 1;
                }
                let word: String = chars[i..end].iter().collect();
                let value = parse_number(&word).map_err(|msg| err(col, msg))?;
                tokens.push((Tok::Num(value), col));
                i = end;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut end = i;
                while end < chars.len() && is_ident_char(chars[end]) {
                    end += 1;
                }
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
