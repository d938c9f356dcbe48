//! The household's address and contact phone (*adres i telefon kontaktowy*): two optional
//! scalars at the case's root, `householdAddress` and `householdPhone`, which the worker sets on
//! the household screen. Cases written before them have neither.
//!
//! Like `nextVisit` they are scalars at the root, never a map, so two replicas setting them
//! concurrently never race to create an object; an edit writes only the field that changed, so
//! the address corrected on one device and the phone on another both survive the merge.
//!
//! The address is one line of at most [`MAX_ADDRESS_CHARS`] characters, trimmed. The phone is
//! kept in the international form (E.164, `+48601234567`), whatever the worker typed: a Polish
//! number of nine digits (mobile or landline, `601 234 567`, `22 123 45 67`, with `+48`/`0048`
//! or not), or a foreign number written with its country code (`+380 67 123 4567`, many
//! families supported in Poland keep one). Anything else is refused with a stable code.

use automerge::Automerge;
use chrono::{DateTime, Utc};

use super::layout::{key, open_case};
use crate::error::{RuleViolation, SchemaError};
use crate::model::editor::{self, Editor};
use crate::model::write;

/// The longest address kept, in characters.
pub const MAX_ADDRESS_CHARS: usize = 200;

/// What the worker typed for the household's address and phone (`None` or blank clears).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HouseholdContact {
    /// The address, one line.
    pub address: Option<String>,
    /// The contact phone, as typed.
    pub phone: Option<String>,
}

/// The address as kept: trimmed, `None` when blank; refused when too long or not one line.
pub fn normalize_address(address: &str) -> Result<Option<String>, RuleViolation> {
    let address = address.trim();
    if address.is_empty() {
        return Ok(None);
    }
    if address.chars().count() > MAX_ADDRESS_CHARS || address.chars().any(char::is_control) {
        return Err(RuleViolation::AddressInvalid);
    }
    Ok(Some(address.to_owned()))
}

/// The phone as kept (E.164), `None` when blank; refused when it is not a phone number.
pub fn normalize_phone(phone: &str) -> Result<Option<String>, RuleViolation> {
    let typed = phone.trim();
    if typed.is_empty() {
        return Ok(None);
    }
    let refused = || RuleViolation::PhoneInvalid(typed.chars().take(40).collect());
    let compact: String = typed
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{a0}'))
        .collect();
    let (international, digits) = if let Some(rest) = compact.strip_prefix('+') {
        (true, rest)
    } else if let Some(rest) = compact.strip_prefix("00") {
        (true, rest)
    } else {
        (false, compact.as_str())
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refused());
    }
    let national = match (international, digits.strip_prefix("48")) {
        (false, _) => digits,
        (true, Some(polish)) => polish,
        (true, None) => {
            // A foreign number: E.164 allows at most 15 digits, the country code never starts
            // with 0; fewer than 8 digits is no reachable number.
            if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
                return Err(refused());
            }
            return Ok(Some(format!("+{digits}")));
        }
    };
    if national.len() != 9 || national.starts_with('0') {
        return Err(refused());
    }
    Ok(Some(format!("+48{national}")))
}

/// Sets the household's address and contact phone (each `None` or blank clears it), writing
/// only the fields whose kept value changes.
pub fn set_household_contact(
    doc: &mut Automerge,
    contact: &HouseholdContact,
    by: &Editor,
    at: DateTime<Utc>,
) -> Result<(), SchemaError> {
    let root = open_case(doc)?;
    let address =
        normalize_address(contact.address.as_deref().unwrap_or("")).map_err(SchemaError::Rule)?;
    let phone =
        normalize_phone(contact.phone.as_deref().unwrap_or("")).map_err(SchemaError::Rule)?;
    let current_address = root.opt_str(key::HOUSEHOLD_ADDRESS)?;
    let current_phone = root.opt_str(key::HOUSEHOLD_PHONE)?;
    let message = editor::message("household: address and phone saved", by);
    write::commit(doc, message, at, |tx| {
        if current_address != address {
            let value = address.as_deref();
            write::put_opt_str(tx, &automerge::ROOT, key::HOUSEHOLD_ADDRESS, value)?;
        }
        if current_phone != phone {
            write::put_opt_str(tx, &automerge::ROOT, key::HOUSEHOLD_PHONE, phone.as_deref())?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polish_and_foreign_phones_are_kept_in_the_international_form() {
        for (typed, kept) in [
            ("601 234 567", "+48601234567"),
            ("601-234-567", "+48601234567"),
            ("+48 601 234 567", "+48601234567"),
            ("0048601234567", "+48601234567"),
            ("(22) 123 45 67", "+48221234567"),
            ("+380 67 123 4567", "+380671234567"),
            ("  +49 30 1234567 ", "+49301234567"),
        ] {
            assert_eq!(normalize_phone(typed), Ok(Some(kept.to_owned())), "{typed}");
        }
        assert_eq!(normalize_phone("   "), Ok(None));
    }

    #[test]
    fn what_is_no_phone_number_is_refused_with_its_code() {
        for typed in [
            "60123456",
            "6012345678",
            "012 345 678",
            "+48 60123456",
            "tel. 601234567",
            "+1234567",
            "+0 123 456 789",
            "+1234567890123456",
            "601 234 567 wew. 12",
        ] {
            let refused = normalize_phone(typed).expect_err(typed);
            assert_eq!(refused.code(), "household.phone-invalid", "{typed}");
        }
    }

    #[test]
    fn the_address_is_one_trimmed_line_of_bounded_length() {
        let kept = normalize_address("  ul. Lipowa 5 m. 3, 00-001 Przykładowo ");
        assert_eq!(
            kept,
            Ok(Some("ul. Lipowa 5 m. 3, 00-001 Przykładowo".to_owned()))
        );
        assert_eq!(normalize_address(""), Ok(None));
        let long = "ż".repeat(MAX_ADDRESS_CHARS + 1);
        assert_eq!(normalize_address(&long), Err(RuleViolation::AddressInvalid));
        let fits = "ż".repeat(MAX_ADDRESS_CHARS);
        assert_eq!(normalize_address(&fits), Ok(Some(fits.clone())));
        let two_lines = normalize_address("ul. Lipowa 5\n00-001 Przykładowo");
        assert_eq!(two_lines, Err(RuleViolation::AddressInvalid));
    }
}
