//! Seeds for the `engine_input` target's corpus: scripts of well-behaved and hostile sessions
//! in the step language of [`super::engine`].

use super::engine::peer_id;
use crate::wire::Message;

/// Scripts of well-behaved and hostile sessions: seeds for the corpus (name, bytes).
pub fn seed_scripts() -> Vec<(&'static str, Vec<u8>)> {
    let connect_join = |slot: u8| vec![0, slot, 0, 1, slot, 0, 2];
    let mut writer = connect_join(0);
    // Two changes to document 0, a tick, one to document 1, a tick.
    writer.extend([
        12, 0, 0, 1, 7, 0, 12, 0, 0, 2, 9, 0, 7, 0, 0, 2, 14, 0, 0, 12, 0, 1, 3, 4, 0,
    ]);
    writer.extend([7, 0, 0, 20]);

    let mut readers = connect_join(0);
    readers.extend(connect_join(1));
    readers.extend([
        12, 0, 0, 1, 5, 0, 7, 0, 0, 1, 14, 1, 0, 7, 0, 0, 1, 12, 1, 0, 2, 2, 0, 7,
    ]);
    readers.extend([0, 0, 1]);

    let mut storage = vec![6u8];
    storage.extend(connect_join(0));
    storage.extend([
        9, 0, 0, 0, 12, 0, 0, 1, 1, 0, 7, 0, 0, 1, 12, 0, 0, 2, 2, 0, 7, 0, 0, 1,
    ]);
    storage.extend([
        9, 0, 0, 2, 7, 0, 0, 1, 9, 0, 0, 3, 12, 0, 1, 1, 1, 0, 7, 0, 0, 1,
    ]);

    let mut raw = connect_join(2);
    let frame = crate::wire::encode(&Message::Leave {
        sender_id: peer_id(2),
    });
    raw.extend([2, 2, 0]);
    raw.extend((frame.len() as u16).to_le_bytes());
    raw.extend(frame);
    raw.extend([3, 2, 2, 3, 0, 0x42, 0x00, 0x01]);

    let mut presence = connect_join(0);
    presence.extend(connect_join(1));
    presence.extend([15, 0, 0, 14, 1, 0, 7, 0, 0, 1]);
    let payload = crate::presence::Message::Heartbeat.encode();
    presence.extend([5, 0, 0, 1]);
    presence.extend((payload.len() as u16).to_le_bytes());
    presence.extend(payload);
    presence.extend([1, 0, 11, 0, 0, 10, 0, 0, 0]);

    // The relay path (flag 8, changes inspected): a writer types while a reader follows,
    // storage held for a while, then a map edit and typing again.
    let mut relay = vec![8u8 | 2];
    relay.extend(connect_join(0));
    relay.extend(connect_join(1));
    relay.extend([15, 1, 0, 14, 1, 0, 7, 0, 0, 1]);
    for at in 0..4u8 {
        relay.extend([13, 0, 0, at, 2, 0, 0, 7, 0, 0, 1, 14, 1, 0]);
    }
    relay.extend([
        9, 0, 0, 0, 13, 0, 0, 9, 1, 0, 0, 7, 0, 0, 1, 9, 0, 0, 2, 7, 0, 0, 1,
    ]);
    relay.extend([
        12, 0, 0, 3, 4, 0, 7, 0, 0, 1, 14, 1, 0, 13, 0, 0, 0, 1, 2, 0, 7, 0, 0, 1,
    ]);
    relay.extend([
        13, 0, 0, 0, 0, 0, 7, 7, 0, 0, 1, 14, 1, 0, 8, 1, 0, 13, 0, 0, 5, 2, 0, 0,
    ]);
    relay.extend([0, 1, 1, 1, 1, 0, 2, 15, 1, 0, 14, 1, 0, 7, 0, 0, 1]);

    vec![
        ("writer", writer),
        ("reader", readers),
        ("storage-faults", storage),
        ("raw-frames", raw),
        ("presence", presence),
        ("relay", relay),
    ]
}
