//! Corrections to RustPython's builtin types, applied to every interpreter before any code runs,
//! where RustPython 0.5 gives a silently wrong result that CPython does not
//! (docs/python-compatibility.md lists what remains). Each module names what it corrects and how:
//!
//! - [`float`]: overflow of `**`/`pow()` raises `OverflowError`; `hash()` of subnormals.
//! - [`bytes`]: the `bytes`/`bytearray` predicates know ASCII only.
//! - [`text`]: `str` whitespace in `split`/`rsplit`/`strip`, titlecase letters in
//!   `islower`/`isupper`, full case mappings and the final sigma in
//!   `title`/`capitalize`/`swapcase`, and `zfill` of non-ASCII text.
//! - [`categories`]: `str` predicates by Unicode property (letters, numbers, printables,
//!   identifiers) and `repr()`.
//! - [`digits`]: `int()` and `float()` read the decimal digits of every script.
//!
//! RustPython built without its `threading` feature (as here) keeps its builtin types and context
//! per thread, so the corrections are applied once per thread that hosts an interpreter. The
//! original slots they wrap are the same functions on every thread.

mod bytes;
mod categories;
mod digits;
mod float;
mod text;

use std::cell::Cell;

use rustpython::vm::builtins::PyType;
use rustpython::vm::function::PyMethodDef;
use rustpython::vm::{Py, VirtualMachine};

thread_local! {
    /// Whether this thread's builtin types are corrected already.
    static APPLIED: Cell<bool> = const { Cell::new(false) };
}

/// Applies every correction to `vm`'s builtin types, once per thread.
pub(crate) fn apply(vm: &VirtualMachine) {
    if APPLIED.replace(true) {
        return;
    }
    float::apply(vm);
    bytes::apply(vm);
    text::apply(vm);
    categories::apply(vm);
    digits::apply(vm);
}

/// Sets `methods` on the builtin type `ty`, replacing RustPython's. Method definitions are not
/// `Sync`, so they are leaked, once per thread (a few hundred bytes).
fn replace_methods(vm: &VirtualMachine, ty: &'static Py<PyType>, methods: Vec<PyMethodDef>) {
    for def in methods.leak().iter() {
        let method = def.build_method(&vm.ctx, ty);
        ty.set_attr(vm.ctx.intern_str(def.name), method.into());
    }
}
