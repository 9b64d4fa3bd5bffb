//! "Did you mean" suggestions for misspelled names.

/// The candidates closest to `query`, best first (at most three), among those close enough to be
/// a plausible typo. Comparison ignores case and a trailing `Node`, so `Calculater` suggests
/// `CalculatorNode`.
pub fn closest_many<'a>(query: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let norm = |s: &str| {
        let lower = s.to_lowercase();
        lower.strip_suffix("node").map(str::to_string).unwrap_or(lower)
    };
    let q = norm(query);
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .filter_map(|c| {
            let d = strsim::levenshtein(&q, &norm(c))
                .min(strsim::levenshtein(&query.to_lowercase(), &c.to_lowercase()));
            let len = q.chars().count();
            let limit = (len / 3).max(1);
            (d <= limit && d < len).then_some((d, c))
        })
        .collect();
    scored.sort_by_key(|(d, _)| *d);
    scored.dedup_by_key(|(_, c)| *c);
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

/// The single closest candidate, if any is close enough.
pub fn closest<'a>(query: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    closest_many(query, candidates).into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos() {
        let names = ["CalculatorNode", "PassThroughNode", "BufferNode", "AddNode"];
        assert_eq!(closest("Calculater", names), Some("CalculatorNode"));
        assert_eq!(closest("passthrough", names), Some("PassThroughNode"));
        assert_eq!(closest("Bufer", names), Some("BufferNode"));
        assert_eq!(closest("Zebra", names), None);
    }
}
