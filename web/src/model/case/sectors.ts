// Which diagnosis sector a partner institution writes: the sector of the multidimensional
// diagnosis that matches the institution's sector in the PZK (a school writes "edukacja", the
// police and the courts "wymiar sprawiedliwości i bezpieczeństwo"). Institutions of social
// assistance write every sector: they lead the diagnosis.

import type { DiagnosisSector } from "./layout.ts"

const OF_INSTITUTION: Record<string, DiagnosisSector> = {
  education: "education",
  health: "health",
  police: "justice_safety",
  justice: "justice_safety",
  crisis_intervention: "family",
  day_centre: "family",
  labour_market: "income_work",
  culture: "other",
  ngo: "other",
  other: "other",
}

/** The diagnosis sector of a PZK member institution's sector; null for social assistance (all). */
export function diagnosisSectorOf(institutionSector: string): DiagnosisSector | null {
  return OF_INSTITUTION[institutionSector] ?? null
}
