// The case's police and court information (GDPR art. 10) for the card: found through the case's
// link (`justiceDocument`), held by this device only when the server lets this user hold it
// (the case's owner and users of the justice-sector institutions assigned to the case). Who
// else reads the case never gets the document, and the card shows them no trace of it.

import type { DocHandle } from "@automerge/automerge-repo/slim"

import * as M from "../../model"
import type { AppContext } from "../context"
import { find } from "./documents"

/** The sectors whose institutions receive a case's police and court information. */
const JUSTICE_SECTORS = ["police", "justice"]

export interface JusticeState {
  /** The entries, oldest first. */
  entries: Array<M.Justice.JusticeEntryView & { id: string }>
  /** Whether this user may write entries down. */
  canWrite: boolean
  /** The document is linked but not on this device yet. */
  loading: boolean
}

export interface JusticePart {
  /** What the card shows; null when this user has no part in it (the section is not drawn). */
  state(): JusticeState | null
  /** Writes an entry down (creating the document and linking it from the case the first time). */
  add(entry: M.Justice.JusticeEntry): Promise<void>
  onChange(listener: () => void): () => void
}

export async function openJustice(
  context: AppContext,
  caseHandle: DocHandle<M.CaseDoc>,
  caseWritable: boolean,
  sectorOf: (institution: string) => string | undefined,
): Promise<JusticePart> {
  const me = context.me
  const by = me.institution ? M.editor(me.login, me.institution) : null
  const listed = new Set(
    (await context.documents()).filter(d => d.kind === "justice").map(d => d.document_id),
  )
  const caseDoc = () => caseHandle.doc() as M.CaseDoc
  const owner = () => M.readCase(caseDoc()).owner === me.login
  const justiceUser = () => caseWritable && JUSTICE_SECTORS.includes(sectorOf(me.institution ?? "") ?? "")
  const link = () => {
    try {
      return M.Justice.justiceDocument(caseDoc())
    } catch {
      return null
    }
  }
  const listeners = new Set<() => void>()
  const notify = () => listeners.forEach(l => l())
  let handle: DocHandle<M.Justice.JusticeDoc> | null = null
  let loadingId: string | null = null

  const load = (id: string) => {
    if (loadingId === id) return
    loadingId = id
    const entry = { document_id: id, url: `automerge:${id}`, kind: "justice", access: "read-write" as const }
    void find<M.Justice.JusticeDoc>(context, entry).then(found => {
      if (!found) return
      handle = found
      found.on("change", notify)
      notify()
    })
  }
  const mayHold = (id: string) => owner() || listed.has(id)

  return {
    state() {
      const id = link()
      if (id === null) {
        const canCreate = by !== null && (owner() || justiceUser()) && caseWritable
        return canCreate ? { entries: [], canWrite: true, loading: false } : null
      }
      if (!mayHold(id)) return null
      load(id)
      const doc = handle?.doc()
      if (!doc) return { entries: [], canWrite: false, loading: true }
      const view = M.Justice.readJustice(doc)
      const entries = Object.entries(view.entries)
        .map(([entryId, e]) => ({ ...e, id: entryId }))
        .sort((a, b) => a.date.localeCompare(b.date) || a.at.getTime() - b.at.getTime())
      return { entries, canWrite: by !== null, loading: false }
    },
    async add(entry) {
      if (!by) throw new Error("Twoje konto nie jest przypisane do instytucji, więc nie możesz zapisywać zmian.")
      const at = new Date()
      if (link() === null) {
        // Checked before anything is written: a refused entry leaves no empty document behind.
        M.Justice.checkJusticeEntry(entry)
        const created = M.Justice.createJustice(context.repo, caseHandle.documentId, by, at)
        M.commit(caseHandle, doc => M.Justice.linkJusticeDocument(doc, created.documentId, by, at))
        handle = created
        loadingId = created.documentId
        created.on("change", notify)
      }
      if (!handle) throw new Error("Informacje z procedur prawnych jeszcze się wczytują; spróbuj za chwilę.")
      M.commit(handle, doc => M.Justice.addJusticeEntry(doc, M.newId("pp"), entry, by, at))
      notify()
    },
    onChange(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}
