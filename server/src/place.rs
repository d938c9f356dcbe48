//! Where an institution or a PZK works: its gmina and powiat as TERYT codes (the official
//! register of territorial units), so the evaluation ([`crate::evaluation`]) can group figures
//! by them. A gmina's code has 7 digits (voivodeship, powiat, gmina, type, e.g. `1218092`), a
//! powiat's the first 4 of them (`1218`); a gmina always lies in its own powiat.

use serde::{Deserialize, Serialize};

use crate::error::ServerError;

/// A gmina and its powiat (either may be unknown, as for records made before they existed).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// The gmina's TERYT code (7 digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gmina: Option<String>,
    /// The powiat's TERYT code (4 digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub powiat: Option<String>,
}

impl Place {
    /// A place from the codes given: the powiat is taken from the gmina's code when not given,
    /// and must agree with it when it is.
    pub fn new(gmina: Option<&str>, powiat: Option<&str>) -> Result<Self, ServerError> {
        let gmina = gmina.map(str::trim).filter(|g| !g.is_empty());
        let powiat = powiat.map(str::trim).filter(|p| !p.is_empty());
        if let Some(g) = gmina {
            check_code(g, 7, "gmina", "1218092")?;
        }
        if let Some(p) = powiat {
            check_code(p, 4, "powiat", "1218")?;
        }
        let powiat = match (gmina, powiat) {
            (Some(g), Some(p)) if !g.starts_with(p) => {
                return Err(ServerError::Invalid(format!(
                    "gmina {g} does not lie in powiat {p} (its powiat is {})",
                    &g[..4]
                )))
            }
            (Some(g), None) => Some(&g[..4]),
            (_, p) => p,
        };
        Ok(Self {
            gmina: gmina.map(String::from),
            powiat: powiat.map(String::from),
        })
    }
}

fn check_code(code: &str, digits: usize, what: &str, example: &str) -> Result<(), ServerError> {
    if code.len() != digits || !code.chars().all(|c| c.is_ascii_digit()) {
        return Err(ServerError::Invalid(format!(
            "the {what} is its TERYT code of {digits} digits (e.g. {example}), not {code:?}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_powiat_follows_the_gmina() {
        let place = Place::new(Some("1218092"), None).expect("place");
        assert_eq!(place.powiat.as_deref(), Some("1218"));
        assert!(Place::new(Some("1218092"), Some("1218")).is_ok());
        assert!(Place::new(None, Some("1218")).is_ok());
    }

    #[test]
    fn bad_codes_are_refused() {
        for (gmina, powiat) in [
            (Some("121809"), None),
            (Some("Wadowice"), None),
            (None, Some("12")),
            (Some("1218092"), Some("1219")),
        ] {
            let error = Place::new(gmina, powiat).expect_err("refused");
            assert!(error.to_string().contains("TERYT") || error.to_string().contains("lie in"));
        }
    }
}
