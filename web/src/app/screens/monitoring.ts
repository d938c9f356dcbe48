// Monitoring: notes from contacts with the family, newest first, and a new note in two taps
// (the contact mode, then "Zapisz notatkę"; the text is optional to add).

import { button, el, section, when } from "./dom"
import type { Access, CaseData, CaseEdits, Choices } from "./port"

export function monitoring(data: CaseData, edits: CaseEdits, choices: Choices, access: Access): HTMLElement {
  const readOnly = !access.canWrite || access.partner
  const body = section("monitoring", "Monitorowanie")
  if (!readOnly) body.append(quickNote(edits, choices))
  const notes = [...data.monitoring].reverse()
  body.append(
    el(
      "ol",
      { class: "notes", "data-testid": "notes", reversed: "" },
      ...notes.map(n =>
        el(
          "li",
          { "data-note": n.id, "data-mode": n.mode },
          el("p", { class: "muted" }, `${when(n.at)} · ${n.modeLabel} · ${n.author} (${n.institution})`),
          el("p", { class: "note-text" }, n.text),
        ),
      ),
    ),
  )
  if (notes.length === 0) body.append(el("p", { class: "muted" }, "Brak notatek."))
  return body
}

function quickNote(edits: CaseEdits, choices: Choices): HTMLElement {
  let mode = choices.contactModes[0]?.[0] ?? ""
  const modes = el("div", { class: "modes", role: "radiogroup", "aria-label": "Forma kontaktu" })
  const pick = (value: string) => {
    mode = value
    for (const b of modes.querySelectorAll<HTMLButtonElement>("button")) b.setAttribute("aria-checked", String(b.dataset.mode === value))
  }
  for (const [value, label] of choices.contactModes) {
    const b = el("button", { type: "button", role: "radio", "data-mode": value, "data-testid": `contact-${value}` }, label)
    b.addEventListener("click", () => pick(value))
    modes.append(b)
  }
  pick(mode)
  const text = el("textarea", {
    rows: "3",
    "data-testid": "note-text",
    "data-bind": "monitoring/new",
    placeholder: "Co ustalono (można dopisać później w kolejnej notatce)",
  }) as HTMLTextAreaElement
  const save = button(
    "Zapisz notatkę",
    () => {
      edits.addMonitoringNote(mode, text.value.trim())
      text.value = ""
    },
    { "data-testid": "save-note" },
  )
  return el("div", { class: "quick-note", "data-testid": "quick-note" }, modes, text, save)
}
