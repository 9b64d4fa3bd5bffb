//! The engine against the parity corpus's record: each case of `tests/parity/cases.yaml` run
//! through the crate API must give exactly what `tests/parity/expected.json` says (floats within
//! the case's `tolerance`). The Python suite holds the pure-Python fallback to the same record
//! (`tests/python/test_parity_corpus.py`), so the two executors agree through it even where the
//! extension is not installed.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use remotemedia::manifest::Format;
use remotemedia::{Error, Manifest, Pipeline, Value, builtin_registry};
use serde_json::{Value as Json, json};

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/parity")
}

async fn outcome(case: &Json) -> Json {
    let name = case["name"].as_str().unwrap();
    let text = case["manifest"].to_string();
    let registry = builtin_registry();
    let planned = Manifest::parse_as(&text, Format::Json, name).and_then(|m| Pipeline::new(&m, &registry));
    let pipeline = match planned {
        Ok(pipeline) => pipeline,
        Err(Error::InvalidManifest { issues, .. }) => {
            return json!({"manifest_error": issues.iter().map(ToString::to_string).collect::<Vec<_>>()});
        }
        Err(e) => panic!("{name}: planning failed with {e}"),
    };
    let inputs: Vec<Value> = case["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| Value::from_json(v.clone()).unwrap())
        .collect();
    match pipeline.run(inputs).await {
        Ok(outputs) => json!({"outputs": outputs.iter().map(|v| v.to_json().unwrap()).collect::<Vec<_>>()}),
        Err(e) => json!({"error": e.to_string()}),
    }
}

/// Where `got` and `want` differ: ints and floats never equal each other; floats within `tolerance`.
fn differences(got: &Json, want: &Json, tolerance: f64, at: &str, found: &mut Vec<String>) {
    match (got, want) {
        (Json::Object(g), Json::Object(w)) if g.keys().eq(w.keys()) => {
            for (k, v) in w {
                differences(&g[k], v, tolerance, &format!("{at}.{k}"), found);
            }
        }
        (Json::Array(g), Json::Array(w)) if g.len() == w.len() => {
            for (i, (a, b)) in g.iter().zip(w).enumerate() {
                differences(a, b, tolerance, &format!("{at}[{i}]"), found);
            }
        }
        (Json::Number(g), Json::Number(w)) if g.is_f64() && w.is_f64() => {
            let (a, b) = (g.as_f64().unwrap(), w.as_f64().unwrap());
            if (a - b).abs() > tolerance {
                found.push(format!("{at}: {a} != {b}"));
            }
        }
        (Json::Number(g), Json::Number(w)) if tolerance >= 1.0 && g.is_i64() && w.is_i64() => {
            if (g.as_i64().unwrap() - w.as_i64().unwrap()).unsigned_abs() as f64 > tolerance {
                found.push(format!("{at}: {g} != {w}"));
            }
        }
        _ if got == want => {}
        _ => found.push(format!("{at}: {got} != {want}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_gives_the_recorded_result_for_every_case() {
    let cases: Json =
        serde_norway::from_str(&std::fs::read_to_string(corpus().join("cases.yaml")).unwrap()).unwrap();
    let expected: Json =
        serde_json::from_str(&std::fs::read_to_string(corpus().join("expected.json")).unwrap()).unwrap();
    let cases = cases.as_array().unwrap();
    assert_eq!(
        cases.len(),
        expected.as_object().unwrap().len(),
        "the record and the corpus hold different cases"
    );
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let want = expected
            .get(name)
            .unwrap_or_else(|| panic!("{name} has no recorded result"));
        let tolerance = case.get("tolerance").and_then(Json::as_f64).unwrap_or(0.0);
        let mut found = Vec::new();
        differences(&outcome(case).await, want, tolerance, name, &mut found);
        failures.extend(found);
    }
    assert!(
        failures.is_empty(),
        "the engine differs from the record:\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_comparison_tells_ints_from_floats_and_respects_the_tolerance() {
    let check = |got: Json, want: Json, tolerance: f64| {
        let mut found = Vec::new();
        differences(&got, &want, tolerance, "v", &mut found);
        found.is_empty()
    };
    assert!(!check(json!([2]), json!([2.0]), 0.0));
    assert!(check(json!({"a": 0.5}), json!({"a": 0.500_000_1}), 1e-6));
    assert!(!check(json!({"a": 0.5}), json!({"a": 0.51}), 1e-6));
    assert!(check(json!([398]), json!([399]), 1.0));
    assert!(!check(json!([398]), json!([399]), 0.0));
    assert!(!check(json!({"x": [1, 2]}), json!({"x": [1, 2, 3]}), 0.0));
}
