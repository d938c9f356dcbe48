//! The figures every scenario reports alike: latency percentiles, the generator's own CPU and
//! memory, and the rounding and unit conversions of the JSON (as `load.mjs` writes them).

use std::time::Instant;

use serde::Serialize;

use super::procfs;

/// Edit-to-watcher delays.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Latency {
    /// Delays measured.
    pub samples: usize,
    /// Delays expected (edits × watchers).
    pub expected: usize,
    /// Median, ms.
    pub p50: f64,
    /// 90th percentile, ms.
    pub p90: f64,
    /// 99th percentile, ms.
    pub p99: f64,
    /// Largest, ms.
    pub max: f64,
    /// Mean, ms.
    pub mean: f64,
}

impl Latency {
    /// The percentiles of `samples` (milliseconds, in any order) against `expected` samples.
    pub(crate) fn of(mut samples: Vec<f64>, expected: usize) -> Self {
        samples.sort_by(f64::total_cmp);
        let n = samples.len();
        Self {
            samples: n,
            expected,
            p50: round(percentile(&samples, 50.0), 1),
            p90: round(percentile(&samples, 90.0), 1),
            p99: round(percentile(&samples, 99.0), 1),
            max: round(samples.last().copied().unwrap_or(f64::NAN), 1),
            mean: round(samples.iter().sum::<f64>() / n.max(1) as f64, 1),
        }
    }
}

/// The load generator's own process.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadGenerator {
    /// CPU seconds over the whole run.
    pub cpu_seconds: f64,
    /// Peak RSS, MiB.
    #[serde(rename = "maxRss_MiB")]
    pub max_rss_mib: f64,
}

impl LoadGenerator {
    /// This process after `cpu_seconds` of CPU: those seconds, and its peak RSS so far.
    pub(crate) fn used(cpu_seconds: f64) -> Self {
        Self {
            cpu_seconds: round(cpu_seconds, 2),
            max_rss_mib: procfs::memory("self").map_or(0.0, |m| mib(m.hwm_kib)),
        }
    }

    /// This process since it had used `cpu0` seconds of CPU.
    pub(crate) fn since(cpu0: f64) -> Self {
        Self::used(procfs::cpu_seconds("self").unwrap_or(0.0) - cpu0)
    }
}

pub(crate) fn mib(kib: u64) -> f64 {
    (kib as f64 / 1024.0 * 10.0).round() / 10.0
}

pub(crate) fn round(v: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (v * k).round() / k
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[idx.saturating_sub(1).min(sorted.len() - 1)]
}

pub(crate) fn ms(since: Instant) -> f64 {
    round(since.elapsed().as_secs_f64() * 1000.0, 1)
}

pub(crate) fn ms_between(a: Instant, b: Instant) -> f64 {
    b.saturating_duration_since(a).as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_as_load_mjs() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert!(percentile(&[], 50.0).is_nan());
    }
}
