// Who changed a document and when, read from its changes as the edits wrote them (the author
// trailers of sync-core/src/model/editor.rs, the change's time): the history a card shows, and
// who set each of a field's concurrent values (client-sdk/src/conflicts.rs does the same).

import * as A from "@automerge/automerge/slim"

/** One change: who made it, for which institution, when, and its summary line. */
export interface ChangeEntry {
  hash: string
  actor: string
  by: string | null
  institution: string | null
  at: Date
  /** The summary line, as the model wrote it (`stage: ipp -> contract`...). */
  summary: string
  startOp: number
  maxOp: number
}

/** The summary and the `Author`/`Institution` trailers of a commit message. */
export function parseMessage(message: string | null): { summary: string; by: string | null; institution: string | null } {
  const lines = (message ?? "").split("\n")
  const trailer = (name: string) => {
    const line = lines.find(l => l.startsWith(`${name}: `))
    return line ? line.slice(name.length + 2) : null
  }
  return { summary: lines[0] ?? "", by: trailer("Author"), institution: trailer("Institution") }
}

/** The changes of `doc` after `heads` (all of them for none), in the document's order. */
export function changesSince(doc: A.Doc<unknown>, heads: string[] = []): ChangeEntry[] {
  return A.getChangesMetaSince(doc, heads).map(meta => {
    const { summary, by, institution } = parseMessage(meta.message)
    return {
      hash: meta.hash,
      actor: meta.actor,
      by,
      institution,
      at: new Date(meta.time * 1000),
      summary,
      startOp: meta.startOp,
      maxOp: meta.maxOp,
    }
  })
}

/** A value of a field set concurrently, with the change that set it (when found). */
export interface ConcurrentValue {
  value: unknown
  by: string | null
  institution: string | null
  at: Date | null
}

/**
 * Every concurrent value of `key` in the map `parent` (a map read from `doc`), each with who set
 * it and when: an operation id `counter@actor` names the change of that actor whose operations
 * span the counter. Empty when the field holds one value.
 */
export function concurrentValues(doc: A.Doc<unknown>, parent: unknown, key: string): ConcurrentValue[] {
  const found = A.getConflicts(parent as A.Doc<unknown>, key)
  if (!found || Object.keys(found).length < 2) return []
  const changes = changesSince(doc)
  return Object.entries(found).map(([opId, value]) => {
    const [counter, actor] = opId.split("@")
    const op = Number(counter)
    const change = changes.find(c => c.actor === actor && c.startOp <= op && op <= c.maxOp)
    return {
      value: typeof value === "object" && value !== null && "val" in value ? (value as { val: unknown }).val : value,
      by: change?.by ?? null,
      institution: change?.institution ?? null,
      at: change?.at ?? null,
    }
  })
}

/** The document's heads (hex change hashes): what `changesSince` takes. */
export function headsOf(doc: A.Doc<unknown>): string[] {
  return A.getHeads(doc)
}
