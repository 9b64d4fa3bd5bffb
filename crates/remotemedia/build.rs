//! With the `cpython` feature, the binary links `libpython`: record where that library lives
//! (rpath), so the binary finds the same CPython it was built against without `LD_LIBRARY_PATH`.

fn main() {
    #[cfg(feature = "cpython")]
    {
        let config = pyo3_build_config::get();
        if let Some(dir) = config.lib_dir()
            && std::env::var("CARGO_CFG_TARGET_FAMILY").is_ok_and(|f| f == "unix")
        {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        }
    }
}
