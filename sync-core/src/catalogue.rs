//! The one Polish message catalogue, `sync-core/messages/pl.json`, shared by this crate, the
//! SDK and the case app (`web/src/model/catalogue.ts` imports the same file).
//!
//! Every rule violation, schema error and refusal has a stable code ([`Coded::code`]) and
//! arguments ([`Coded::args`]); the catalogue holds the Polish text of each code, with
//! `{placeholders}`. A placeholder `{name}` takes its argument as it is; `{name:kind}`
//! translates it (or each item of a comma-separated list) through the catalogue's labels of
//! `kind`, so a stage reads "diagnoza", never "diagnosis". The user never sees English: the
//! English `Display` of the errors is for logs.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use crate::error::{Refusal, SchemaError};
use crate::violation::RuleViolation;

/// The catalogue file, as compiled in.
pub const CATALOGUE_PL: &str = include_str!("../messages/pl.json");

#[derive(serde::Deserialize, Default)]
struct Catalogue {
    messages: BTreeMap<String, String>,
    labels: BTreeMap<String, BTreeMap<String, String>>,
}

static CATALOGUE: LazyLock<Catalogue> =
    LazyLock::new(|| serde_json::from_str(CATALOGUE_PL).unwrap_or_default());

/// Something with a stable code and a Polish text: an error a user may be shown.
pub trait Coded {
    /// The stable code, e.g. `"stage.move-not-allowed"`.
    fn code(&self) -> &'static str;

    /// The values the code's text names, by placeholder.
    fn args(&self) -> Vec<(&'static str, String)>;

    /// The Polish text for the user.
    fn message_pl(&self) -> String {
        message_pl(self.code(), &self.args())
    }
}

/// The Polish text of `code` with `args` filled in; a code the catalogue lacks (a test keeps
/// there being none) reads as "Błąd: code".
pub fn message_pl(code: &str, args: &[(&str, String)]) -> String {
    let Some(text) = CATALOGUE.messages.get(code) else {
        return format!("Błąd: {code}");
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let placeholder = &rest[open + 1..open + close];
        let (name, kind) = match placeholder.split_once(':') {
            Some((name, kind)) => (name, Some(kind)),
            None => (placeholder, None),
        };
        if let Some((_, value)) = args.iter().find(|(arg, _)| *arg == name) {
            match kind {
                Some(kind) => {
                    let items: Vec<&str> = value.split(", ").map(|v| label_pl(kind, v)).collect();
                    out.push_str(&items.join(", "));
                }
                None => out.push_str(value),
            }
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// The Polish label of a value of the model (`kind` e.g. `"stage"`), or the value itself.
pub fn label_pl<'a>(kind: &str, value: &'a str) -> &'a str {
    CATALOGUE
        .labels
        .get(kind)
        .and_then(|labels| labels.get(value))
        .map_or(value, String::as_str)
}

/// The code a text carries anywhere in it (`[code] `, as [`coded_text`] writes it; an SDK's
/// error may quote a close reason after words of its own), when the catalogue knows the code.
pub fn find_code(text: &str) -> Option<&'static str> {
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        if let Some((code, _)) = rest.split_once("] ") {
            if let Some((known, _)) = CATALOGUE.messages.get_key_value(code) {
                return Some(known.as_str());
            }
        }
    }
    None
}

/// Every code the catalogue has a text for.
pub fn catalogue_codes() -> impl Iterator<Item = &'static str> {
    CATALOGUE.messages.keys().map(String::as_str)
}

/// Whether the compiled-in catalogue parsed (a test asserts it).
pub fn catalogue_parses() -> Result<(), String> {
    serde_json::from_str::<Catalogue>(CATALOGUE_PL)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

impl Coded for RuleViolation {
    fn code(&self) -> &'static str {
        RuleViolation::code(self)
    }
    fn args(&self) -> Vec<(&'static str, String)> {
        RuleViolation::args(self)
    }
}

impl Coded for SchemaError {
    fn code(&self) -> &'static str {
        match self {
            SchemaError::UnknownType(_) => "document.unknown-type",
            SchemaError::UnsupportedVersion { .. } => "document.unsupported-version",
            SchemaError::Field { .. } => "field.invalid",
            SchemaError::Rule(violation) => violation.code(),
            SchemaError::Automerge(_) => "document.automerge",
        }
    }
    fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            SchemaError::UnknownType(reason) => vec![("reason", reason.clone())],
            SchemaError::UnsupportedVersion { found, supported } => vec![
                ("found", found.to_string()),
                ("supported", supported.to_string()),
            ],
            SchemaError::Field { path, reason } => {
                vec![("path", path.clone()), ("reason", reason.clone())]
            }
            SchemaError::Rule(violation) => violation.args(),
            SchemaError::Automerge(reason) => vec![("reason", reason.clone())],
        }
    }
}

impl Coded for Refusal {
    fn code(&self) -> &'static str {
        match self {
            Refusal::ForgedActor { .. } => "refusal.forged-actor",
            Refusal::ForgedAuthor { .. } => "refusal.forged-author",
            Refusal::ActorOfAnotherDevice => "refusal.actor-of-another-device",
            Refusal::Invalid(schema) => schema.code(),
            Refusal::TypeChanged => "refusal.type-changed",
            Refusal::NoOwner => "refusal.no-owner",
            Refusal::UnknownUser => "refusal.unknown-user",
            Refusal::NotTeamAnimator => "refusal.not-team-animator",
            Refusal::MayNotOpenCases => "refusal.may-not-open-cases",
            Refusal::PzkPartNotEditable(_) => "refusal.pzk-part-not-editable",
            Refusal::ReferralNoPzkRelation => "refusal.referral-no-pzk-relation",
            Refusal::ReferralNotToSocialServices => "refusal.referral-not-social-services",
            Refusal::ReferralChanged => "refusal.referral-changed",
            Refusal::ConsultationNotCaseWriter => "refusal.consultation-not-case-writer",
            Refusal::ConsultationAnswerNotAddressed => "refusal.consultation-answer-not-addressed",
            Refusal::MinutesApprovalNotAllowed(_) => "refusal.minutes-approval-not-allowed",
            Refusal::JusticeNotAllowed => "refusal.justice-not-allowed",
            Refusal::JusticeCaseChanged => "refusal.justice-case-changed",
            Refusal::Rule(_) => "refusal.rule",
            Refusal::HostFailed(_) => "refusal.host-failed",
        }
    }
    fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            Refusal::ForgedAuthor { claimed, .. } => vec![("claimed", claimed.clone())],
            Refusal::MinutesApprovalNotAllowed(meeting) => vec![("meeting", meeting.clone())],
            Refusal::Invalid(schema) => schema.args(),
            Refusal::PzkPartNotEditable(part) => vec![("part", part.clone())],
            _ => Vec::new(),
        }
    }
}

/// The code of the `error` message to a peer whose changes came in a batch with refused ones.
pub const BATCH_DISCARDED: &str = "server.batch-discarded";
/// The code of the `error` message when the server cannot read a document from its store.
pub const DOCUMENT_UNAVAILABLE: &str = "server.document-unavailable";
/// The code of the `error` message when the server could not store a peer's changes.
pub const STORE_FAILED: &str = "server.store-failed";
/// The close reason of a revoked device's live connections (close code 4001): the device
/// wipes its store at once.
pub const DEVICE_REVOKED: &str = "server.device-revoked";

/// A message to a peer that carries its code: `[code] words`, so a client finds the code in
/// the `error` message's text and the close frame's reason (both keep the wire format of
/// automerge-repo, whose `error` message has only a `message`). The code comes first, so a
/// close reason cut to a frame's 123 bytes keeps it.
pub fn coded_text(code: &str, words: &str) -> String {
    format!("[{code}] {words}")
}

/// The code and the words of a message written by [`coded_text`]; a message without a code
/// (from another server) has none.
pub fn split_code(message: &str) -> (Option<&str>, &str) {
    let Some(rest) = message.strip_prefix('[') else {
        return (None, message);
    };
    match rest.split_once("] ") {
        Some((code, words)) if !code.is_empty() && !code.contains(char::is_whitespace) => {
            (Some(code), words)
        }
        _ => (None, message),
    }
}

#[cfg(test)]
mod tests;
