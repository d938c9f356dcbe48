// Sharing a case: `POST /api/v1/documents/{id}/assign` and `/unassign` with a user or an
// institution, under the worker's access token. The server decides who may share (the owner,
// the animator of the lead institution's PZK, an admin) and answers anyone else as it answers
// an unknown case.

import type { AccessTokens } from "../../api"

/** Who a case is shared with, as the server keeps it after a change. */
export interface Sharing {
  owner: string
  assigned_users: string[]
  assigned_institutions: string[]
  consents: string[]
}

export type Assignee = { user: string } | { institution: string }

/** The server's refusal, in words for the worker. */
export class SharingRefused extends Error {}

function reasonInPolish(status: number, reason: string): string {
  if (status === 0) return "Brak połączenia z serwerem: udostępnić sprawę można tylko online."
  if (status === 404) return "Serwer nie pozwala Ci zmieniać udostępnienia tej sprawy."
  if (status === 403) return "Tylko właściciel sprawy może odebrać dostęp właścicielowi."
  if (status === 400) return `Serwer nie przyjął udostępnienia (${reason}).`
  return `Serwer odpowiedział błędem ${status} (${reason}).`
}

export async function changeSharing(
  tokens: AccessTokens,
  documentId: string,
  who: Assignee,
  remove: boolean,
): Promise<Sharing> {
  const path = `/api/v1/documents/${encodeURIComponent(documentId)}/${remove ? "unassign" : "assign"}`
  let response: Response
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${await tokens.get()}` },
      body: JSON.stringify(who),
    })
  } catch {
    throw new SharingRefused(reasonInPolish(0, ""))
  }
  const body = await response.json().catch(() => null)
  if (!response.ok) {
    const reason = body && typeof body.error === "string" ? body.error : response.statusText
    throw new SharingRefused(reasonInPolish(response.status, reason))
  }
  return body as Sharing
}
