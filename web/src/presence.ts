// Who is in the meeting, over automerge-repo's own Presence (ephemeral messages the server
// relays to the peers that may read the document and never stores).
//
// Kooperacja's convention, shared with the Rust SDK: channel `member` is
// `{login, name, institution}`, channel `focus` is `{section, editing}` with a section such as
// "agenda", "minutes", "attendance", "decisions" or "services"; the case app's meeting page adds
// channel `meeting`, the id of the meeting open (a team's document holds all its meetings).

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
  meeting?: string
  [channel: string]: unknown
}

/** A peer present in the meeting. */
export interface PresentPeer {
  peerId: PeerId
  member?: MemberState
  focus?: FocusState
  /** The meeting the peer has open, when it says. */
  meeting?: string
}

/** Heartbeat every 5 s; a peer silent for 15 s is gone. */
export const HEARTBEAT_MS = 5000
export const PEER_TTL_MS = 15000

/** This page's presence in one PZK document. */
export class MeetingPresence {
  readonly #presence: Presence<MeetingPresenceState>

  constructor(
    handle: DocHandle<unknown>,
    member: MemberState,
    onChange: (peers: PresentPeer[]) => void,
    meeting?: string,
  ) {
    this.#presence = new Presence<MeetingPresenceState>({ handle })
    const changed = () => onChange(this.peers())
    for (const event of ["update", "snapshot", "goodbye", "pruning"] as const) {
      this.#presence.on(event, changed)
    }
    this.#presence.start({
      initialState: { member, focus: { section: "agenda", editing: false }, ...(meeting === undefined ? {} : { meeting }) },
      heartbeatMs: HEARTBEAT_MS,
      peerTtlMs: PEER_TTL_MS,
    })
    addEventListener("pagehide", () => this.#presence.stop())
  }

  /** Leaves the meeting (a page of the app that closes; the others see a goodbye). */
  stop(): void {
    this.#presence.stop()
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
      meeting: typeof state.value.meeting === "string" ? state.value.meeting : undefined,
    }))
  }
}
