// "Co nowego" in the app: the items of web/src/model/news.ts (the one rule of what is new)
// derived from the documents on the device, and the user's "seen" document(s): what was opened,
// synced to all the user's devices, so an item opened on one is gone on the others. A device
// that finds no "seen" document of the user's creates one when the first item is opened (two
// devices offline may each create one; the app reads the union).

import type { AutomergeUrl, DocHandle } from "@automerge/automerge-repo/slim"

import type { DocumentEntry } from "../../api"
import * as M from "../../model"
import type { AppContext } from "../context"
import { rememberCreated, withCreatedHere } from "../screens/created-here"
import { find } from "../screens/documents"

type Seen = M.News.SeenDoc

/** The documents "Co nowego" reads, with their handles (only those on the device now). */
export interface NewsSources {
  /** The documents whose changes may change what is new (PZK, referrals, "seen"). */
  watch: Array<DocHandle<unknown>>
  seen: Array<DocHandle<Seen>>
  input: M.News.NewsInput
}

async function handlesOf<T>(context: AppContext, entries: DocumentEntry[]): Promise<Array<{ id: string; handle: DocHandle<T> }>> {
  const found = await Promise.all(entries.map(async e => ({ id: e.document_id, handle: await find<T>(context, e) })))
  return found.filter((f): f is { id: string; handle: DocHandle<T> } => f.handle !== null && f.handle.doc() !== undefined)
}

/** Reads the documents on the device that "Co nowego" derives from. */
export async function newsSources(context: AppContext): Promise<NewsSources> {
  const all = withCreatedHere(context.me.login, await context.documents())
  const of = (kind: string) => all.filter(d => d.kind === kind)
  const [pzk, referrals, cases, seen] = await Promise.all([
    handlesOf<unknown>(context, of("pzk")),
    handlesOf<unknown>(context, of("referral")),
    handlesOf<unknown>(context, of("case")),
    handlesOf<Seen>(context, of("seen")),
  ])
  const keys = new Set<string>()
  for (const { handle } of seen) {
    try {
      M.News.seenKeys(handle.doc() as Seen).forEach(k => keys.add(k))
    } catch {
      // A document that does not read is skipped, like any other.
    }
  }
  const docs = (list: Array<{ id: string; handle: DocHandle<unknown> }>) => list.map(({ id, handle }) => ({ id, doc: handle.doc() }))
  return {
    watch: [...pzk, ...referrals, ...seen].map(h => h.handle as DocHandle<unknown>),
    seen: seen.map(s => s.handle),
    input: {
      me: { login: context.me.login, institution: context.me.institution },
      pzk: docs(pzk),
      referrals: docs(referrals),
      cases: docs(cases),
      seen: keys,
    },
  }
}

/** What is new for the user now. */
export async function loadNews(context: AppContext): Promise<{ items: M.News.NewsItem[]; sources: NewsSources }> {
  const sources = await newsSources(context)
  return { items: M.News.news(sources.input), sources }
}

/** Marks items seen in the user's "seen" document, creating it on first use. */
export async function markSeen(context: AppContext, keys: string[]): Promise<void> {
  const { seen } = await newsSources(context)
  let handle = seen[0]
  if (!handle) {
    handle = context.repo.import<Seen>(M.News.createSeen(context.me.login, new Date()))
    rememberCreated(context.me.login, handle.documentId, handle.url as AutomergeUrl, "seen")
  }
  const doc = handle.doc()
  if (!doc) return
  const marking = M.News.markSeen(doc, keys, new Date())
  if (marking) handle.change(marking.apply, { message: marking.message, time: marking.time })
}

/**
 * Marks seen those of `keys` that are new for the user now (a screen opened some other way than
 * from "Nowe", say a meeting from its team's list); keys that are not new are not written.
 */
export async function markSeenIfNew(context: AppContext, keys: string[]): Promise<void> {
  const { items } = await loadNews(context)
  const fresh = keys.filter(key => items.some(item => item.key === key))
  if (fresh.length) await markSeen(context, fresh)
}
