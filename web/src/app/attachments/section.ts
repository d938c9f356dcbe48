// The case card's "Załączniki": every file attached to the case as a tile, and (for who may
// write the case) taking a photo with the camera or choosing a file, with its kind (signed
// contract, consent, photo, another institution's document), a caption and, optionally, the
// contract signing or consent it documents. Choosing the file attaches it at once: it is
// cleaned and stored on the device, its entry written to the case, and it joins the upload
// queue. The signed contract's scans also show beside their signing (`scansOfSigning`).

import * as M from "../../model"
import { el } from "../../ui"
import type { Access, CaseData } from "../screens/port"
import { button, field, input, reportError, section, select, when } from "../screens/dom"
import { attachments } from "./service"
import { attachmentTile } from "./tile"

/** What the worker set in the form, kept per case across the card's re-rendering. */
interface Draft {
  kind: string
  caption: string
  link: string
}

const drafts = new Map<string, Draft>()

/** The file types the picker offers (the same the server takes). */
const ACCEPT = M.ALLOWED_MIME.join(",")

function tileOf(documentId: string, view: M.AttachmentView): HTMLElement {
  const a = view.attachment
  return attachmentTile({ document: documentId, sha256: a.sha256, mime: a.mime, size: a.size, kind: a.kind, caption: a.caption })
}

/** Tiles of the scans that document contract signing number `index`. */
export function scansOfSigning(documentId: string, views: M.AttachmentView[], index: number): HTMLElement[] {
  return views
    .filter(v => v.attachment.link !== null && "signature" in v.attachment.link && v.attachment.link.signature === index)
    .map(v => tileOf(documentId, v))
}

function linkOf(value: string): M.AttachmentLink | null {
  if (value.startsWith("signature:")) return { signature: Number(value.slice("signature:".length)) }
  if (value.startsWith("consent:")) return { consent: value.slice("consent:".length) }
  return null
}

export function attachmentsSection(
  data: CaseData,
  views: M.AttachmentView[],
  access: Access,
  attach: (attachment: M.Attachment) => void,
): HTMLElement {
  const documentId = data.documentId
  const list = el(
    "div",
    { class: "attachments", "data-testid": "attachments" },
    ...views.map(v => {
      const who = el("span", { class: "muted" }, `${v.author}, ${when(v.at)}`)
      return el("div", { class: "attachment", "data-attachment": v.id }, tileOf(documentId, v), who)
    }),
  )
  const body = section("attachments", "Załączniki", list)
  if (views.length === 0) body.append(el("p", { class: "muted" }, "Brak załączników."))
  if (access.canWrite) body.append(attachForm(data, attach))
  return body
}

function attachForm(data: CaseData, attach: (attachment: M.Attachment) => void): HTMLElement {
  const documentId = data.documentId
  const draft = drafts.get(documentId) ?? { kind: "photo", caption: "", link: "none" }
  drafts.set(documentId, draft)
  const kinds = M.ATTACHMENT_KINDS.map(k => [k, M.label("attachmentKind", k)] as const)
  const kind = select(kinds, draft.kind, { "data-testid": "attachment-kind-choice", "data-bind": "attach/kind" })
  const caption = input({ "data-testid": "attachment-caption-input", "data-bind": "attach/caption", placeholder: "np. kontrakt, strona 1" }, draft.caption)
  const links: Array<readonly [string, string]> = [
    ["none", "—"],
    ...data.contract.signings.map((s, i) => [`signature:${i}`, `podpisanie: ${s.signer}, ${when(s.at)}`] as const),
    ...data.consents.map(c => [`consent:${c.id}`, `zgoda: ${c.institution}, ${c.purpose} (${when(c.at)})`] as const),
  ]
  const link = select(links, draft.link, { "data-testid": "attachment-link", "data-bind": "attach/link" })
  kind.addEventListener("change", () => (draft.kind = kind.value))
  caption.addEventListener("input", () => (draft.caption = caption.value))
  link.addEventListener("change", () => (draft.link = link.value))

  const progress = el("p", { class: "muted", "data-testid": "attach-progress" })
  progress.hidden = true
  const picker = (testid: string, text: string, attrs: Record<string, string>) => {
    const chooser = el("input", { type: "file", "data-testid": testid, ...attrs }) as HTMLInputElement
    chooser.addEventListener("change", () => {
      const file = chooser.files?.[0]
      chooser.value = ""
      if (file) void take(file, chooser)
    })
    const open = button(text, () => chooser.click(), { "data-testid": `${testid}-button` })
    chooser.hidden = true
    return [open, chooser]
  }
  const take = async (file: File, near: HTMLElement) => {
    const service = attachments()
    if (!service) return
    progress.hidden = false
    progress.textContent = "Zapisywanie na urządzeniu…"
    try {
      const taken = await service.takeIn(file)
      attach({ ...taken, kind: draft.kind as M.AttachmentKind, link: linkOf(draft.link), caption: draft.caption.trim() })
      // The entry is written: the next drawing of the card shows an empty form.
      drafts.set(documentId, { kind: draft.kind, caption: "", link: "none" })
      await service.send(documentId, taken)
      progress.hidden = true
    } catch (error) {
      progress.hidden = true
      reportError(near, error)
    }
  }
  return el(
    "div",
    { class: "attach", "data-testid": "attach-form" },
    el("h4", {}, "Dołącz plik"),
    el("div", { class: "row" }, field("Rodzaj", kind), field("Opis", caption), field("Dotyczy", link)),
    el(
      "div",
      { class: "row" },
      ...picker("attach-camera", "Zrób zdjęcie", { accept: "image/*", capture: "environment" }),
      ...picker("attach-file", "Wybierz plik", { accept: ACCEPT }),
    ),
    progress,
  )
}
