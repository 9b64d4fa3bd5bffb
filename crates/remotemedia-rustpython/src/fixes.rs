//! Corrections to RustPython's builtin types, applied to every interpreter before any code runs,
//! where it gives a silently wrong result that CPython does not (docs/python-compatibility.md).
//!
//! - `float ** x` (and `pow()`): RustPython 0.5 returns `inf` when the result overflows; CPython
//!   raises `OverflowError: (34, 'Numerical result out of range')`. The float type's `power`
//!   slots are wrapped: an infinite result of finite operands raises instead.
//! - `hash()` of a subnormal float: RustPython 0.5 decomposes it wrongly, so `hash(5e-324)`
//!   differs from CPython's (and from `hash()` of an equal `Fraction` or `Decimal`). The float
//!   type's `hash` slot computes subnormals by CPython's algorithm (the hash of the rational value
//!   modulo 2^61 - 1) and leaves every other float to RustPython.
//! - `bytes`/`bytearray` `isalpha`, `isalnum`, `isspace` and `istitle`: RustPython 0.5 reads
//!   bytes 0x80-0xFF as Latin-1 letters (and misses `\x0b` as space); CPython's bytes methods
//!   know ASCII only. Replaced by ASCII versions.

use std::sync::OnceLock;

use rustpython::vm::builtins::PyType;
use rustpython::vm::builtins::{PyByteArray, PyBytes, PyFloat, PyInt};
use rustpython::vm::common::hash::{MODULUS, PyHash};
use rustpython::vm::function::{PyMethodDef, PyMethodFlags};
use rustpython::vm::protocol::PyNumberTernaryFunc;
use rustpython::vm::{Py, PyRef};
use rustpython::vm::{PyObject, PyResult, VirtualMachine};

/// RustPython's own `power` and `right_power` of `float`, as found before the first wrap (the
/// builtin types are shared by every interpreter in the process).
static FLOAT_POWER: OnceLock<(Option<PyNumberTernaryFunc>, Option<PyNumberTernaryFunc>)> = OnceLock::new();

type HashFunc = fn(&PyObject, &VirtualMachine) -> PyResult<PyHash>;

/// RustPython's own `hash` of `float`.
static FLOAT_HASH: OnceLock<Option<HashFunc>> = OnceLock::new();

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
    replace_methods(vm, vm.ctx.types.bytes_type, Box::leak(Box::new(bytes_methods())));
    replace_methods(
        vm,
        vm.ctx.types.bytearray_type,
        Box::leak(Box::new(bytearray_methods())),
    );
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

/// The ASCII predicates of `bytes` and `bytearray`. Method definitions are not `Sync`, so each
/// interpreter's are leaked (a few hundred bytes; interpreters are kept for the process's life).
fn bytes_methods() -> [PyMethodDef; 4] {
    let m = PyMethodFlags::METHOD;
    [
        PyMethodDef::new_const("isalpha", |b: PyRef<PyBytes>| is_alpha(b.as_bytes()), m, None),
        PyMethodDef::new_const("isalnum", |b: PyRef<PyBytes>| is_alnum(b.as_bytes()), m, None),
        PyMethodDef::new_const("isspace", |b: PyRef<PyBytes>| is_space(b.as_bytes()), m, None),
        PyMethodDef::new_const("istitle", |b: PyRef<PyBytes>| is_title(b.as_bytes()), m, None),
    ]
}

fn bytearray_methods() -> [PyMethodDef; 4] {
    let m = PyMethodFlags::METHOD;
    [
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

fn replace_methods(vm: &VirtualMachine, ty: &'static Py<PyType>, methods: &'static [PyMethodDef]) {
    for def in methods {
        let method = def.build_method(&vm.ctx, ty);
        ty.set_attr(vm.ctx.intern_str(def.name), method.into());
    }
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
