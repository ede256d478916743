//! Unit tests of the script parser.

use super::lex::parse_number;
use super::*;

fn one(text: &str) -> Statement {
    let script = parse(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
    assert_eq!(script.statements.len(), 1);
    script.statements.into_iter().next().unwrap()
}

fn err(text: &str) -> ScriptError {
    let errors = parse(text).expect_err(text);
    errors.into_iter().next().unwrap()
}

#[test]
fn numbers_in_every_base_with_suffixes() {
    assert_eq!(parse_number("4096"), Ok(4096));
    assert_eq!(parse_number("0x1000"), Ok(4096));
    assert_eq!(parse_number("0b1_0000"), Ok(16));
    assert_eq!(parse_number("0o17"), Ok(15));
    assert_eq!(parse_number("1_000"), Ok(1000));
    assert_eq!(parse_number("64K"), Ok(64 << 10));
    assert_eq!(parse_number("3MiB"), Ok(3 << 20));
    assert_eq!(parse_number("1G"), Ok(1 << 30));
    assert_eq!(parse_number("0x10M"), Ok(16 << 20));
    assert_eq!(parse_number("0xffff_ffff_ffff_ffff"), Ok(u64::MAX));
    assert!(parse_number("12q")
        .unwrap_err()
        .contains("`q` is not a decimal digit"));
    assert!(parse_number("0x").unwrap_err().contains("no digits"));
    assert!(parse_number("0x1_0000_0000_0000_0000")
        .unwrap_err()
        .contains("does not fit"));
    assert!(parse_number("16777216T")
        .unwrap_err()
        .contains("does not fit"));
    assert!(parse_number("0b102").unwrap_err().contains("binary digit"));
}

#[test]
fn a_full_line_parses_into_bindings_call_args_and_expectation() {
    let s = one("$vmar, $addr = zx_vmar_allocate($root, ZX_VM_CAN_MAP_READ | VM_CAN_MAP_WRITE, 0, 1G) # reserve");
    assert_eq!(s.line, 1);
    assert_eq!(
        s.text,
        "$vmar, $addr = zx_vmar_allocate($root, ZX_VM_CAN_MAP_READ | VM_CAN_MAP_WRITE, 0, 1G)"
    );
    assert_eq!(s.bindings.len(), 2);
    assert_eq!(s.bindings[1].name.as_deref(), Some("addr"));
    assert_eq!(s.target.name(), "zx_vmar_allocate");
    assert_eq!(s.target_col, 16);
    assert_eq!(s.args.len(), 4);
    assert_eq!(s.args[0].expr, Expr::Var("root".into(), 33));
    assert_eq!(
        s.args[1].expr.eval(&|_, _| Err(EvalError::NotConstant)),
        Ok(0x180)
    );
    assert_eq!(s.args[3].expr, Expr::Num(1 << 30));
    assert_eq!(s.expect, Expect::OneOf(vec![0]));
}

#[test]
fn expectations_any_one_or_several() {
    let s = one("zx_vmar_unmap($root, 1, 4096) -> ZX_ERR_INVALID_ARGS");
    assert_eq!(s.expect, Expect::OneOf(vec![-10]));
    let s = one("zx_vmo_read(0, $scratch, 0, 1) -> BAD_HANDLE | ZX_ERR_WRONG_TYPE");
    assert_eq!(s.expect, Expect::OneOf(vec![-11, -12]));
    assert!(s.expect.accepts(-12) && !s.expect.accepts(0));
    let s = one("dispatch(99, 1, 2) -> *");
    assert_eq!(s.expect, Expect::Any);
    assert!(s.expect.accepts(-13));
}

#[test]
fn arithmetic_has_precedence_and_catches_overflow() {
    let s = one("$a = zx_vmo_create(1 + 2 * 3 << 1 | 0x100, 0)");
    assert_eq!(
        s.args[0].expr.eval(&|_, _| Err(EvalError::NotConstant)),
        Ok(0x10e)
    );
    let s = one("$a = zx_vmo_create((1 + 2) * 4096, 0)");
    assert_eq!(
        s.args[0].expr.eval(&|_, _| Err(EvalError::NotConstant)),
        Ok(3 * 4096)
    );
    let e = err("zx_vmo_create(0xffff_ffff_ffff_ffff + 1, 0)");
    assert_eq!((e.line, e.col), (1, 37));
    assert!(
        e.message.contains("does not fit in 64 bits"),
        "{}",
        e.message
    );
    let e = err("zx_vmo_create(1 << 64, 0)");
    assert!(e.message.contains("does not fit"));
    let e = err("zx_vmo_create(0 - 1, 0)");
    assert_eq!(e.col, 17);
}

#[test]
fn variables_resolve_at_run_time() {
    let s = one("zx_vmar_unmap($root, $scratch + 0x1000, 4096)");
    let value = s.args[1].expr.eval(&|name, _| match name {
        "scratch" => Ok(0x7000_0000),
        _ => Err(EvalError::NotConstant),
    });
    assert_eq!(value, Ok(0x7000_1000));
}

#[test]
fn strings_with_escapes_stand_for_pointers() {
    let s = one(r#"write_memory($scratch, "a\"b\x41\n#x") # not part"#);
    assert_eq!(s.args[1].expr, Expr::Str(b"a\"bA\n#x".to_vec()));
    assert_eq!(s.text, r#"write_memory($scratch, "a\"b\x41\n#x")"#);
    let e = err(r#"zx_vmo_create("abc", 0)"#);
    assert!(e.message.contains("`size` takes a number"));
    let e = err(r#"zx_vmo_write(1, "ab" + 1, 0, 2)"#);
    assert!(e.message.contains("whole argument"));
    let e = err(r#"write_memory($scratch, "abc)"#);
    assert_eq!(e.col, 24);
    assert!(e.message.contains("not closed"));
    let e = err(r#"write_memory($scratch, "\q")"#);
    assert!(e.message.contains("unknown escape"));
    let e = err("write_memory($scratch, 5)");
    assert!(e.message.contains("must be a string literal"));
}

#[test]
fn unknown_calls_constants_and_statuses_are_named_with_a_suggestion() {
    let e = err("$v = zx_vmo_creat(4096, 0)");
    assert_eq!((e.line, e.col), (1, 6));
    assert_eq!(
        e.message,
        "unknown call `zx_vmo_creat` (did you mean `zx_vmo_create`?)"
    );
    let e = err("zx_vmar_map($root, ZX_VM_PERM_RAED, 0, 1, 0, 4096)");
    assert_eq!(e.col, 20);
    assert!(e
        .message
        .contains("unknown constant `ZX_VM_PERM_RAED` (did you mean `ZX_VM_PERM_READ`?)"));
    let e = err("zx_handle_close(1) -> ZX_ERR_BAD_HANDEL");
    assert_eq!(e.col, 23);
    assert!(e.message.contains("did you mean `ZX_ERR_BAD_HANDLE`"));
    let e = err("frobnicate()");
    assert_eq!(e.message, "unknown call `frobnicate`");
}

#[test]
fn bad_numbers_point_at_the_number() {
    let e = err("$v = zx_vmo_create(12x4, 0)");
    assert_eq!((e.line, e.col), (1, 20));
    assert!(e.message.contains("bad number `12x4`"));
    let e = err("\n\n  zx_handle_close(0x)");
    assert_eq!((e.line, e.col), (3, 19));
}

#[test]
fn undefined_names_are_caught_before_anything_runs() {
    let e = err("$a = zx_vmo_create(4096, 0)\nzx_handle_close($b)");
    assert_eq!((e.line, e.col), (2, 17));
    assert!(e.message.starts_with("undefined name `$b`"));
    // A name is bound only from the line after its binding.
    let e = err("$a = zx_vmo_create($a, 0)");
    assert!(e.message.starts_with("undefined name `$a`"));
    let e = err("$root = zx_vmo_create(1, 0)");
    assert!(e.message.contains("predefined"));
    let e = err("$a, $a = zx_vmar_allocate($root, 0, 0, 4096)");
    assert!(e.message.contains("bound twice"));
    assert!(parse(
        "$a = zx_vmo_create(4096, 0)\n$b = zx_handle_duplicate($a, ZX_RIGHT_SAME_RIGHTS)"
    )
    .is_ok());
}

#[test]
fn arity_and_results_are_checked() {
    let e = err("zx_vmo_create(4096)");
    assert_eq!(
        e.message,
        "`zx_vmo_create` takes 2 or 3 arguments, got 1: zx_vmo_create(size, options, [out])"
    );
    let e = err("zx_object_get_info($process, ZX_INFO_PROCESS_MAPS, $scratch)");
    assert!(e.message.contains("takes 2, 4, 5 or 6 arguments, got 3"));
    let e = err("maps(1)");
    assert!(e.message.contains("takes 0 arguments"));
    let e = err("$a, $b = zx_vmo_create(4096, 0)");
    assert_eq!(e.col, 5);
    assert!(e
        .message
        .contains("gives 1 result here, but 2 names are bound"));
    let e = err("$a = zx_vmo_create(4096, 0, $scratch)");
    assert!(e.message.contains("passes its own out-pointers"));
    let e = err("$a = zx_vmo_create(4096, 0) -> ZX_ERR_NO_MEMORY");
    assert!(e.message.contains("expects a failure"));
    assert!(parse("$a = zx_vmo_create(4096, 0) -> ZX_OK | ZX_ERR_NO_MEMORY").is_ok());
    assert!(parse("_, $addr = zx_vmar_allocate($root, 0, 0, 4096)").is_ok());
    assert!(parse("$r = zx_vmar_root_self()").is_ok());
    let e = err("zx_vmo_set_cache_policy(1, 0x1_0000_0000)");
    assert!(e.message.contains("32-bit value"));
}

#[test]
fn syntax_errors_say_what_was_expected() {
    assert!(err("zx_handle_close 1")
        .message
        .contains("expected `(` after `zx_handle_close`"));
    assert!(err("zx_handle_close(1")
        .message
        .contains("expected `,` or `)`, found the end of the line"));
    assert!(err("zx_handle_close(1) 2")
        .message
        .contains("unexpected number 2 after the call"));
    assert!(err("zx_handle_close(1) ->")
        .message
        .contains("expected a status name"));
    assert!(err("$a zx_vmo_create(1, 0)")
        .message
        .contains("expected `,` or `=`"));
    assert!(err("zx_handle_close(1 < 2)").message.contains("shifts are"));
    assert!(err("zx_handle_close(@)")
        .message
        .contains("unexpected character `@`"));
    assert!(err("zx_handle_close(,)")
        .message
        .contains("expected a value"));
    assert!(err("$ = zx_handle_close(1)")
        .message
        .contains("must be followed by a name"));
}

#[test]
fn blank_and_comment_lines_are_skipped_and_every_bad_line_is_reported() {
    let script = parse("# header\n\n   \nzx_handle_close(1) # trailing\n").unwrap();
    assert_eq!(script.statements.len(), 1);
    assert_eq!(script.statements[0].line, 4);
    let errors = parse("nope()\nzx_handle_close(1)\nzx_vmo_create(1)").unwrap_err();
    assert_eq!(
        errors.iter().map(|e| e.line).collect::<Vec<_>>(),
        vec![1, 3]
    );
}

#[test]
fn errors_render_with_a_caret_under_the_column() {
    let e = err("  zx_vmo_creat(1, 0)");
    let text = e.render("t.zx", "  zx_vmo_creat(1, 0)");
    assert_eq!(
        text,
        "error: t.zx:1:3: unknown call `zx_vmo_creat` (did you mean `zx_vmo_create`?)\n  |\n1 |   zx_vmo_creat(1, 0)\n  |   ^\n\n"
    );
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    /// Pieces of real lines, so random scripts reach deep into the parser.
    const PIECES: &[&str] = &[
        "$vmo",
        "$root",
        "$x",
        "_",
        "=",
        ",",
        "(",
        ")",
        "->",
        "*",
        "|",
        "+",
        "-",
        "<<",
        ">>",
        "zx_vmo_create",
        "zx_vmar_map",
        "zx_object_get_info",
        "dispatch",
        "write_memory",
        "maps",
        "ZX_VM_PERM_READ",
        "ZX_OK",
        "ZX_ERR_BAD_HANDLE",
        "0x",
        "0xffff_ffff_ffff_ffff",
        "18446744073709551616",
        "1G",
        "12q",
        "\"",
        "\"a\\x4",
        "\\",
        "#",
        " ",
        "\n",
        "\u{e9}",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn arbitrary_text_gives_statements_or_placed_errors(text in "\\PC{0,80}") {
            check(&text);
        }

        #[test]
        fn scripts_made_of_real_pieces_give_statements_or_placed_errors(
            pieces in proptest::collection::vec(proptest::sample::select(PIECES), 0..30)
        ) {
            check(&pieces.concat());
        }
    }

    fn check(text: &str) {
        match parse(text) {
            Ok(script) => {
                for s in &script.statements {
                    assert!(s.line >= 1 && s.line <= text.lines().count());
                }
            }
            Err(errors) => {
                assert!(!errors.is_empty());
                for e in &errors {
                    let line = text.lines().nth(e.line - 1).expect("error on a real line");
                    assert!(
                        e.col >= 1 && e.col <= line.chars().count() + 1,
                        "{e:?} in {line:?}"
                    );
                    assert!(!e.render("f", text).is_empty());
                }
            }
        }
    }
}

#[test]
fn builtin_signatures_give_names_counts_and_string_arguments() {
    let d = Builtin::Dispatch;
    assert_eq!((d.name(), d.min_args(), d.max_args()), ("dispatch", 1, 9));
    let t = Builtin::Touch;
    assert_eq!((t.min_args(), t.max_args(), t.param(3)), (3, 4, "first"));
    assert!(Builtin::WriteMemory.string_arg(1) && !Builtin::WriteMemory.string_arg(0));
    assert_eq!(Builtin::Maps.max_args(), 0);
    assert_eq!(Builtin::by_name("check_vmo"), Some(Builtin::CheckVmo));
    assert!(Builtin::CheckVmo.is_check() && Builtin::Peek.is_check());
    assert!(!Builtin::Poke.is_check());
    for (b, _) in BUILTINS {
        assert_eq!(Builtin::by_name(b.name()), Some(*b));
    }
}
