//! `bytes`/`bytearray` `isalpha`, `isalnum`, `isspace` and `istitle`: RustPython 0.5 reads bytes
//! 0x80-0xFF as Latin-1 letters (and misses `\x0b` as space); CPython's bytes methods know ASCII
//! only. Replaced by ASCII versions.

use rustpython::vm::PyRef;
use rustpython::vm::VirtualMachine;
use rustpython::vm::builtins::{PyByteArray, PyBytes};
use rustpython::vm::function::{PyMethodDef, PyMethodFlags};

use super::replace_methods;

pub(super) fn apply(vm: &VirtualMachine) {
    replace_methods(vm, vm.ctx.types.bytes_type, bytes_methods());
    replace_methods(vm, vm.ctx.types.bytearray_type, bytearray_methods());
}

/// The ASCII predicates of `bytes` and `bytearray`.
fn bytes_methods() -> Vec<PyMethodDef> {
    let m = PyMethodFlags::METHOD;
    vec![
        PyMethodDef::new_const("isalpha", |b: PyRef<PyBytes>| is_alpha(b.as_bytes()), m, None),
        PyMethodDef::new_const("isalnum", |b: PyRef<PyBytes>| is_alnum(b.as_bytes()), m, None),
        PyMethodDef::new_const("isspace", |b: PyRef<PyBytes>| is_space(b.as_bytes()), m, None),
        PyMethodDef::new_const("istitle", |b: PyRef<PyBytes>| is_title(b.as_bytes()), m, None),
    ]
}

fn bytearray_methods() -> Vec<PyMethodDef> {
    let m = PyMethodFlags::METHOD;
    vec![
        PyMethodDef::new_const(
            "isalpha",
            |b: PyRef<PyByteArray>| is_alpha(&b.borrow_buf()),
            m,
            None,
        ),
        PyMethodDef::new_const(
            "isalnum",
            |b: PyRef<PyByteArray>| is_alnum(&b.borrow_buf()),
            m,
            None,
        ),
        PyMethodDef::new_const(
            "isspace",
            |b: PyRef<PyByteArray>| is_space(&b.borrow_buf()),
            m,
            None,
        ),
        PyMethodDef::new_const(
            "istitle",
            |b: PyRef<PyByteArray>| is_title(&b.borrow_buf()),
            m,
            None,
        ),
    ]
}

fn is_alpha(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(u8::is_ascii_alphabetic)
}

fn is_alnum(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(u8::is_ascii_alphanumeric)
}

fn is_space(b: &[u8]) -> bool {
    !b.is_empty()
        && b.iter()
            .all(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
}

/// CPython's `bytes.istitle`: at least one cased byte; uppercase only after uncased ones,
/// lowercase only after cased ones (ASCII).
fn is_title(b: &[u8]) -> bool {
    let (mut cased, mut previous_cased) = (false, false);
    for c in b {
        if c.is_ascii_uppercase() {
            if previous_cased {
                return false;
            }
            previous_cased = true;
            cased = true;
        } else if c.is_ascii_lowercase() {
            if !previous_cased {
                return false;
            }
            previous_cased = true;
            cased = true;
        } else {
            previous_cased = false;
        }
    }
    cased
}
