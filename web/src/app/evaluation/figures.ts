// The region's evaluation figures as the server gives them (GET /api/v1/evaluation, for ROPS
// coordinators and admins): de-identified cells by dimension (region, PZK, gmina, powiat,
// month), a suppressed cell has no value. The scope (PZK, gmina, powiat, months) is asked of
// the server, which counts only the cases in it and hides the small groups itself.

import { ApiError, type AccessTokens } from "../../api"

export interface Cell {
  dimension: "region" | "pzk" | "gmina" | "powiat" | "month" | string
  group: string
  measure: string
  key: string
  value: number | null
  suppressed: boolean
}

export interface Figures {
  min_group: number
  cells: Cell[]
}

/** What the analyst narrowed the figures to; empty strings mean "all". */
export interface Scope {
  pzk: string
  gmina: string
  powiat: string
  /** `YYYY-MM` */
  from: string
  to: string
}

export const WHOLE_REGION: Scope = { pzk: "", gmina: "", powiat: "", from: "", to: "" }

/** The query of a scope (and a format), without the empty parts. */
export function query(scope: Scope, format: "json" | "csv" = "json"): string {
  const params = new URLSearchParams()
  if (format === "csv") params.set("format", "csv")
  for (const [name, value] of Object.entries(scope)) if (value) params.set(name, value)
  const text = params.toString()
  return `/api/v1/evaluation${text ? `?${text}` : ""}`
}

export async function get(tokens: AccessTokens, path: string): Promise<Response> {
  let response: Response
  try {
    response = await fetch(path, { headers: { Authorization: `Bearer ${await tokens.get()}` } })
  } catch {
    throw new ApiError(0, "brak połączenia z serwerem")
  }
  if (!response.ok) {
    const body = await response.json().catch(() => null)
    throw new ApiError(response.status, body && typeof body.error === "string" ? body.error : response.statusText)
  }
  return response
}

export async function loadFigures(tokens: AccessTokens, scope: Scope): Promise<Figures> {
  return (await get(tokens, query(scope))).json() as Promise<Figures>
}

export async function loadCsv(tokens: AccessTokens, scope: Scope): Promise<Blob> {
  return (await get(tokens, query(scope, "csv"))).blob()
}

/** The cells of one measure in one dimension's group, by key. */
export function breakdown(figures: Figures, dimension: string, group: string, measure: string): Cell[] {
  return figures.cells.filter(c => c.dimension === dimension && c.group === group && c.measure === measure)
}

/** The groups a dimension has in these figures, sorted. */
export function groups(figures: Figures, dimension: string): string[] {
  return [...new Set(figures.cells.filter(c => c.dimension === dimension).map(c => c.group))].sort()
}

/** Whether this user may see the figures (the endpoint's own rule). */
export function mayEvaluate(roles: readonly string[]): boolean {
  return roles.includes("coordinator") || roles.includes("admin")
}
