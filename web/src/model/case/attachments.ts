// The case's attachments (*załączniki*, sync-core/src/model/case/attachments.rs): a signed
// contract's photo or scan, consent forms, photos of housing conditions, letters from other
// institutions. The bytes stay out of the document: an entry names its file by SHA-256, with
// its MIME type, size and kind, who attached it and when, a caption, and optionally the
// contract signature (by index) or consent event (by id) it documents. Append-only, keyed by a
// client-chosen id.

import type { Edit, Editor } from "../editor.ts"
import { fieldError } from "../errors.ts"
import * as R from "../reader.ts"
import type { CaseDoc } from "./layout.ts"
import { absent, caseEdit, checkEnum, scalar } from "./edit.ts"
import { openCase } from "./read.ts"

type Obj = Record<string, unknown>

/** The MIME types an attachment may have (sync-core `ALLOWED_MIME`). */
export const ALLOWED_MIME = [
  "application/pdf",
  "image/jpeg",
  "image/png",
  "image/heic",
  "image/heif",
  "image/webp",
] as const
export type AttachmentMime = (typeof ALLOWED_MIME)[number]

/** The largest attachment the model accepts (1 GiB); servers set their own, lower limit. */
export const MAX_ATTACHMENT_BYTES = 2 ** 30

export const ATTACHMENT_KINDS = ["signed_contract", "consent", "photo", "external_document"] as const
export type AttachmentKind = (typeof ATTACHMENT_KINDS)[number]

/** What an attachment documents: a contract signing (its index) or a consent event (its id). */
export type AttachmentLink = { signature: number } | { consent: string }

/** A new attachment entry: the file's description, without its bytes. */
export interface Attachment {
  sha256: string
  mime: string
  size: number
  kind: AttachmentKind
  link: AttachmentLink | null
  caption: string
}

/** An attachment entry as read, with who attached it and when. */
export interface AttachmentView {
  id: string
  attachment: Attachment
  author: string
  institution: string
  at: Date
}

/** Whether `text` is a SHA-256 as entries and the blob store name files: 64 lowercase hex digits. */
export function isSha256Hex(text: string): boolean {
  return /^[0-9a-f]{64}$/.test(text)
}

/** Attaches a file to the case under `attachmentId`; an existing id is refused. */
export function attachFile(
  doc: CaseDoc,
  attachmentId: string,
  attachment: Attachment,
  by: Editor,
  at: Date,
): Edit<CaseDoc> {
  const root = openCase(doc)
  const path = `attachments/${attachmentId}`
  checkEntry(root, path, attachment)
  absent(root.attachments === undefined ? {} : R.map(root, "attachments", ""), "attachments", attachmentId)
  return caseEdit(`${path}: ${attachment.kind} ${attachment.mime}`, by, at, d => {
    if (d.attachments === undefined) d.attachments = {}
    const entry: Record<string, unknown> = {
      sha256: scalar(attachment.sha256),
      mime: scalar(attachment.mime),
      size: attachment.size,
      kind: scalar(attachment.kind),
    }
    const link = attachment.link
    if (link && "signature" in link) entry.signature = link.signature
    if (link && "consent" in link) entry.consent = scalar(link.consent)
    entry.author = scalar(by.login)
    entry.institution = scalar(by.institution)
    entry.at = at
    entry.caption = scalar(attachment.caption)
    d.attachments[attachmentId] = entry
  })
}

/** Every attachment entry of the case, each checked, oldest first; none for a case without the map. */
export function readAttachments(doc: CaseDoc): AttachmentView[] {
  const root = openCase(doc)
  if (root.attachments === undefined) return []
  const views = Object.entries(R.readMap(root, "attachments", "", readEntry)).map(([id, view]) => {
    checkEntry(root, `attachments/${id}`, view.attachment)
    return { ...view, id }
  })
  return views.sort((a, b) => a.at.getTime() - b.at.getTime() || R.compareIds(a.id, b.id))
}

function readEntry(node: Obj, path: string): Omit<AttachmentView, "id"> {
  const signature = R.optField(node, "signature", path, R.parseUint)?.value
  const consent = R.optStr(node, "consent", path)
  if (signature !== undefined && consent !== null) {
    throw fieldError(`${path}/consent`, "an attachment links one entry, not two")
  }
  const link = signature !== undefined ? { signature } : consent !== null ? { consent } : null
  const size = R.optField(node, "size", path, R.parseUint)?.value
  if (size === undefined) throw fieldError(`${path}/size`, "missing")
  return {
    attachment: {
      sha256: R.str(node, "sha256", path),
      mime: R.str(node, "mime", path),
      size,
      kind: R.field(node, "kind", path, R.parseEnum(ATTACHMENT_KINDS)).value,
      link,
      caption: R.str(node, "caption", path),
    },
    author: R.str(node, "author", path),
    institution: R.str(node, "institution", path),
    at: R.timestamp(node, "at", path),
  }
}

/** The checks an entry passes both when written and when read: the hash, type, size and link. */
function checkEntry(root: Obj, path: string, entry: Attachment): void {
  if (!isSha256Hex(entry.sha256)) throw fieldError(`${path}/sha256`, "expected 64 lowercase hex digits")
  checkEnum(`${path}/mime`, ALLOWED_MIME, entry.mime)
  checkEnum(`${path}/kind`, ATTACHMENT_KINDS, entry.kind)
  if (!Number.isSafeInteger(entry.size) || entry.size <= 0 || entry.size > MAX_ATTACHMENT_BYTES) {
    throw fieldError(`${path}/size`, `expected 1 to ${MAX_ATTACHMENT_BYTES} bytes`)
  }
  const link = entry.link
  if (link && "signature" in link) {
    const held = R.list(R.map(root, "contract", ""), "signatures", "contract").length
    if (!Number.isSafeInteger(link.signature) || link.signature < 0 || link.signature >= held) {
      throw fieldError(`${path}/signature`, "no such contract signature")
    }
  }
  if (link && "consent" in link && R.map(root, "consents", "")[link.consent] === undefined) {
    throw fieldError(`${path}/consent`, "no such consent event")
  }
}
