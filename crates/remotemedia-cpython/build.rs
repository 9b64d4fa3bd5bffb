//! This crate's tests link `libpython`: record where that library lives (rpath), so they run
//! against the same CPython they were built for without `LD_LIBRARY_PATH`.

fn main() {
    let config = pyo3_build_config::get();
    if let Some(dir) = config.lib_dir()
        && std::env::var("CARGO_CFG_TARGET_FAMILY").is_ok_and(|f| f == "unix")
    {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
