//! Corrections to RustPython's builtin types, applied to every interpreter before any code runs,
//! where it gives a silently wrong result that CPython does not (docs/python-compatibility.md).
//!
//! - `float ** x` (and `pow()`): RustPython 0.5 returns `inf` when the result overflows; CPython
//!   raises `OverflowError: (34, 'Numerical result out of range')`. The float type's `power`
//!   slots are wrapped: an infinite result of finite operands raises instead.

use std::sync::OnceLock;

use rustpython::vm::builtins::{PyFloat, PyInt};
use rustpython::vm::protocol::PyNumberTernaryFunc;
use rustpython::vm::{PyObject, PyResult, VirtualMachine};

/// RustPython's own `power` and `right_power` of `float`, as found before the first wrap (the
/// builtin types are shared by every interpreter in the process).
static FLOAT_POWER: OnceLock<(Option<PyNumberTernaryFunc>, Option<PyNumberTernaryFunc>)> = OnceLock::new();

/// Applies every correction to `vm`'s builtin types; idempotent.
pub(crate) fn apply(vm: &VirtualMachine) {
    let slots = &vm.ctx.types.float_type.slots.as_number;
    let (power, right_power) = *FLOAT_POWER.get_or_init(|| (slots.power.load(), slots.right_power.load()));
    if power.is_some() {
        slots.power.store(Some(checked_power));
    }
    if right_power.is_some() {
        slots.right_power.store(Some(checked_right_power));
    }
}

fn checked_power(a: &PyObject, b: &PyObject, c: &PyObject, vm: &VirtualMachine) -> PyResult {
    let original = FLOAT_POWER.get().and_then(|(power, _)| *power);
    overflow_checked(original, a, b, c, vm)
}

fn checked_right_power(a: &PyObject, b: &PyObject, c: &PyObject, vm: &VirtualMachine) -> PyResult {
    let original = FLOAT_POWER.get().and_then(|(_, right)| *right);
    overflow_checked(original, a, b, c, vm)
}

fn overflow_checked(
    original: Option<PyNumberTernaryFunc>,
    a: &PyObject,
    b: &PyObject,
    c: &PyObject,
    vm: &VirtualMachine,
) -> PyResult {
    let Some(original) = original else {
        return Ok(vm.ctx.not_implemented());
    };
    let result = original(a, b, c, vm)?;
    let overflowed = result
        .downcast_ref::<PyFloat>()
        .is_some_and(|r| r.to_f64().is_infinite());
    if overflowed && finite(a) && finite(b) {
        return Err(vm.new_overflow_error("(34, 'Numerical result out of range')"));
    }
    Ok(result)
}

/// Whether `x` is a finite float or an int (an int too large for a float fails before this).
fn finite(x: &PyObject) -> bool {
    match x.downcast_ref::<PyFloat>() {
        Some(f) => f.to_f64().is_finite(),
        None => x.downcast_ref::<PyInt>().is_some(),
    }
}
