//! Which cases and PZK documents the figures are about: one PZK, gmina or powiat, and a range
//! of months (of a case's referral, of a PZK's meetings); and the smallest group the server
//! allows.

use crate::error::ServerError;
use crate::place::Place;

/// The smallest group a figure about families may describe, unless the server says more.
pub const DEFAULT_MIN_GROUP: usize = 5;

/// Below this no server may go: a group of one or two families is a person.
pub const LEAST_MIN_GROUP: usize = 3;

/// The server's smallest group from its setting (`--evaluation-min-group`, the configuration
/// file's `evaluation_min_group`): the default when not set, refused under [`LEAST_MIN_GROUP`].
pub fn min_group(setting: Option<usize>) -> Result<usize, ServerError> {
    match setting {
        None => Ok(DEFAULT_MIN_GROUP),
        Some(n) if n < LEAST_MIN_GROUP => Err(ServerError::Config(format!(
            "--evaluation-min-group must be at least {LEAST_MIN_GROUP} (smaller groups would \
             point at single families), not {n}"
        ))),
        Some(n) => Ok(n),
    }
}

/// The figures' scope; every part optional.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only this PZK (its id): cases whose lead institution is a member, and its own document.
    pub pzk: Option<String>,
    /// Only this gmina (TERYT, 7 digits): cases of institutions there, PZKs working for it.
    pub gmina: Option<String>,
    /// Only this powiat (TERYT, 4 digits).
    pub powiat: Option<String>,
    /// From this month (`YYYY-MM`), inclusive.
    pub from: Option<String>,
    /// Up to this month (`YYYY-MM`), inclusive.
    pub to: Option<String>,
}

impl Filter {
    /// Checks the codes and months; a bad one is refused, never ignored.
    pub fn check(&self) -> Result<(), ServerError> {
        Place::new(self.gmina.as_deref(), None)?;
        Place::new(None, self.powiat.as_deref())?;
        for month in [&self.from, &self.to].into_iter().flatten() {
            if chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").is_err()
                || month.len() != 7
            {
                return Err(ServerError::Invalid(format!(
                    "a month is YYYY-MM (e.g. 2026-03), not {month:?}"
                )));
            }
        }
        if let (Some(from), Some(to)) = (&self.from, &self.to) {
            if from > to {
                return Err(ServerError::Invalid(format!(
                    "the range starts ({from}) after it ends ({to})"
                )));
            }
        }
        Ok(())
    }

    /// Whether a month (`YYYY-MM`) is in the range.
    pub fn month(&self, month: &str) -> bool {
        self.from.as_deref().is_none_or(|from| month >= from)
            && self.to.as_deref().is_none_or(|to| month <= to)
    }

    /// Whether something at `place`, of the PZKs `teams`, is in scope.
    pub fn place<'a>(&self, place: &Place, mut teams: impl Iterator<Item = &'a str>) -> bool {
        (self.gmina.is_none() || self.gmina == place.gmina)
            && (self.powiat.is_none() || self.powiat == place.powiat)
            && self.pzk.as_deref().is_none_or(|p| teams.any(|t| t == p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_minimum_has_a_floor() {
        assert_eq!(min_group(None).expect("default"), 5);
        assert_eq!(min_group(Some(3)).expect("three"), 3);
        assert!(min_group(Some(2)).is_err());
    }

    #[test]
    fn months_are_checked() {
        let range = |from: &str, to: &str| Filter {
            from: Some(from.into()),
            to: Some(to.into()),
            ..Filter::default()
        };
        assert!(range("2026-01", "2026-03").check().is_ok());
        assert!(range("2026-13", "2026-14").check().is_err());
        assert!(range("2026-1", "2026-03").check().is_err());
        assert!(range("2026-04", "2026-03").check().is_err());
        assert!(range("2026-01", "2026-03").month("2026-02"));
        assert!(!range("2026-01", "2026-03").month("2026-04"));
    }
}
