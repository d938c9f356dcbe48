// One attachment on screen: `<k-zalacznik>`, a tile with the file's preview (an image's
// thumbnail, a labelled PDF tile), its kind and caption, where it stands on this device ("na
// urządzeniu", "wysyłanie 40 %", "wysłano 40 %, reszta po połączeniu", "wysłane", "na serwerze", "pobieranie 30 %", or the refusal
// in Polish) and a button that opens it, downloading it first when it is not here.
//
// A custom element with its own (shadow) tree, so that the card's re-rendering, which compares
// markup, sees only its attributes: a tile is redrawn when its file's state changes, not when
// the case does.

import { label, message } from "../../model"
import { el } from "../../ui"
import { showViewer } from "./viewer"
import { attachments, type FileState } from "./service"

/** What a tile shows: one entry of a case's attachments. */
export interface TileData {
  document: string
  sha256: string
  mime: string
  size: number
  kind: string
  caption: string
}

/** The tile's style, adopted by each tile's tree (a constructed sheet: the CSP allows no inline style). */
const STYLE = `
  :host { display: inline-block; vertical-align: top; margin: .25rem; }
  figure { margin: 0; width: 11rem; border: 1px solid #c8ccd4; border-radius: .4rem; overflow: hidden; background: #fff; }
  .preview { height: 7rem; display: flex; align-items: center; justify-content: center; background: #eef0f4; }
  .preview img { max-width: 100%; max-height: 100%; object-fit: contain; }
  .icon { font: 700 1.4rem sans-serif; color: #b3261e; border: 2px solid currentColor; padding: .4rem .6rem; border-radius: .3rem; }
  .icon.image { color: #555; }
  figcaption { padding: .35rem .5rem; font-size: .85rem; display: grid; gap: .2rem; }
  .state { color: #555; }
  .state[data-state=refused] { color: #b3261e; }
  .state[data-state=sent], .state[data-state=cached] { color: #1b6e20; }
  button { font: inherit; padding: .3rem .5rem; }
  .error { color: #b3261e; }
`

let sheet: CSSStyleSheet | null = null
function tileSheet(): CSSStyleSheet {
  if (!sheet) {
    sheet = new CSSStyleSheet()
    sheet.replaceSync(STYLE)
  }
  return sheet
}

/** The size in Polish units ("850 kB", "2,4 MB"). */
export function sizeText(bytes: number): string {
  if (bytes < 1_000_000) return `${Math.max(1, Math.round(bytes / 1000))} kB`
  return `${(bytes / 1_000_000).toLocaleString("pl-PL", { maximumFractionDigits: 1 })} MB`
}

function stateText(state: FileState): string {
  switch (state.kind) {
    case "local":
      return "na urządzeniu"
    case "sending":
      return `wysyłanie ${state.percent} %`
    case "paused":
      return `wysłano ${state.percent} %, reszta po połączeniu`
    case "sent":
      return "wysłane"
    case "refused":
      return message(state.code)
    case "remote":
      return "na serwerze"
    case "receiving":
      return `pobieranie ${state.percent} %`
    case "cached":
      return "pobrane na urządzenie"
  }
}

export class AttachmentTile extends HTMLElement {
  readonly #root = this.attachShadow({ mode: "open" })
  #thumbnailUrl: string | null = null
  #error = ""
  #drawn = 0
  readonly #onChange = (event: Event) => {
    if ((event as CustomEvent<string>).detail === this.data.sha256) void this.#draw()
  }

  get data(): TileData {
    const d = this.dataset
    return {
      document: d.document ?? "",
      sha256: d.sha256 ?? "",
      mime: d.mime ?? "",
      size: Number(d.size ?? 0),
      kind: d.kind ?? "",
      caption: d.caption ?? "",
    }
  }

  connectedCallback(): void {
    this.#root.adoptedStyleSheets = [tileSheet()]
    attachments()?.addEventListener("change", this.#onChange)
    void this.#draw()
  }

  disconnectedCallback(): void {
    attachments()?.removeEventListener("change", this.#onChange)
    if (this.#thumbnailUrl) URL.revokeObjectURL(this.#thumbnailUrl)
    this.#thumbnailUrl = null
  }

  async #draw(): Promise<void> {
    const service = attachments()
    if (!service) return
    const mine = ++this.#drawn
    const data = this.data
    const [state, thumbnail] = await Promise.all([
      service.state(data.document, data.sha256),
      this.#thumbnailUrl ? Promise.resolve(undefined) : service.thumbnail(data.sha256),
    ])
    // A later drawing started meanwhile: it shows the newer state.
    if (mine !== this.#drawn) return
    if (thumbnail) this.#thumbnailUrl = URL.createObjectURL(thumbnail)
    const isPdf = data.mime === "application/pdf"
    const preview = this.#thumbnailUrl
      ? el("img", { src: this.#thumbnailUrl, alt: data.caption || label("attachmentKind", data.kind), "data-testid": "attachment-thumbnail" })
      : el("span", { class: isPdf ? "icon" : "icon image", "data-testid": "attachment-icon" }, isPdf ? "PDF" : "zdjęcie")
    const here = state.kind !== "remote" && state.kind !== "receiving"
    const open = el(
      "button",
      { type: "button", "data-testid": "attachment-open" },
      here ? "Otwórz" : "Pobierz i otwórz",
    ) as HTMLButtonElement
    open.disabled = state.kind === "receiving"
    open.addEventListener("click", () => void this.#open())
    this.#root.replaceChildren(
      el(
        "figure",
        { "data-testid": "attachment-tile" },
        el("div", { class: "preview" }, preview),
        el(
          "figcaption",
          {},
          el("strong", { "data-testid": "attachment-kind" }, label("attachmentKind", data.kind)),
          data.caption ? el("span", { "data-testid": "attachment-caption" }, data.caption) : "",
          el("span", { class: "muted" }, `${isPdf ? "PDF" : data.mime.replace("image/", "").toUpperCase()}, ${sizeText(data.size)}`),
          el("span", { class: "state", "data-testid": "attachment-state", "data-state": state.kind }, stateText(state)),
          this.#error ? el("span", { class: "error", role: "alert", "data-testid": "attachment-error" }, this.#error) : "",
          open,
        ),
      ),
    )
  }

  async #open(): Promise<void> {
    const service = attachments()
    if (!service) return
    const data = this.data
    this.#error = ""
    try {
      const file = await service.open(data.document, data.sha256, data.mime, data.size)
      showViewer(file, data.caption || label("attachmentKind", data.kind), data.sha256)
    } catch (error) {
      this.#error = error instanceof Error ? error.message : String(error)
    }
    await this.#draw()
  }
}

if (!customElements.get("k-zalacznik")) customElements.define("k-zalacznik", AttachmentTile)

/** A tile for one attachment of a case. */
export function attachmentTile(data: TileData): HTMLElement {
  return el("k-zalacznik", {
    "data-document": data.document,
    "data-sha256": data.sha256,
    "data-mime": data.mime,
    "data-size": String(data.size),
    "data-kind": data.kind,
    "data-caption": data.caption,
    "data-testid": "attachment",
  })
}
