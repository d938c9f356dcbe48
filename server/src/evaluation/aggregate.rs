//! Sums the facts of cases (or PZK documents) by group and suppresses the figures of small
//! groups; the figures as CSV.

use std::collections::{BTreeMap, BTreeSet};

use super::{Cell, Facts, Figures, How};

type CellKey = (&'static str, String, &'static str, String);

#[derive(Debug, Default)]
struct Sum {
    total: f64,
    contributions: usize,
    cases: BTreeSet<usize>,
    mean: bool,
}

/// Sums the facts by group; suppresses figures with fewer than `min_group` cases behind them.
pub(super) fn aggregate(facts: &[Facts], min_group: usize) -> Vec<Cell> {
    let mut sizes: BTreeMap<(&'static str, String), usize> = BTreeMap::new();
    let mut sums: BTreeMap<CellKey, Sum> = BTreeMap::new();
    for (index, fact) in facts.iter().enumerate() {
        for (dimension, group) in &fact.groups {
            *sizes.entry((dimension, group.clone())).or_default() += 1;
            for (measure, key, value, how) in &fact.measures {
                let sum = sums
                    .entry((dimension, group.clone(), measure, key.clone()))
                    .or_default();
                sum.total += value;
                sum.contributions += 1;
                sum.cases.insert(index);
                sum.mean = *how == How::Mean;
            }
        }
    }
    let mut cells: Vec<Cell> = sums
        .into_iter()
        .map(|((dimension, group, measure, key), sum)| {
            let size = sizes.get(&(dimension, group.clone())).copied().unwrap_or(0);
            let suppressed = size < min_group || sum.cases.len() < min_group;
            let value = if sum.mean {
                (sum.total / sum.contributions.max(1) as f64 * 10.0).round() / 10.0
            } else {
                sum.total
            };
            Cell {
                dimension: dimension.to_string(),
                group,
                measure: measure.to_string(),
                key,
                value: (!suppressed).then_some(value),
                suppressed,
            }
        })
        .collect();
    suppress_complements(&mut cells);
    cells
}

/// Where a breakdown has exactly one suppressed count, suppresses its smallest shown count too.
fn suppress_complements(cells: &mut [Cell]) {
    let mut breakdowns: BTreeMap<(String, String, String), Vec<usize>> = BTreeMap::new();
    for (i, cell) in cells.iter().enumerate() {
        if !cell.key.is_empty() && cell.measure != "days_in_stage" {
            breakdowns
                .entry((
                    cell.dimension.clone(),
                    cell.group.clone(),
                    cell.measure.clone(),
                ))
                .or_default()
                .push(i);
        }
    }
    for members in breakdowns.values() {
        if members.iter().filter(|i| cells[**i].suppressed).count() != 1 {
            continue;
        }
        let smallest = members
            .iter()
            .filter(|i| !cells[**i].suppressed)
            .min_by(|a, b| {
                let (a, b) = (cells[**a].value, cells[**b].value);
                a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal)
            })
            .copied();
        if let Some(i) = smallest {
            cells[i].suppressed = true;
            cells[i].value = None;
        }
    }
}

/// The figures as CSV: `dimension,group,measure,key,value,suppressed` (an empty value where
/// suppressed).
pub fn to_csv(figures: &Figures) -> String {
    let mut out = String::from("dimension,group,measure,key,value,suppressed\n");
    for c in &figures.cells {
        let value = c.value.map(|v| v.to_string()).unwrap_or_default();
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            c.dimension,
            field(&c.group),
            c.measure,
            field(&c.key),
            value,
            c.suppressed
        ));
    }
    out
}

fn field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
