//! The manifest corpus, one test per file: every manifest in `manifests/valid` (and every example in
//! `manifests/`) validates; every manifest in `manifests/invalid` fails with exactly the problems in
//! its `.expected` file, one full message per line, in order. Also: `manifests/schema.json` and the
//! Python twins' param specs match the code.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Failed, Trial};
use remotemedia::{Error, builtin_registry, load_pipeline, manifest_schema};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn manifests_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("json" | "yaml" | "yml")
            ) && !name.contains(".input.")
                && name != "schema.json"
        })
        .collect();
    files.sort();
    files
}

fn name_of(file: &Path) -> String {
    let folder = file.parent().unwrap().file_name().unwrap().to_string_lossy();
    format!("{folder}/{}", file.file_name().unwrap().to_string_lossy())
}

fn check_valid(file: &Path) -> Result<(), Failed> {
    load_pipeline(file)
        .map(|_| ())
        .map_err(|e| format!("{} should be valid: {e}", file.display()).into())
}

fn check_invalid(file: &Path) -> Result<(), Failed> {
    let expected_file = file.with_extension("expected");
    let expected = std::fs::read_to_string(&expected_file)
        .map_err(|e| format!("{} needs {}: {e}", file.display(), expected_file.display()))?;
    let err = match load_pipeline(file) {
        Ok(_) => return Err(format!("{} should be invalid", file.display()).into()),
        Err(e) => e,
    };
    let Error::InvalidManifest { origin, issues } = &err else {
        return Err(format!("expected an invalid-manifest error, got {err}").into());
    };
    if !origin.contains(&*file.file_name().unwrap().to_string_lossy()) {
        return Err(format!("the origin does not name the file: {origin}").into());
    }
    let actual: Vec<String> = issues.iter().map(ToString::to_string).collect();
    let wanted: Vec<&str> = expected.lines().filter(|l| !l.trim().is_empty()).collect();
    if actual != wanted {
        return Err(format!(
            "expected exactly:\n  {}\ngot:\n  {}",
            wanted.join("\n  "),
            actual.join("\n  ")
        )
        .into());
    }
    Ok(())
}

fn generated_file_is_current(path: &str, generated: String, command: &str) -> Result<(), Failed> {
    let on_disk = std::fs::read_to_string(root().join(path)).unwrap_or_default();
    if on_disk == generated {
        Ok(())
    } else {
        Err(format!("{path} is out of date; regenerate it with `{command}`").into())
    }
}

fn schema_lists_every_node_type_and_its_params() -> Result<(), Failed> {
    let schema = manifest_schema(&builtin_registry());
    let native = &schema["properties"]["nodes"]["items"]["allOf"][0]["then"];
    let types = native["properties"]["node_type"]["enum"].as_array().unwrap();
    for name in [
        "PassThroughNode",
        "PassThrough",
        "CalculatorNode",
        "MultiplyNode",
        "AddNode",
        "BufferNode",
    ] {
        if !types.iter().any(|t| t == name) {
            return Err(format!("{name} missing from {types:?}").into());
        }
    }
    let rules = native["allOf"].as_array().unwrap();
    let rule = |node_type: &str| {
        rules
            .iter()
            .find(|r| r["if"]["properties"]["node_type"]["enum"][0] == node_type)
            .unwrap()["then"]["properties"]["params"]
            .clone()
    };
    assert_eq!(
        rule("CalculatorNode")["required"],
        serde_json::json!(["operation", "operand"])
    );
    assert_eq!(rule("BufferNode")["properties"]["buffer_size"]["minimum"], 1);
    assert_eq!(rule("BufferNode")["properties"]["buffer_size"]["default"], 10);
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    let mut valid = manifests_in(&root().join("manifests/valid"));
    valid.extend(manifests_in(&root().join("manifests")));
    for file in valid {
        trials.push(Trial::test(format!("valid::{}", name_of(&file)), move || {
            check_valid(&file)
        }));
    }
    for file in manifests_in(&root().join("manifests/invalid")) {
        trials.push(Trial::test(format!("invalid::{}", name_of(&file)), move || {
            check_invalid(&file)
        }));
    }
    trials.push(Trial::test("schema_file_matches_the_code", || {
        let generated = serde_json::to_string_pretty(&manifest_schema(&builtin_registry())).unwrap() + "\n";
        generated_file_is_current("manifests/schema.json", generated, "make schema")
    }));
    trials.push(Trial::test("the_python_contract_is_the_engines", || {
        // The Python package (node twins, fallback, Ray app) reads this file.
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_remotemedia-runtime"))
            .arg("contract")
            .output()
            .map_err(|e| format!("cannot run the binary: {e}"))?;
        if !out.status.success() {
            return Err(format!("`contract` failed: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        let generated = String::from_utf8(out.stdout).map_err(|e| e.to_string())?;
        generated_file_is_current("python/remotemedia/contract.json", generated, "make schema")
    }));
    trials.push(Trial::test(
        "schema_lists_every_node_type_and_its_params",
        schema_lists_every_node_type_and_its_params,
    ));
    libtest_mimic::run(&args, trials).exit();
}
