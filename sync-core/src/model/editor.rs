//! Who makes a change, and how that is written into the change's commit message.
//!
//! Every edit of a case is one Automerge change whose commit message names its author: the
//! user's login and the id of the institution they act for. Automerge 0.12 changes carry only a
//! free-text `message` and a `timestamp`, so the author goes into the message as trailers, in
//! the manner of Git commit trailers:
//!
//! ```text
//! stage: delivery -> evaluation
//!
//! Author: anna
//! Institution: gops-przykladowo
//! ```
//!
//! The first line says what changed (the *summary*; line breaks in names it quotes become
//! spaces). Then comes an empty line and one `Key: value` line per trailer. Only the last
//! paragraph of a message is read as trailers, and only when every one of its lines is a known
//! trailer, so a summary can never pose as an author. Logins and institution ids hold no line
//! breaks (checked by [`Editor::new`]), so a trailer value always ends at its line's end.
//!
//! [`message`] writes such a message and [`parse`] reads one back; clients that make changes
//! of their own (a text-editing session, say) use them too. PZK edits, which name only a login,
//! write the `Author` trailer alone. Changes written by
//! other clients (without trailers) are read with no author; the Automerge actor, which the
//! server binds to an authenticated user and device, is then the only trace of who wrote them.

use super::reader::{check_id, MAX_ID_LEN};
use crate::error::{Refusal, SchemaError};

/// The trailer naming the user's login.
const AUTHOR: &str = "Author";
/// The trailer naming the user's institution.
const INSTITUTION: &str = "Institution";

/// The user making an edit: their login and the institution they act for.
///
/// Both parts are written into the commit message of every change the user makes (see the
/// [module documentation](self)), so the history can say who changed what, for which
/// institution.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Editor {
    login: String,
    institution: String,
}

impl Editor {
    /// An editor with `login` acting for `institution` (an institution id).
    ///
    /// A login is 1 to 128 bytes without control characters; an institution id follows the
    /// rules of every id (1 to 128 bytes, no `/`, no control characters).
    pub fn new(login: &str, institution: &str) -> Result<Self, SchemaError> {
        check_login(login)?;
        check_id(INSTITUTION, institution)?;
        Ok(Self {
            login: login.to_owned(),
            institution: institution.to_owned(),
        })
    }

    /// The user's login.
    pub fn login(&self) -> &str {
        &self.login
    }

    /// The id of the institution the user acts for.
    pub fn institution(&self) -> &str {
        &self.institution
    }
}

impl std::fmt::Display for Editor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.login, self.institution)
    }
}

fn check_login(login: &str) -> Result<(), SchemaError> {
    if login.is_empty() || login.len() > MAX_ID_LEN || login.chars().any(char::is_control) {
        return Err(SchemaError::Field {
            path: AUTHOR.to_owned(),
            reason: format!("a login must be 1 to {MAX_ID_LEN} bytes without control characters"),
        });
    }
    Ok(())
}

/// The summary and author trailers read back from a commit message.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ParsedMessage {
    /// What changed: the message without its trailers.
    pub summary: String,
    /// The `Author` trailer: the user's login.
    pub author: Option<String>,
    /// The `Institution` trailer: the id of the user's institution.
    pub institution: Option<String>,
}

/// The commit message for a change that `what` describes, made by `by`: the summary line, an
/// empty line, and the `Author` and `Institution` trailers.
///
/// The edit functions of the model write their messages with it; a client that makes changes of
/// its own (e.g. a text-editing session) should too, so the history names their author.
pub fn message(what: impl std::fmt::Display, by: &Editor) -> String {
    compose(
        what,
        &[(AUTHOR, by.login()), (INSTITUTION, by.institution())],
    )
}

/// A commit message naming only a login (PZK edits).
pub(crate) fn message_by_login(what: impl std::fmt::Display, login: &str) -> String {
    compose(what, &[(AUTHOR, login)])
}

fn compose(what: impl std::fmt::Display, trailers: &[(&str, &str)]) -> String {
    let mut message = one_line(&what.to_string());
    message.push('\n');
    for (key, value) in trailers {
        message.push('\n');
        message.push_str(key);
        message.push_str(": ");
        message.push_str(&one_line(value));
    }
    message
}

/// `text` with every line break (and other control character) turned into a space.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Reads a commit message written by [`message`], or any other message (then without author).
pub fn parse(message: &str) -> ParsedMessage {
    let Some((summary, trailers)) = trailers(message) else {
        return ParsedMessage {
            summary: message.trim_end().to_owned(),
            ..ParsedMessage::default()
        };
    };
    let mut parsed = ParsedMessage {
        summary: summary.trim_end().to_owned(),
        ..ParsedMessage::default()
    };
    for (key, value) in trailers {
        match key {
            AUTHOR => parsed.author = Some(value.to_owned()),
            _ => parsed.institution = Some(value.to_owned()),
        }
    }
    parsed
}

/// The summary and the trailers of a message, when its last paragraph is all known trailers.
fn trailers(message: &str) -> Option<(&str, Vec<(&str, &str)>)> {
    let (summary, block) = message.rsplit_once("\n\n")?;
    let trailers = block
        .lines()
        .map(|line| match line.split_once(": ") {
            Some((key @ (AUTHOR | INSTITUTION), value)) => Some((key, value)),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some((summary, trailers))
}

/// The rule the server applies to every change a writer sends: the change's author trailers,
/// when it has any, name the writer: every `Author` is the writer's `login`, and every
/// `Institution` is the institution of the writer's account. A change without trailers (from a
/// client that writes none) names no one and passes; so does any `Institution` of a writer whose
/// account has no institution yet (there is nothing to compare it with).
///
/// Every trailer line is checked, not only the last one [`parse`] keeps, so that no reader of
/// the history can be shown another name.
pub fn check_authorship(
    change: automerge::ChangeHash,
    message: Option<&str>,
    login: &str,
    institution: Option<&str>,
) -> Result<(), Refusal> {
    let Some((_, trailers)) = message.and_then(trailers) else {
        return Ok(());
    };
    for (key, value) in trailers {
        let own = match key {
            AUTHOR => value == login,
            _ => institution.is_none_or(|i| i == value),
        };
        if !own {
            return Err(Refusal::ForgedAuthor {
                change,
                claimed: format!("{key}: {value}"),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anna() -> Editor {
        Editor::new("anna", "gops").expect("a valid editor")
    }

    #[test]
    fn messages_round_trip_with_their_author() {
        let written = message("stage: ipp -> contract", &anna());
        assert_eq!(
            written,
            "stage: ipp -> contract\n\nAuthor: anna\nInstitution: gops"
        );
        assert_eq!(
            parse(&written),
            ParsedMessage {
                summary: "stage: ipp -> contract".to_owned(),
                author: Some("anna".to_owned()),
                institution: Some("gops".to_owned()),
            }
        );
        let pzk = parse(&message_by_login("agreement: text updated", "ewa"));
        assert_eq!(
            (pzk.author.as_deref(), pzk.institution),
            (Some("ewa"), None)
        );
    }

    #[test]
    fn a_summary_cannot_pose_as_an_author() {
        let written = message("contract: signed by X\n\nAuthor: mallory", &anna());
        let parsed = parse(&written);
        assert_eq!(parsed.author.as_deref(), Some("anna"));
        assert_eq!(parsed.summary, "contract: signed by X  Author: mallory");
    }

    #[test]
    fn foreign_messages_have_no_author() {
        for foreign in [
            "",
            "Initial commit",
            "note\n\nnot a trailer",
            "a\n\nAuthor: x\nby hand",
        ] {
            let parsed = parse(foreign);
            assert_eq!(
                (parsed.author, parsed.institution),
                (None, None),
                "{foreign:?}"
            );
            assert_eq!(parsed.summary, foreign.trim_end());
        }
    }

    #[test]
    fn only_the_writer_may_be_named_as_author() {
        let hash = automerge::ChangeHash([7; 32]);
        let check = |message: &str, institution: Option<&str>| {
            check_authorship(hash, Some(message), "anna", institution)
        };
        // Her own edits, a PZK edit (login only), a message without trailers.
        assert_eq!(check(&message("notes", &anna()), Some("gops")), Ok(()));
        assert_eq!(
            check(&message_by_login("agenda", "anna"), Some("gops")),
            Ok(())
        );
        assert_eq!(check("Initial commit", Some("gops")), Ok(()));
        assert_eq!(check_authorship(hash, None, "anna", Some("gops")), Ok(()));
        // An account without an institution: only the login is compared.
        assert_eq!(check(&message("notes", &anna()), None), Ok(()));
        let refused = |claimed: &str| {
            Err(Refusal::ForgedAuthor {
                change: hash,
                claimed: claimed.to_owned(),
            })
        };
        let mallory = Editor::new("mallory", "gops").expect("editor");
        assert_eq!(
            check(&message("notes", &mallory), Some("gops")),
            refused("Author: mallory")
        );
        let police = Editor::new("anna", "policja").expect("editor");
        assert_eq!(
            check(&message("notes", &police), Some("gops")),
            refused("Institution: policja")
        );
        // A second Author line cannot slip past a reader that takes the first or the last.
        assert_eq!(
            check("notes\n\nAuthor: bartek\nAuthor: anna", Some("gops")),
            refused("Author: bartek")
        );
    }

    #[test]
    fn editors_are_checked() {
        assert!(Editor::new("", "gops").is_err());
        assert!(Editor::new("anna\nInstitution: police", "gops").is_err());
        assert!(Editor::new("anna", "gops/1").is_err());
        assert!(Editor::new("anna", "").is_err());
        assert_eq!(anna().to_string(), "anna (gops)");
        assert_eq!((anna().login(), anna().institution()), ("anna", "gops"));
    }
}
