// The documents the screens work on: the user's cases and PZK documents as the shell lists them
// (with the cases created on this device that the server does not list yet), their handles,
// and what the PZK documents say that a case card needs.

import type { AutomergeUrl, DocHandle } from "@automerge/automerge-repo/slim"

import type { DocumentEntry } from "../../api"
import { str, type PzkDoc } from "../../pzk"
import type { AppContext } from "../context"
import { withCreatedHere } from "./created-here"

/** The case documents (and PZK documents) this user may hold, as the shell lists them. */
export async function entries(context: AppContext): Promise<{ cases: DocumentEntry[]; pzk: DocumentEntry[] }> {
  const all = withCreatedHere(context.me.login, await context.documents())
  return { cases: all.filter(d => d.kind === "case"), pzk: all.filter(d => d.kind === "pzk") }
}

/** A document's handle, or null when neither the device nor the server has it now. */
export async function find<T>(context: AppContext, entry: DocumentEntry): Promise<DocHandle<T> | null> {
  try {
    return await context.repo.find<T>(entry.url as AutomergeUrl)
  } catch {
    return null
  }
}

/** What the PZK documents on the device say: the services list and each institution's sector. */
export interface PzkInfo {
  services: Map<string, string>
  sectors: Map<string, string>
}

export async function pzkInfo(context: AppContext, pzk: DocumentEntry[]): Promise<PzkInfo> {
  const info: PzkInfo = { services: new Map(), sectors: new Map() }
  for (const entry of pzk) {
    const doc = (await find<PzkDoc>(context, entry))?.doc()
    if (!doc) continue
    for (const [id, s] of Object.entries(doc.services ?? {})) {
      if (!s.retired) info.services.set(id, s.description)
    }
    for (const [id, member] of Object.entries(doc.members ?? {})) info.sectors.set(id, str(member.sector))
  }
  return info
}

