//! # remotemedia-nodes
//!
//! The native node library. [`register_builtin`] adds every node to a registry:
//!
//! | node type | params | behaviour |
//! |---|---|---|
//! | `PassThroughNode` (alias `PassThrough`) | none | emits each input unchanged |
//! | `CalculatorNode` | `operation` (add, subtract, multiply, divide, power, modulo), `operand` (number) | applies `input <op> operand` |
//! | `MultiplyNode` | `factor` (number, default 2) | multiplies a number, or every number of a (nested) list |
//! | `AddNode` | `addend` (number, default 0) | adds to a number, or to every number of a (nested) list |
//! | `BufferNode` | `buffer_size` (integer >= 1, default 10) | emits a list every `buffer_size` inputs; the rest at end of stream |
//!
//! Arithmetic keeps integers exact: `int <op> int` is an `int` whenever the exact result is an
//! integer (`6 / 3 == 2`, `7 / 2 == 3.5`, `2 ** 3 == 8`, `2 ** -1 == 0.5`); anything with a float is a
//! float. Modulo follows the sign of the divisor, as in Python (`-7 % 3 == 2`). Division or modulo
//! by zero, an integer result beyond 64 bits, and a negative number to a fractional power are
//! errors, as is a non-number input (booleans are not numbers here).
//!
//! Audio nodes are listed in [`audio`]. Python nodes live in the Python-host crates.
//!
//! ```
//! let mut registry = remotemedia_core::Registry::new();
//! remotemedia_nodes::register_builtin(&mut registry).unwrap();
//! assert!(registry.get("PassThrough").is_some());
//! ```

mod arithmetic;
pub mod audio;
mod basic;

pub use arithmetic::{Operation, apply};
use remotemedia_core::{Registry, Result};

/// Registers every native node.
pub fn register_builtin(registry: &mut Registry) -> Result<()> {
    basic::register(registry)?;
    audio::register(registry)
}

/// A registry holding every native node.
pub fn builtin_registry() -> Registry {
    let mut registry = Registry::new();
    // Registering into an empty registry cannot collide.
    let _ = register_builtin(&mut registry);
    registry
}
