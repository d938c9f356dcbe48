// Opening an attachment: a full-window view of the photo or the PDF (the browser's own viewer),
// with a link that saves the file, closed with a button or Escape. The bytes are shown from an
// object URL that is revoked when the view closes.

import { el } from "../../ui"

/** Shows `file` over the page, titled `title`. */
export function showViewer(file: Blob, title: string, sha256: string): void {
  document.querySelector("[data-testid=attachment-viewer]")?.remove()
  const url = URL.createObjectURL(file)
  const isPdf = file.type === "application/pdf"
  const shown = isPdf
    ? el("iframe", { src: url, title, class: "viewer-pdf", "data-testid": "attachment-view" })
    : el("img", { src: url, alt: title, class: "viewer-image", "data-testid": "attachment-view" })
  const extension = isPdf ? "pdf" : (file.type.split("/")[1] ?? "bin")
  const close = el("button", { type: "button", "data-testid": "attachment-close" }, "Zamknij")
  const dialog = el(
    "dialog",
    { class: "attachment-viewer", "data-testid": "attachment-viewer", "data-sha256": sha256 },
    el("header", {}, el("strong", {}, title), el("a", { href: url, download: `${sha256.slice(0, 12)}.${extension}` }, "Zapisz plik"), close),
    shown,
  ) as HTMLDialogElement
  const end = () => {
    dialog.close()
    dialog.remove()
    URL.revokeObjectURL(url)
  }
  close.addEventListener("click", end)
  dialog.addEventListener("cancel", end)
  document.body.append(dialog)
  dialog.showModal()
}
