// The PZK teams a user may open in the app: the PZK documents the shell lists for them (the
// server lists a team's document to its animator, its assigned ROPS advisers and the members
// of its institutions), each read for its name and animator. Who runs a team here is the
// server's rule (`writes_pzk`): its animator, or a ROPS adviser the server lets write it.

import type { DocHandle } from "@automerge/automerge-repo/slim"

import type { DocumentEntry, Me } from "../../api"
import type { AppContext } from "../context"
import { entries, find } from "../screens/documents"

/** The PZK document as the screens read its head (the rest is read by the model). */
export type TeamDoc = Record<string, unknown>

/** One team the user may open. */
export interface TeamRow {
  documentId: string
  entry: DocumentEntry
  /** The team's name, or null while the document is not on the device yet. */
  name: string | null
  animator: string | null
}

/** A team opened on its page: the handle, and what the user may do in it. */
export interface Team {
  documentId: string
  entry: DocumentEntry
  handle: DocHandle<TeamDoc>
  /** May write the team's document at all (the server lists it read-write). */
  writes: boolean
  /** Runs the team: schedules meetings, approves their minutes (the animator). */
  runs: boolean
}

const text = (value: unknown): string | null => (value === undefined || value === null ? null : String(value))

/** The team's name and animator as its document says (null for a document not loaded). */
export function teamHead(doc: TeamDoc | undefined): { name: string | null; animator: string | null } {
  return { name: text(doc?.name), animator: text(doc?.animator) }
}

/** Whether `me` is the team's animator (named in its document, with the animator role). */
export function animates(me: Me, doc: TeamDoc | undefined): boolean {
  return me.roles.includes("animator") && teamHead(doc).animator === me.login
}

/** Whether `me` runs the team: its animator, or a ROPS adviser the server lets write it. */
export function runsTeam(me: Me, entry: DocumentEntry, doc: TeamDoc | undefined): boolean {
  if (entry.access !== "read-write") return false
  return animates(me, doc) || me.roles.includes("rops-adviser")
}

/** The PZK teams this user may open, by name. */
export async function listTeams(context: AppContext): Promise<TeamRow[]> {
  const { pzk } = await entries(context)
  const rows = await Promise.all(
    pzk.map(async entry => {
      const doc = (await find<TeamDoc>(context, entry))?.doc()
      return { documentId: entry.document_id, entry, ...teamHead(doc) }
    }),
  )
  return rows.sort((a, b) => (a.name ?? "\uffff").localeCompare(b.name ?? "\uffff", "pl") || a.documentId.localeCompare(b.documentId))
}

/** Opens team `documentId`, or explains in Polish why it cannot be opened. */
export async function openTeam(context: AppContext, documentId: string): Promise<Team> {
  const { pzk } = await entries(context)
  const entry = pzk.find(e => e.document_id === documentId)
  if (!entry) throw new Error("Nie masz dostępu do tego zespołu PZK albo on nie istnieje.")
  const handle = await find<TeamDoc>(context, entry)
  if (!handle?.doc()) throw new Error("Dokumentu zespołu nie ma jeszcze na tym urządzeniu — pojawi się po połączeniu z serwerem.")
  const writes = entry.access === "read-write" && context.me.institution !== null
  return { documentId, entry, handle, writes, runs: writes && runsTeam(context.me, entry, handle.doc()) }
}
