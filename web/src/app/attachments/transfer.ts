// The server's attachment endpoints as the app uses them (server/src/api/attachments.rs):
// `GET …/status` (how much of a file the server holds), `PUT` of one range with
// `Content-Range: bytes START-END/SIZE`, and `GET` with `Range` for downloads. A case the
// user may not read and a file the server does not hold both answer 404.

import type { AccessTokens } from "../../api"

/** The server's word on one file of one case. */
export interface RemoteStatus {
  received: number
  size: number | null
  complete: boolean
}

/** A failed request: `status` 0 when the server was not reached. */
export class TransferFailed extends Error {
  constructor(
    readonly status: number,
    reason: string,
  ) {
    super(reason)
  }
}

const path = (document: string, sha256: string) =>
  `/api/v1/documents/${encodeURIComponent(document)}/attachments/${sha256}`

/** `fetch` with the access token; a 401 renews the token once (which tells a revoked device). */
async function authorized(tokens: AccessTokens, url: string, init: RequestInit): Promise<Response> {
  const attempt = async (token: string) => {
    try {
      return await fetch(url, { ...init, headers: { ...init.headers, Authorization: `Bearer ${token}` } })
    } catch {
      throw new TransferFailed(0, "brak połączenia z serwerem")
    }
  }
  let token: string
  try {
    token = await tokens.get()
  } catch {
    throw new TransferFailed(0, "brak połączenia z serwerem")
  }
  let response = await attempt(token)
  if (response.status === 401) {
    const renewed = await tokens.refresh().catch(() => null)
    if (renewed) response = await attempt(renewed)
  }
  if (!response.ok) {
    const body = await response.json().catch(() => null)
    throw new TransferFailed(response.status, typeof body?.error === "string" ? body.error : response.statusText)
  }
  return response
}

async function statusOf(response: Response): Promise<RemoteStatus> {
  const body = (await response.json()) as RemoteStatus
  return { received: Number(body.received) || 0, size: body.size ?? null, complete: Boolean(body.complete) }
}

/** How much of the file the server holds for this case. */
export async function remoteStatus(tokens: AccessTokens, document: string, sha256: string): Promise<RemoteStatus> {
  return statusOf(await authorized(tokens, `${path(document, sha256)}/status`, { method: "GET" }))
}

/** Sends `bytes`, which start at `start` of a file of `size` bytes; answers the new status. */
export async function sendRange(
  tokens: AccessTokens,
  document: string,
  sha256: string,
  start: number,
  bytes: Uint8Array<ArrayBuffer>,
  size: number,
): Promise<RemoteStatus> {
  const end = start + bytes.length - 1
  const response = await authorized(tokens, path(document, sha256), {
    method: "PUT",
    headers: { "Content-Range": `bytes ${start}-${end}/${size}`, "Content-Type": "application/octet-stream" },
    body: bytes,
  })
  return statusOf(response)
}

/** Bytes `start` to `end` (inclusive) of an accepted file. */
export async function fetchRange(
  tokens: AccessTokens,
  document: string,
  sha256: string,
  start: number,
  end: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const response = await authorized(tokens, path(document, sha256), {
    method: "GET",
    headers: { Range: `bytes=${start}-${end}` },
  })
  return new Uint8Array(await response.arrayBuffer())
}
