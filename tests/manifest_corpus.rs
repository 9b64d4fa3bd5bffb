//! The manifest corpus: every file in `manifests/valid` (and every example in `manifests/`)
//! validates; every file in `manifests/invalid` fails with exactly the problems listed in its
//! `.expected` file (one message fragment per line); `manifests/schema.json` matches the code.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use remotemedia_runtime::{Error, builtin_registry, load_pipeline, manifest_schema};

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

#[test]
fn valid_manifests_and_examples_validate() {
    let mut files = manifests_in(&root().join("manifests/valid"));
    files.extend(manifests_in(&root().join("manifests")));
    assert!(files.len() >= 5, "corpus too small: {files:?}");
    for file in files {
        if let Err(e) = load_pipeline(&file) {
            panic!("{} should be valid: {e}", file.display());
        }
    }
}

#[test]
fn invalid_manifests_fail_with_their_expected_problems() {
    let files = manifests_in(&root().join("manifests/invalid"));
    assert!(files.len() >= 20, "corpus too small: {files:?}");
    for file in files {
        let expected_file = file.with_extension("expected");
        let expected = std::fs::read_to_string(&expected_file)
            .unwrap_or_else(|e| panic!("{} needs {}: {e}", file.display(), expected_file.display()));
        let err = match load_pipeline(&file) {
            Ok(_) => panic!("{} should be invalid", file.display()),
            Err(e) => e,
        };
        let Error::InvalidManifest { origin, issues } = &err else {
            panic!(
                "{}: expected an invalid-manifest error, got {err}",
                file.display()
            );
        };
        assert!(
            origin.contains(&*file.file_name().unwrap().to_string_lossy()),
            "{origin}"
        );
        let fragments: Vec<&str> = expected.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(
            issues.len(),
            fragments.len(),
            "{}: expected {} problems, got:\n{err}",
            file.display(),
            fragments.len()
        );
        for (issue, fragment) in issues.iter().zip(&fragments) {
            assert!(
                issue.to_string().contains(fragment),
                "{}: expected `{fragment}`, got `{issue}`",
                file.display()
            );
        }
    }
}

#[test]
fn schema_file_matches_the_code() {
    let path = root().join("manifests/schema.json");
    let generated = serde_json::to_string_pretty(&manifest_schema(&builtin_registry())).unwrap() + "\n";
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "manifests/schema.json is out of date; regenerate it with `make schema`"
    );
}

#[test]
fn schema_lists_every_node_type_and_its_params() {
    let schema = manifest_schema(&builtin_registry());
    let native = &schema["properties"]["nodes"]["items"]["allOf"][0]["then"];
    let types = &native["properties"]["node_type"]["enum"];
    for name in [
        "PassThroughNode",
        "PassThrough",
        "CalculatorNode",
        "MultiplyNode",
        "AddNode",
        "BufferNode",
    ] {
        assert!(
            types.as_array().unwrap().iter().any(|t| t == name),
            "{name} missing from {types}"
        );
    }
    let rules = native["allOf"].as_array().unwrap();
    let calc = rules
        .iter()
        .find(|r| r["if"]["properties"]["node_type"]["enum"][0] == "CalculatorNode")
        .unwrap();
    assert_eq!(
        calc["then"]["properties"]["params"]["required"],
        serde_json::json!(["operation", "operand"])
    );
    let buffer = rules
        .iter()
        .find(|r| r["if"]["properties"]["node_type"]["enum"][0] == "BufferNode")
        .unwrap();
    assert_eq!(
        buffer["then"]["properties"]["params"]["properties"]["buffer_size"]["minimum"],
        1
    );
    assert_eq!(
        buffer["then"]["properties"]["params"]["properties"]["buffer_size"]["default"],
        10
    );
}
