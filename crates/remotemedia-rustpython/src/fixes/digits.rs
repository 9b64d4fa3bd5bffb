//! `int()` and `float()` of text in any script. CPython reads every Unicode decimal digit and
//! whitespace character (`int('١٢')` is 12); RustPython 0.5's `int()` reads ASCII only, and its `float()` Unicode 10's digits. Both
//! types' constructors are wrapped: a string argument goes through CPython's
//! `_PyUnicode_TransformDecimalAndSpaceToASCII` first, and when that cannot be read, RustPython's
//! own error (which names the original text) is raised.

use std::sync::OnceLock;

use rustpython::vm::builtins::{PyStr, PyTypeRef};
use rustpython::vm::common::wtf8::Wtf8;
use rustpython::vm::function::FuncArgs;
use rustpython::vm::{AsObject, PyResult, VirtualMachine};

use super::categories::decimal_value;
use super::text::is_space;

type NewFunc = fn(PyTypeRef, FuncArgs, &VirtualMachine) -> PyResult;

/// RustPython's own constructors of `int` and `float`.
static INT_NEW: OnceLock<Option<NewFunc>> = OnceLock::new();
static FLOAT_NEW: OnceLock<Option<NewFunc>> = OnceLock::new();

pub(super) fn apply(vm: &VirtualMachine) {
    let int = &vm.ctx.types.int_type.slots.new;
    if INT_NEW.get_or_init(|| int.load()).is_some() {
        int.store(Some(|cls, args, vm| {
            read_ascii(*INT_NEW.get().unwrap_or(&None), cls, args, vm)
        }));
    }
    let float = &vm.ctx.types.float_type.slots.new;
    if FLOAT_NEW.get_or_init(|| float.load()).is_some() {
        float.store(Some(|cls, args, vm| {
            read_ascii(*FLOAT_NEW.get().unwrap_or(&None), cls, args, vm)
        }));
    }
}

fn read_ascii(original: Option<NewFunc>, cls: PyTypeRef, args: FuncArgs, vm: &VirtualMachine) -> PyResult {
    let Some(original) = original else {
        return Err(vm.new_type_error(format!("cannot create '{}' instances", cls.name())));
    };
    let ascii = args
        .args
        .first()
        .and_then(|x| x.downcast_ref::<PyStr>())
        .and_then(|x| to_ascii(x.as_wtf8()));
    let Some(ascii) = ascii else {
        return original(cls, args, vm);
    };
    let mut read = args.clone();
    read.args[0] = vm.ctx.new_str(ascii).into();
    match original(cls.clone(), read, vm) {
        Err(error) if error.class().is(vm.ctx.exceptions.value_error) => original(cls, args, vm),
        result => result,
    }
}

/// `text` with each non-ASCII decimal digit as its ASCII digit and each non-ASCII whitespace
/// character as a space; `None` when `text` is ASCII already or holds any other non-ASCII code
/// point (which no number has).
fn to_ascii(text: &Wtf8) -> Option<String> {
    if text.is_ascii() {
        return None;
    }
    text.code_points()
        .map(|point| {
            let c = point.to_char()?;
            if c.is_ascii() {
                Some(c)
            } else if is_space(c) {
                Some(' ')
            } else {
                decimal_value(c).map(|d| char::from(b'0' + d))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_of_every_script_read_as_ascii() {
        assert_eq!(to_ascii("١٢".into()).as_deref(), Some("12"));
        assert_eq!(
            to_ascii("\u{3000}-٣.٥e١\u{a0}".into()).as_deref(),
            Some(" -3.5e1 ")
        );
        assert_eq!(to_ascii("12".into()), None);
        assert_eq!(to_ascii("١x٢½".into()), None);
    }
}
