//! What the fuzz tests share (tests/fuzz.rs, tests/fuzz_server.rs): the case count, the runner
//! that shrinks and reports a failing case, ways to damage bytes, and JSON values at the edges.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

pub fn cases() -> u32 {
    std::env::var("REMOTEMEDIA_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300)
}

/// Runs `check` on `cases()` inputs of `strategy`; a failure is shrunk and reported with its input.
/// `check` returns the exit code; every target must see inputs both taken (0) and refused, so
/// that a change that makes everything fail (or pass) early cannot hide behind the checks.
pub fn fuzz<S: Strategy>(name: &str, strategy: S, check: impl Fn(S::Value) -> Result<i32, TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let codes = std::sync::Mutex::new(std::collections::BTreeMap::<i32, usize>::new());
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: 64,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |value| {
        let code = check(value)?;
        *codes.lock().unwrap().entry(code).or_default() += 1;
        Ok(())
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    let codes = codes.into_inner().unwrap();
    eprintln!("{name}: exit codes {codes:?}");
    if cases() >= 100 {
        assert!(
            codes.contains_key(&0) && codes.len() >= 2,
            "{name}: the cases did not reach both outcomes: {codes:?}"
        );
    }
}

/// Ways to damage a document or a file.
#[derive(Debug, Clone)]
pub enum Damage {
    /// Set the byte at this fraction of the length.
    Flip(f64, u8),
    /// Cut the data at this fraction of its length.
    Truncate(f64),
    /// Put text at this fraction of the length.
    Insert(f64, &'static str),
    /// Zero the first `n` bytes (the header).
    ZeroHeader(usize),
    /// Write a huge 32-bit size (either byte order) at this byte offset in the first 128 bytes.
    GiantSize(usize, u32, bool),
}

/// Tokens that trouble parsers: brackets, anchors and aliases, tags, big and odd numbers.
pub const TOKENS: [&str; 18] = [
    "[",
    "{",
    "]",
    "}",
    "\"",
    ":",
    ",",
    "- ",
    "&a ",
    "*a",
    "!!binary ",
    "<<: *a\n",
    "~",
    "1e999",
    "99999999999999999999",
    "-0",
    "\u{0}",
    "\u{feff}",
];

pub fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (0.0..1.0f64, any::<u8>()).prop_map(|(at, b)| Damage::Flip(at, b)),
        (0.0..1.0f64).prop_map(Damage::Truncate),
        (0.0..1.0f64, prop::sample::select(TOKENS.to_vec())).prop_map(|(at, t)| Damage::Insert(at, t)),
        (1usize..96).prop_map(Damage::ZeroHeader),
        (
            0usize..128,
            prop::sample::select(vec![u32::MAX, 0x7fff_ffff, 0x8000_0000, 0x0100_0000]),
            any::<bool>()
        )
            .prop_map(|(at, v, le)| Damage::GiantSize(at, v, le)),
    ]
}

pub fn apply(data: &[u8], damages: &[Damage]) -> Vec<u8> {
    let mut data = data.to_vec();
    for d in damages {
        let at = |f: f64, len: usize| ((f * len as f64) as usize).min(len);
        match *d {
            Damage::Flip(f, b) if !data.is_empty() => {
                let i = at(f, data.len() - 1);
                data[i] = b;
            }
            Damage::Flip(..) => {}
            Damage::Truncate(f) => data.truncate(at(f, data.len())),
            Damage::Insert(f, t) => {
                let i = at(f, data.len());
                data.splice(i..i, t.bytes());
            }
            Damage::ZeroHeader(n) => data.iter_mut().take(n).for_each(|b| *b = 0),
            Damage::GiantSize(offset, v, le) => {
                let bytes = if le { v.to_le_bytes() } else { v.to_be_bytes() };
                if offset + 4 <= data.len() {
                    data[offset..offset + 4].copy_from_slice(&bytes);
                }
            }
        }
    }
    data
}

/// JSON text of a value: numbers at the edges (big integers, tiny and huge floats), strings with
/// escapes, nesting around the limit, and the tags (`$audio`, `$bytes`, `$array`) with any fields.
pub fn json_value() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        any::<i64>().prop_map(|i| i.to_string()),
        "-?[0-9]{19,25}",
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        prop::sample::select(vec!["1e999", "-1e999", "5e-324", "1e-400", "-0.0", "0e0", "1E+2"])
            .prop_map(str::to_string),
    ];
    let string = any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap());
    let leaf = prop_oneof![number, string, Just("true".to_string()), Just("null".to_string()),];
    let value = leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(("[a-z$]{0,6}", inner.clone()), 0..5).prop_map(|kv| {
                let fields: Vec<String> = kv
                    .iter()
                    .map(|(k, v)| format!("{}:{v}", serde_json::to_string(k).unwrap()))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }),
            (prop::sample::select(vec!["$audio", "$bytes", "$array"]), inner)
                .prop_map(|(tag, v)| format!("{{\"{tag}\":{v}}}")),
        ]
    });
    (value, 0usize..130).prop_map(|(v, depth)| {
        // Wrapped in lists `depth` deep: both sides of the nesting limit (100).
        format!("{}{v}{}", "[".repeat(depth), "]".repeat(depth))
    })
}
