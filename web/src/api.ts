// The server's HTTP API as the page uses it: enrolment with a one-time code, short-lived
// access tokens, the caller's profile and documents.

/** A refusal or failure of the API, with the server's reason. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

/** The logged-in user, as `GET /api/v1/me` says. */
export interface Me {
  login: string
  name: string
  institution: string | null
  institution_name: string | null
  roles: string[]
}

/** A document the user may hold, as `GET /api/v1/me/documents` lists it. */
export interface DocumentEntry {
  document_id: string
  url: string
  kind: string | null
  access: "read" | "read-write"
  /** For a finished case whose owner was told: the day the server erases it (retention). */
  erase_on?: string
}

const DEVICE_TOKEN = "kooperacja.deviceToken"

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  let response: Response
  try {
    response = await fetch(path, init)
  } catch {
    throw new ApiError(0, "brak połączenia z serwerem")
  }
  const body = await response.json().catch(() => null)
  if (!response.ok) {
    const reason = body && typeof body.error === "string" ? body.error : response.statusText
    throw new ApiError(response.status, reason)
  }
  return body as T
}

function bearer(token: string): RequestInit {
  return { headers: { Authorization: `Bearer ${token}` } }
}

/**
 * A device token that an earlier version of the pages kept in plain localStorage, if any (it
 * moves into the encrypted vault at the next sign-in).
 */
export function legacyDeviceToken(): string | null {
  return localStorage.getItem(DEVICE_TOKEN)
}

/** Forgets the device token of an earlier version (once it is in the vault). */
export function forgetLegacyDevice(): void {
  localStorage.removeItem(DEVICE_TOKEN)
}

/**
 * Redeems a one-time enrolment code: this browser becomes a device of the user. Returns the
 * device token, which the caller keeps (in the device's encrypted vault).
 */
export async function enroll(code: string): Promise<string> {
  const enrolled = await call<{ token: string }>("/api/v1/enroll", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ code: code.trim() }),
  })
  return enrolled.token
}

/**
 * Short-lived access tokens (`kat_…`) traded for the device token. The current one is kept in
 * memory and renewed a minute before it expires, so that a reconnect always finds a valid one.
 */
export class AccessTokens {
  #token: string | null = null
  #expiresAt = 0
  #pending: Promise<string> | null = null
  #timer: ReturnType<typeof setTimeout> | undefined

  /**
   * @param onRefused called when the server refuses the device token itself (401 from
   *   `/api/v1/token`: the device was revoked or is unknown); the caller wipes the device.
   */
  constructor(
    private readonly device: string,
    private readonly onRefused: () => void = () => undefined,
  ) {}

  /** The current access token, or null before the first one arrived. */
  get current(): string | null {
    return this.#token && Date.now() < this.#expiresAt ? this.#token : null
  }

  /** A valid access token, fetching a new one when needed. */
  async get(): Promise<string> {
    return this.current ?? (await this.refresh())
  }

  /** Fetches a new access token (one request at a time). */
  refresh(): Promise<string> {
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = null
    })
    return this.#pending
  }

  async #fetch(): Promise<string> {
    let issued: { access_token: string; expires_in: number }
    try {
      issued = await call("/api/v1/token", { method: "POST", ...bearer(this.device) })
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) this.onRefused()
      throw error
    }
    this.#token = issued.access_token
    this.#expiresAt = Date.now() + issued.expires_in * 1000
    clearTimeout(this.#timer)
    const renewIn = Math.max(5, issued.expires_in - 60) * 1000
    this.#timer = setTimeout(() => void this.refresh().catch(() => undefined), renewIn)
    return issued.access_token
  }
}

/** Who the token's user is. */
export async function me(tokens: AccessTokens): Promise<Me> {
  return call<Me>("/api/v1/me", bearer(await tokens.get()))
}

/** The documents the user may hold. */
export async function myDocuments(tokens: AccessTokens): Promise<DocumentEntry[]> {
  const list = await call<{ documents: DocumentEntry[] }>("/api/v1/me/documents", bearer(await tokens.get()))
  return list.documents
}
