//! `float`: overflow in `**` and `pow()`, and `hash()` of subnormals.
//!
//! - RustPython 0.5 returns `inf` when `float ** x` overflows; CPython raises
//!   `OverflowError: (34, 'Numerical result out of range')`. The float type's `power` slots are
//!   wrapped: an infinite result of finite operands raises instead.
//! - RustPython 0.5 decomposes subnormal floats wrongly, so `hash(5e-324)` differs from CPython's
//!   (and from `hash()` of an equal `Fraction` or `Decimal`). The float type's `hash` slot computes
//!   subnormals by CPython's algorithm (the hash of the rational value modulo 2^61 - 1) and leaves
//!   every other float to RustPython.

use std::sync::OnceLock;

use rustpython::vm::builtins::{PyFloat, PyInt};
use rustpython::vm::common::hash::{MODULUS, PyHash};
use rustpython::vm::protocol::PyNumberTernaryFunc;
use rustpython::vm::{PyObject, PyResult, VirtualMachine};

/// RustPython's own `power` and `right_power` of `float`, as found before the first wrap.
static FLOAT_POWER: OnceLock<(Option<PyNumberTernaryFunc>, Option<PyNumberTernaryFunc>)> = OnceLock::new();

type HashFunc = fn(&PyObject, &VirtualMachine) -> PyResult<PyHash>;

/// RustPython's own `hash` of `float`.
static FLOAT_HASH: OnceLock<Option<HashFunc>> = OnceLock::new();

pub(super) fn apply(vm: &VirtualMachine) {
    let slots = &vm.ctx.types.float_type.slots.as_number;
    let (power, right_power) = *FLOAT_POWER.get_or_init(|| (slots.power.load(), slots.right_power.load()));
    if power.is_some() {
        slots.power.store(Some(checked_power));
    }
    if right_power.is_some() {
        slots.right_power.store(Some(checked_right_power));
    }
    let hash_slot = &vm.ctx.types.float_type.slots.hash;
    if FLOAT_HASH.get_or_init(|| hash_slot.load()).is_some() {
        hash_slot.store(Some(float_hash));
    }
}

fn float_hash(x: &PyObject, vm: &VirtualMachine) -> PyResult<PyHash> {
    if let Some(f) = x.downcast_ref::<PyFloat>()
        && f.to_f64().is_subnormal()
    {
        return Ok(subnormal_hash(f.to_f64()));
    }
    match FLOAT_HASH.get().copied().flatten() {
        Some(original) => original(x, vm),
        None => Err(vm.new_type_error("unhashable float")),
    }
}

/// CPython's hash of a finite float: the value as a rational number modulo the prime 2^61 - 1,
/// here for subnormals, whose value is `mantissa * 2^-1074` exactly.
fn subnormal_hash(value: f64) -> PyHash {
    const BITS: u32 = 61;
    let mantissa = value.abs().to_bits() & ((1 << 52) - 1);
    // mantissa * 2^-1074 mod P, where 2^61 = 1 (mod P): the exponent -1074 is -1074 mod 61 = 24.
    let exponent = (-1074i64).rem_euclid(i64::from(BITS)) as u32;
    let x = u128::from(mantissa % MODULUS) << exponent;
    let x = (x % u128::from(MODULUS)) as i64;
    let x = if value < 0.0 { -x } else { x };
    if x == -1 { -2 } else { x }
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
