// Cases created on this device and not yet in the server's list of the user's documents (made
// offline, or not yet sent): kept by id beside the app, so the caseload and the card find them
// before the server has heard of them; forgotten once the server lists them.

import type { DocumentEntry } from "../../api"

const KEY = "kooperacja.createdHere."

function read(login: string): DocumentEntry[] {
  try {
    const list = JSON.parse(localStorage.getItem(KEY + login) ?? "[]")
    return Array.isArray(list) ? list : []
  } catch {
    return []
  }
}

/** Remembers a case (or a referral) this user created on this device. */
export function rememberCreated(login: string, documentId: string, url: string, kind = "case"): void {
  const list = read(login).filter(e => e.document_id !== documentId)
  list.push({ document_id: documentId, url, kind, access: "read-write" })
  localStorage.setItem(KEY + login, JSON.stringify(list))
}

/** The server's list with the cases created here that it does not list yet. */
export function withCreatedHere(login: string, listed: DocumentEntry[]): DocumentEntry[] {
  const known = new Set(listed.map(e => e.document_id))
  const pending = read(login).filter(e => !known.has(e.document_id))
  if (pending.length !== read(login).length) localStorage.setItem(KEY + login, JSON.stringify(pending))
  return [...listed, ...pending]
}
