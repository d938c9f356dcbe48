//! Medians and percentiles (nearest rank) of a run's samples.

use serde_json::{json, Value as Json};

/// The `p`-th percentile (0 to 100) of `samples` by nearest rank; 0 for none.
pub fn percentile(samples: &[f64], p: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// Count, median, p95, p99 and max of `samples`, rounded to 0.1.
pub fn summary(samples: &[f64]) -> Json {
    let r = |x: f64| (x * 10.0).round() / 10.0;
    json!({
        "n": samples.len(),
        "median": r(percentile(samples, 50.0)),
        "p95": r(percentile(samples, 95.0)),
        "p99": r(percentile(samples, 99.0)),
        "max": r(percentile(samples, 100.0)),
    })
}

/// The numbers of a JSON array (what the browser script measured).
pub fn numbers(value: &Json) -> Vec<f64> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(Json::as_f64).collect())
        .unwrap_or_default()
}
