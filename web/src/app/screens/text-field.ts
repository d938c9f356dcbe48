// A free-text field bound to an Automerge Text: every keystroke goes to the document (as a diff,
// so others' concurrent edits elsewhere in the text are kept), and the field is re-rendered in
// place without losing the cursor (see `rerender` in dom.ts).

import { el } from "./dom"

export interface TextFieldInput {
  /** A stable key of the field within the screen, e.g. `diagnosis/health`. */
  bind: string
  value: string
  readOnly: boolean
  rows?: number
  placeholder?: string
  /** Writes the field's whole new value (the model turns it into a diff). */
  write(value: string): void
}

export function textField(input: TextFieldInput): HTMLTextAreaElement {
  const area = el("textarea", {
    // The document's own: never carried as a draft by `rerender`.
    "data-live": "",
    "data-bind": input.bind,
    "data-testid": `text-${input.bind}`,
    rows: String(input.rows ?? 4),
    placeholder: input.placeholder ?? "",
  }) as HTMLTextAreaElement
  area.value = input.value
  area.readOnly = input.readOnly
  if (!input.readOnly) {
    let composing = false
    area.addEventListener("compositionstart", () => (composing = true))
    area.addEventListener("compositionend", () => {
      composing = false
      input.write(area.value)
    })
    area.addEventListener("input", () => {
      if (!composing) input.write(area.value)
    })
  }
  return area
}
