//! Helpers shared by the binary's audio tests: repository paths, the binary, and the real tools
//! (sox, ffmpeg, espeak-ng; installed by `.ci/run`) that make test files.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod fuzzing;

use std::ffi::OsStr;
use std::path::PathBuf;

/// A path in the repository.
pub fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

/// The `remotemedia-runtime` binary.
pub fn bin() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("remotemedia-runtime").unwrap()
}

/// Runs `program` (sox, ffmpeg or espeak-ng) and returns its stdout; fails the test with its
/// stderr if it fails.
pub fn tool<S: AsRef<OsStr>>(program: &str, args: &[S]) -> Vec<u8> {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("`{program}` is needed (apt-get install sox ffmpeg espeak-ng): {e}"));
    assert!(
        out.status.success(),
        "`{program}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
