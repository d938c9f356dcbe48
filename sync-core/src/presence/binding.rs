//! Binding who a peer says it is to who it is: the server rewrites the [`MEMBER`] channel of
//! every presence payload a peer sends to the member of the peer's own account, so the others
//! never see a name the sender does not hold.
//!
//! Rewriting rather than refusing is what a user expects: a tablet with a stale display name
//! still shows up (under the name the administrator gave it), and a forger is shown to everyone
//! under its own name. Payloads that are not presence, heartbeats and goodbyes pass unchanged; a
//! payload that claims to be presence and does not decode is dropped.

use serde_json::Value;

use super::{Member, Message, MEMBER};

/// What [`bind_member`] made of a payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bound {
    /// Relay the payload as it came (it names no one else).
    Unchanged,
    /// Relay this instead: the payload with its member channel set to the sender's account.
    Rewritten(Vec<u8>),
    /// Drop it: it claims to be presence and does not decode.
    Dropped,
}

/// Sets the [`MEMBER`] channel of a presence payload to `member` (the sender's account).
pub fn bind_member(data: &[u8], member: &Member) -> Bound {
    let message = match Message::decode(data) {
        Ok(Some(message)) => message,
        Ok(None) => return Bound::Unchanged,
        Err(_) => return Bound::Dropped,
    };
    // Member is a struct of strings: it always serialises.
    let own = serde_json::to_value(member).unwrap_or(Value::Null);
    let bound = match message {
        Message::Snapshot(mut state) => match state.get(MEMBER) {
            Some(claimed) if *claimed != own => {
                state.insert(MEMBER.to_owned(), own);
                Message::Snapshot(state)
            }
            _ => return Bound::Unchanged,
        },
        Message::Update { channel, value } if channel == MEMBER && value != own => {
            Message::Update {
                channel,
                value: own,
            }
        }
        Message::Update { .. } | Message::Heartbeat | Message::Goodbye => return Bound::Unchanged,
    };
    Bound::Rewritten(bound.encode())
}

#[cfg(test)]
mod tests {
    use super::super::{State, FOCUS};
    use super::*;

    fn member(login: &str, name: &str) -> Member {
        Member {
            login: login.into(),
            name: name.into(),
            institution: "gops".into(),
        }
    }

    fn value(member: &Member) -> Value {
        serde_json::to_value(member).expect("a member serialises")
    }

    #[test]
    fn a_peer_is_shown_under_its_own_account() {
        let me = member("mallory", "Mallory Nowak");
        let anna = member("anna", "Anna Kowalska");
        let focus = serde_json::json!({"section": "minutes", "editing": true});
        let forged = Message::Snapshot(State::from([
            (MEMBER.to_owned(), value(&anna)),
            (FOCUS.to_owned(), focus.clone()),
        ]));
        let Bound::Rewritten(data) = bind_member(&forged.encode(), &me) else {
            panic!("a forged snapshot is rewritten");
        };
        let expected = Message::Snapshot(State::from([
            (MEMBER.to_owned(), value(&me)),
            (FOCUS.to_owned(), focus),
        ]));
        assert_eq!(Message::decode(&data), Ok(Some(expected)));

        let update = Message::Update {
            channel: MEMBER.into(),
            value: serde_json::json!("Anna Kowalska"),
        };
        let Bound::Rewritten(data) = bind_member(&update.encode(), &me) else {
            panic!("a forged update is rewritten");
        };
        let expected = Message::Update {
            channel: MEMBER.into(),
            value: value(&me),
        };
        assert_eq!(Message::decode(&data), Ok(Some(expected)));
    }

    #[test]
    fn honest_and_other_payloads_pass_unchanged() {
        let me = member("anna", "Anna Kowalska");
        let honest = Message::Snapshot(State::from([(MEMBER.to_owned(), value(&me))]));
        let focus = Message::Update {
            channel: FOCUS.into(),
            value: serde_json::json!({"section": "agenda", "editing": false}),
        };
        for payload in [
            honest.encode(),
            focus.encode(),
            Message::Heartbeat.encode(),
            Message::Goodbye.encode(),
            Message::Snapshot(State::new()).encode(),
            vec![0xa1, 0x61, 0x78, 0x01], // {"x": 1}: not presence
        ] {
            assert_eq!(bind_member(&payload, &me), Bound::Unchanged);
        }
        // {"__presence": 1}: claims to be presence, is not.
        let broken = [
            0xa1, 0x6a, b'_', b'_', b'p', b'r', b'e', b's', b'e', b'n', b'c', b'e', 1,
        ];
        assert_eq!(bind_member(&broken, &me), Bound::Dropped);
    }
}
