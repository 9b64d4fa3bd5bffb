//! # remotemedia-runtime (deprecated name)
//!
//! The embedding API is the `remotemedia` crate; this crate re-exports it whole so that programs
//! written against its former name (`use remotemedia_runtime::…`) still build. New code depends on
//! `remotemedia`. The name `remotemedia-runtime` now means the binary (crate `remotemedia-cli`) and,
//! as `remotemedia_runtime`, the Python extension module; see `crates/README.md`.

pub use remotemedia::*;
