//! Where a RustPython interpreter's start-up time goes (figures in `benches/RESULTS.md`):
//! building the interpreter (RustPython's own initialization: importlib, encodings, stdio), with
//! and without the external-library importer, then importing two frozen stdlib modules.
//!
//! `cargo run --release -p remotemedia-rustpython --example startup_breakdown`
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use rustpython::InterpreterBuilderExt;
use rustpython::vm::{Interpreter, Settings};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    const RUNS: usize = 9;
    for external in [true, false] {
        let (mut build, mut array, mut json) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..RUNS {
            let started = Instant::now();
            let mut settings = Settings::default();
            settings.install_signal_handlers = false;
            settings.allow_external_library = external;
            let interp = Interpreter::builder(settings).init_stdlib().build();
            build.push(started.elapsed());
            interp.enter(|vm| {
                for (name, into) in [("array", &mut array), ("json", &mut json)] {
                    let started = Instant::now();
                    vm.import(name, 0).expect("frozen stdlib module");
                    into.push(started.elapsed());
                }
            });
        }
        println!(
            "allow_external_library={external}: build {:?}, import array {:?}, import json {:?} (median of {RUNS})",
            median(build),
            median(array),
            median(json)
        );
    }
}
