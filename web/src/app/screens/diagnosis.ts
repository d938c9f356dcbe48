// The multidimensional diagnosis, one text per sector. A partner member writes only the sector
// of their institution (when the case is shared with it for writing) and reads the others.

import { el, section } from "./dom"
import type { Access, CaseData, CaseEdits } from "./port"
import { textField } from "./text-field"

export function diagnosis(data: CaseData, edits: CaseEdits, access: Access): HTMLElement {
  const sectors = data.diagnosis.map(({ sector, label, text }) => {
    const mine = access.ownSector === null || access.ownSector === sector
    const readOnly = !access.canWrite || !mine
    return el(
      "div",
      { class: "sector", "data-sector": sector, ...(mine && access.partner ? { "data-own": "" } : {}) },
      el("h4", {}, label, mine && access.partner ? " (Twoja instytucja)" : ""),
      textField({
        bind: `diagnosis/${sector}`,
        value: text,
        readOnly,
        rows: 4,
        placeholder: readOnly ? "" : `Diagnoza: ${label}`,
        write: value => edits.setDiagnosis(sector, value),
      }),
    )
  })
  return section("diagnosis", "Diagnoza wielowymiarowa", ...sectors)
}
