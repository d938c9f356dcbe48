// "Informacje z procedur prawnych (art. 10 RODO)": what the police, a court or a probation
// officer told about the family (e.g. from the Niebieska Karta procedure), kept apart from the
// case: drawn only for those the server lets hold it (justice-model.ts), never for the case's
// other readers.

import * as M from "../../model"
import { button, el, field, input, isoDay, section, select, when } from "./dom"
import type { JusticeState } from "./justice-model"

export const JUSTICE_TITLE = "Informacje z procedur prawnych (art. 10 RODO)"

export function justiceSection(
  state: JusticeState | null,
  add: (entry: M.Justice.JusticeEntry) => Promise<void>,
): HTMLElement {
  // Nothing at all for whoever has no part in it: not even an empty heading.
  if (state === null) return el("div", { hidden: "" })
  const rows = state.entries.map(e =>
    el(
      "li",
      { "data-entry": e.id, "data-procedure": e.procedure },
      el("strong", {}, `${e.date} — ${M.label("justiceProcedure", e.procedure)}${e.number ? ` nr ${e.number}` : ""}`),
      ` (poinformował(a): ${e.informedBy}) `,
      el("p", { class: "justice-content" }, e.content),
      el("span", { class: "muted" }, `zapisał(a) ${e.author} (${e.institution}), ${when(e.at)}`),
    ),
  )
  const body = section(
    "justice",
    JUSTICE_TITLE,
    el(
      "p",
      { class: "muted" },
      "Widzą je tylko prowadzący sprawę i przydzielone do niej instytucje wymiaru sprawiedliwości (policja, sąd, kuratela); inne osoby czytające sprawę ich nie widzą.",
    ),
    el("ul", { "data-testid": "justice-entries" }, ...rows),
  )
  body.setAttribute("data-testid", "justice")
  if (state.loading) body.append(el("p", { class: "muted" }, "Wczytywanie…"))
  else if (rows.length === 0) body.append(el("p", { class: "muted" }, "Brak zapisanych informacji."))
  if (state.canWrite) {
    const procedures = M.Justice.JUSTICE_PROCEDURES.map(p => [p, M.label("justiceProcedure", p)] as const)
    const procedure = select(procedures, "blue_card", { "data-testid": "justice-procedure" })
    const number = input({ "data-testid": "justice-number", placeholder: "np. NK-12/2026" })
    const informedBy = input({ "data-testid": "justice-informed-by", placeholder: "np. Komisariat Policji" })
    const date = input({ "data-testid": "justice-date", type: "date" }, isoDay(new Date()))
    const content = el("textarea", { "data-testid": "justice-content", rows: "3" }) as HTMLTextAreaElement
    const save = async () => {
      await add({
        procedure: procedure.value as M.Justice.JusticeProcedure,
        number: number.value,
        informedBy: informedBy.value,
        date: date.value,
        content: content.value,
      })
      number.value = ""
      content.value = ""
    }
    body.append(
      el(
        "div",
        { class: "row" },
        field("Procedura", procedure),
        field("Numer", number, "może zostać pusty"),
        field("Kto poinformował", informedBy),
        field("Kiedy", date),
      ),
      field("Treść informacji", content),
      button("Zapisz informację", save, { "data-testid": "justice-add" }),
    )
  }
  return body
}
