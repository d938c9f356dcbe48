//! What one connected peer can make a server engine hold or do for it, driven without IO: a
//! reader flooding ephemeral messages with huge, ever new session ids; a reader over its
//! ephemeral rate; a peer taking the peer id of another user's live connection.

use sync_core::engine::{
    close_code, AllowAll, ConnId, Direction, Effect, Engine, EngineConfig, Event, Input, Millis,
    Principal,
};
use sync_core::wire::{Ephemeral, Join, Message, PeerMetadata};
use sync_core::{DocumentId, PeerId};

fn peer(id: &str) -> PeerId {
    PeerId::new(id).expect("peer id")
}

fn server(config: impl FnOnce(&mut EngineConfig)) -> Engine<AllowAll> {
    let mut settings = EngineConfig::server(peer("rops"));
    config(&mut settings);
    Engine::new(settings, AllowAll)
}

/// `user` connects from `device` on `conn` and joins as `peer_id`; returns the effects of the
/// join.
fn joins(
    engine: &mut Engine<AllowAll>,
    conn: u64,
    user: &str,
    device: &str,
    peer_id: &str,
) -> Vec<Effect> {
    let conn = ConnId(conn);
    engine.handle(
        Millis(0),
        Input::Connected {
            conn,
            direction: Direction::Inbound,
            principal: Principal::new(user, device),
        },
    );
    let join = Message::Join(Join {
        sender_id: peer(peer_id),
        metadata: PeerMetadata::default(),
        supported_protocol_versions: vec!["1".into()],
    });
    engine.handle(
        Millis(0),
        Input::Received {
            conn,
            message: join,
        },
    )
}

fn ephemeral(sender: &str, session: String, count: u64, data: Vec<u8>) -> Message {
    Message::Ephemeral(Ephemeral {
        sender_id: peer(sender),
        target_id: peer("rops"),
        document_id: DocumentId::from_bytes([1; 16]),
        count,
        session_id: session,
        data,
    })
}

fn closed(effects: &[Effect], conn: u64) -> Option<(u16, String)> {
    effects.iter().find_map(|e| match e {
        Effect::Close {
            conn: c,
            code,
            reason,
        } if c.0 == conn => Some((*code, reason.clone())),
        _ => None,
    })
}

fn relayed(effects: &[Effect]) -> usize {
    effects
        .iter()
        .filter(|e| matches!(e, Effect::Event(Event::Ephemeral { .. })))
        .count()
}

#[test]
fn a_flood_of_huge_new_sessions_keeps_the_table_within_its_bounds() {
    let (entries, bytes) = (500, 256 * 1024);
    let mut engine = server(|c| {
        c.ephemeral_sessions = entries;
        c.ephemeral_sessions_bytes = bytes;
        // The rate is not what is tested here: every message reaches the table.
        c.ephemeral_per_second = u32::MAX;
        c.ephemeral_burst = u32::MAX;
    });
    joins(&mut engine, 1, "mallory", "tablet-m", "reader");
    let longest = engine_config_max_session_id();
    let mut largest = (0, 0);
    for n in 0..20_000u64 {
        let session = format!("{n:0>longest$}");
        let effects = engine.handle(
            Millis(n),
            Input::Received {
                conn: ConnId(1),
                message: ephemeral("reader", session, 1, vec![0; 64]),
            },
        );
        assert_eq!(relayed(&effects), 1, "a new session is relayed");
        let (now_entries, now_bytes) = engine.ephemeral_sessions();
        largest = (largest.0.max(now_entries), largest.1.max(now_bytes));
    }
    assert!(largest.0 <= entries, "{largest:?}");
    assert!(largest.1 <= bytes, "{largest:?}");
    // Both bounds were reached: the table evicted, it did not just stay small.
    assert!(largest.1 > bytes - 4096, "{largest:?}");

    // One byte more than the longest session id, or data over the cap: refused and cut off.
    let too_long = "x".repeat(longest + 1);
    let effects = engine.handle(
        Millis(30_000),
        Input::Received {
            conn: ConnId(1),
            message: ephemeral("reader", too_long, 1, vec![]),
        },
    );
    let (code, reason) = closed(&effects, 1).expect("the reader is cut off");
    assert_eq!(code, close_code::TOO_BIG);
    assert!(reason.contains("session id"), "{reason}");

    joins(&mut engine, 2, "mallory", "tablet-m", "reader");
    let huge = vec![0; sync_core::engine::DEFAULT_MAX_EPHEMERAL + 1];
    let effects = engine.handle(
        Millis(30_001),
        Input::Received {
            conn: ConnId(2),
            message: ephemeral("reader", "s".into(), 1, huge),
        },
    );
    let (code, reason) = closed(&effects, 2).expect("the reader is cut off");
    assert_eq!(code, close_code::TOO_BIG);
    assert!(reason.contains("over the limit"), "{reason}");
}

fn engine_config_max_session_id() -> usize {
    EngineConfig::server(peer("rops")).max_session_id
}

#[test]
fn a_reader_over_its_ephemeral_rate_is_not_relayed() {
    let mut engine = server(|c| {
        c.ephemeral_per_second = 10;
        c.ephemeral_burst = 30;
    });
    joins(&mut engine, 1, "mallory", "tablet-m", "reader");
    let send = |engine: &mut Engine<AllowAll>, at: u64, count: u64| {
        relayed(&engine.handle(
            Millis(at),
            Input::Received {
                conn: ConnId(1),
                message: ephemeral("reader", "s".into(), count, vec![1]),
            },
        ))
    };
    // A burst of 1,000 at once: the first 30 go through.
    let burst: usize = (1..=1000).map(|n| send(&mut engine, 1_000, n)).sum();
    assert_eq!(burst, 30);
    // Two seconds later, 20 more have been earned.
    let later: usize = (1001..=2000).map(|n| send(&mut engine, 3_000, n)).sum();
    assert_eq!(later, 20);
}

#[test]
fn a_peer_id_in_use_by_another_device_is_refused_and_its_own_device_may_replace_it() {
    let mut engine = server(|_| {});
    let effects = joins(&mut engine, 1, "anna", "tablet-anna", "tablet-anna-peer");
    assert!(closed(&effects, 1).is_none());

    // Mallory joins with Anna's peer id: she is refused and told why; Anna stays connected.
    let effects = joins(&mut engine, 2, "mallory", "tablet-m", "tablet-anna-peer");
    let (code, reason) = closed(&effects, 2).expect("the newcomer is refused");
    assert_eq!(code, close_code::POLICY_VIOLATION);
    assert!(reason.contains("in use by another device"), "{reason}");
    assert!(closed(&effects, 1).is_none(), "the incumbent keeps working");
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::Send { conn: ConnId(2), message: Message::Error { message } }
            if message.contains("in use by another device")
    )));
    let effects = engine.handle(
        Millis(1),
        Input::Received {
            conn: ConnId(1),
            message: ephemeral("tablet-anna-peer", "s".into(), 1, vec![1]),
        },
    );
    assert_eq!(relayed(&effects), 1, "Anna's connection still works");

    // Anna's tablet reconnects (its old connection gone stale): the new one replaces it.
    let effects = joins(&mut engine, 3, "anna", "tablet-anna", "tablet-anna-peer");
    assert_eq!(
        closed(&effects, 1).map(|(code, _)| code),
        Some(close_code::REPLACED)
    );
    assert!(closed(&effects, 3).is_none());
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::Send {
            conn: ConnId(3),
            message: Message::Peer(_)
        }
    )));
}
