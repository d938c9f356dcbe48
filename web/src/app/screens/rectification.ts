// "Sprostowania (art. 16 RODO)": a person's data corrected as such, not silently: the worker
// picks the field (a household member's name, relation or date of birth, the address or the
// phone), types the new value and why; the card lists every correction with who, when, why and
// what it was and is. The model (web/src/model/case/rectification.ts) checks and records it.

import { button, el, field, input, section, select, when } from "./dom"
import type { Access, CaseData, CaseEdits } from "./port"

/** The correctable fields of this case: path → what the worker reads, with the current value. */
function fields(data: CaseData): Array<{ path: string; label: string; value: string }> {
  const out = data.household.flatMap(p => [
    { path: `household/${p.id}/name`, label: `${p.name}: imię i nazwisko`, value: p.name },
    { path: `household/${p.id}/relation`, label: `${p.name}: relacja`, value: p.relation },
    { path: `household/${p.id}/birthDate`, label: `${p.name}: data urodzenia`, value: p.birthDate ?? "" },
  ])
  out.push({ path: "householdAddress", label: "adres", value: data.address ?? "" })
  out.push({ path: "householdPhone", label: "telefon kontaktowy", value: data.phone ?? "" })
  return out
}

const shown = (value: string | null) => (value === null ? "(puste)" : `„${value}”`)

export function rectification(data: CaseData, edits: CaseEdits, access: Access): HTMLElement {
  const known = fields(data)
  const labelOf = (path: string) => known.find(f => f.path === path)?.label ?? path
  const rows = data.rectifications.map(r =>
    el(
      "li",
      { "data-rectification": r.id, "data-field": r.field },
      el("strong", {}, labelOf(r.field)),
      `: ${shown(r.old)} → ${shown(r.new)}. `,
      el("span", { class: "rectification-reason" }, `Powód: ${r.reason}`),
      el("span", { class: "muted" }, ` — ${r.by} (${r.institution}), ${when(r.at)}`),
    ),
  )
  const body = section("rectifications", "Sprostowania (art. 16 RODO)", el("ul", { "data-testid": "rectifications" }, ...rows))
  if (rows.length === 0) body.append(el("p", { class: "muted" }, "Dane nie były prostowane."))
  if (!access.canWrite || access.partner) return body
  const choice = select(
    known.map(f => [f.path, f.label] as const),
    known[0]?.path ?? "",
    { "data-testid": "rectify-field" },
  )
  const value = input({ "data-testid": "rectify-value" }, known[0]?.value ?? "")
  choice.addEventListener("change", () => {
    value.value = known.find(f => f.path === choice.value)?.value ?? ""
  })
  const reason = el("textarea", { "data-testid": "rectify-reason", rows: "2", maxlength: "1000" }) as HTMLTextAreaElement
  const save = () => {
    const typed = value.value.trim()
    edits.rectify(choice.value, typed === "" ? null : typed, reason.value)
    reason.value = ""
  }
  body.append(
    el(
      "div",
      { class: "row", "data-testid": "rectify-form" },
      field("Pole", choice),
      field("Nowa wartość", value, "pusta usuwa wartość"),
      field("Powód sprostowania", reason),
      button("Sprostuj", save, { "data-testid": "rectify-save" }),
    ),
  )
  return body
}
