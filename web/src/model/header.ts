// The keys every document has at its root (sync-core/src/model/header.rs): its kind and schema
// version, checked before a document is read or edited.

import { ModelError } from "./errors.ts"
import { field, optField, parseStr, parseUint } from "./reader.ts"

/** The newest schema version this layer reads and writes. */
export const SCHEMA_VERSION = 1

export type DocumentKind = "case" | "pzk" | "referral" | "seen" | "justice"

/** The document's kind, from its root `type` key. */
export function kindOf(doc: Record<string, unknown>): DocumentKind {
  const found = optField(doc, "type", "", parseStr)
  if (found === undefined) throw new ModelError("document.unknown-type", { reason: "no `type` key" })
  if (found.alternatives.length > 0) {
    throw new ModelError("field.invalid", { path: "type", reason: "concurrent values" })
  }
  const kinds: readonly DocumentKind[] = ["case", "pzk", "referral", "seen", "justice"]
  const kind = kinds.find(k => k === found.value)
  if (kind === undefined) throw new ModelError("document.unknown-type", { reason: found.value })
  return kind
}

/** The document's schema version (the newest of concurrent ones), checked to be understood. */
export function schemaVersion(doc: Record<string, unknown>): number {
  const versions = field(doc, "schemaVersion", "", parseUint)
  const newest = Math.max(versions.value, ...versions.alternatives)
  if (newest === 0) throw new ModelError("field.invalid", { path: "schemaVersion", reason: "versions start at 1" })
  if (newest > SCHEMA_VERSION) {
    throw new ModelError("document.unsupported-version", {
      found: String(newest),
      supported: String(SCHEMA_VERSION),
    })
  }
  return newest
}

/** Checks that `doc` is of kind `expected` and of a supported version. */
export function open(doc: Record<string, unknown>, expected: DocumentKind): void {
  const kind = kindOf(doc)
  if (kind !== expected) throw new ModelError("document.wrong-kind", { expected, found: kind })
  schemaVersion(doc)
}
