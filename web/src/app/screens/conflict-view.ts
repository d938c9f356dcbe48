// A field set on two devices at once: "Zapisano naraz: …" with who set each value and when, and
// one tap to keep one of them (the model's own edit for the field writes it over the others).

import { button, el, when } from "./dom"

/** One of the values a conflicted field holds. */
export interface ConflictChoice {
  value: string
  label: string
  by: string | null
  at: Date | null
}

export function conflictView(
  field: string,
  choices: ConflictChoice[],
  readOnly: boolean,
  choose: (value: string) => void | Promise<void>,
): HTMLElement {
  const box = el("div", { class: "conflict-box", role: "alert", "data-conflict": field, "data-testid": "conflict" })
  const described = choices.map(c => {
    const who = [c.by ?? "nieznana osoba", c.at ? when(c.at) : ""].filter(Boolean).join(", ")
    return `${c.label} (${who})`
  })
  box.append(el("p", {}, el("strong", {}, "Zapisano naraz: "), described.join(" albo ")))
  if (!readOnly) {
    const seen = new Set<string>()
    for (const c of choices) {
      if (seen.has(c.value)) continue
      seen.add(c.value)
      box.append(button(`Zostaw: ${c.label}`, () => choose(c.value), { "data-choose": c.value, "data-testid": "resolve" }))
    }
  }
  return box
}
