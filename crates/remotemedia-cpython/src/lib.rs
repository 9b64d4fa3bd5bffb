//! # remotemedia-cpython
//!
//! Runs Python nodes inside the engine on CPython, through PyO3: the fallback for code the
//! embedded RustPython interpreter cannot run (C extensions such as numpy).
//!
//! - [`CPythonHost::embedded`]: for the standalone binary, which links `libpython` and starts the
//!   interpreter when the first CPython node loads.
//! - [`CPythonHost::in_process`]: for the Python extension, which calls the interpreter it runs in.
//! - [`LiveObjects`]: node objects the Python package hands over as they are (their state stays
//!   in the caller's interpreter, exactly as under the pure-Python executor).
//!
//! A node call attaches to the interpreter (takes the GIL) only while Python code runs, and
//! detaches while the engine works. Values convert natively (see [`convert`]); numpy arrays and
//! audio cross without a copy when C-contiguous and aligned. The node's lifecycle and return
//! conventions are those of the pure-Python executor: `initialize`, `process` (a value, `None`,
//! a generator, an async generator, or a coroutine of those), `flush`, `cleanup`; `async def`
//! methods run on a private event loop of the calling thread. A Python exception becomes
//! [`remotemedia_core::NodeError::Python`] with its type, message, traceback and the exception
//! object itself.
//!
//! ```no_run
//! use std::sync::Arc;
//! let mut registry = remotemedia_core::Registry::new();
//! registry.register_python_host(Arc::new(remotemedia_cpython::CPythonHost::embedded()));
//! ```

mod buffers;
pub mod convert;
mod host;
mod interp;
mod node;
mod thread_state;

pub use buffers::BufferKeeper;
pub use host::{CPythonHost, LiveObjects};
pub use interp::node_error;
pub use thread_state::{attach, attach_kept, install_exit_guard};
