// Who is in the meeting, over automerge-repo's own Presence (ephemeral messages the server
// relays to the peers that may read the document and never stores).
//
// Kooperacja's convention, shared with the Rust SDK: channel `member` is
// `{login, name, institution}`, channel `focus` is `{section, editing}` with a section such as
// "agenda", "minutes", "attendance", "decisions" or "services".

import { Presence, type DocHandle, type PeerId } from "@automerge/automerge-repo/slim"

/** Channel `member`: who a peer is. */
export interface MemberState {
  login: string
  name: string
  institution: string
}

/** Channel `focus`: where a peer is working. */
export interface FocusState {
  section: string
  editing: boolean
}

/** A peer's presence state. */
export interface MeetingPresenceState {
  member: MemberState
  focus: FocusState
  [channel: string]: unknown
}

/** A peer present in the meeting. */
export interface PresentPeer {
  peerId: PeerId
  member?: MemberState
  focus?: FocusState
}

/** Heartbeat every 5 s; a peer silent for 15 s is gone. */
export const HEARTBEAT_MS = 5000
export const PEER_TTL_MS = 15000

/** This page's presence in one PZK document. */
export class MeetingPresence {
  readonly #presence: Presence<MeetingPresenceState>

  constructor(handle: DocHandle<unknown>, member: MemberState, onChange: (peers: PresentPeer[]) => void) {
    this.#presence = new Presence<MeetingPresenceState>({ handle })
    const changed = () => onChange(this.peers())
    for (const event of ["update", "snapshot", "goodbye", "pruning"] as const) {
      this.#presence.on(event, changed)
    }
    this.#presence.start({
      initialState: { member, focus: { section: "agenda", editing: false } },
      heartbeatMs: HEARTBEAT_MS,
      peerTtlMs: PEER_TTL_MS,
    })
    addEventListener("pagehide", () => this.#presence.stop())
  }

  /** Says where this page's user is working now (sent only when it changed). */
  focus(section: string, editing: boolean): void {
    const now = this.#presence.getLocalState().focus
    if (now.section === section && now.editing === editing) return
    this.#presence.broadcast("focus", { section, editing })
  }

  /** The other peers, by peer id. */
  peers(): PresentPeer[] {
    const states = this.#presence.getPeerStates().getStates()
    return Object.values(states).map(state => ({
      peerId: state.peerId,
      member: state.value.member,
      focus: state.value.focus,
    }))
  }
}
