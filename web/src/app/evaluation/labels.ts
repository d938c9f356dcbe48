// Polish names of the evaluation's measures and of the keys of their breakdowns (stages,
// contact modes, goal and milestone statuses, sectors), and how a cell is written.

import type { Cell } from "./figures"

export const MEASURES: Record<string, string> = {
  cases: "Liczba spraw",
  cases_by_stage: "Sprawy według etapu",
  days_in_stage: "Średni czas w etapie (dni)",
  institutions_per_case: "Instytucje zaangażowane w sprawę (średnio)",
  contacts_by_mode: "Kontakty według formy",
  goals_by_status: "Cele IPP według statusu",
  services_used_by_sector: "Usługi według sektora",
  referrals_by_sector: "Zgłoszenia według sektora zgłaszającego",
  meetings_held: "Spotkania PZK",
  attendance_by_sector: "Obecność na spotkaniach według sektora",
  work_plan_milestones: "Plan pracy PZK: zadania według statusu",
}

const KEYS: Record<string, string> = {
  referral: "zgłoszenie",
  screening: "kwalifikacja",
  diagnosis: "diagnoza",
  ipp: "IPP",
  contract: "kontrakt",
  delivery: "realizacja usług",
  evaluation: "ewaluacja",
  closed: "zamknięta",
  handed_over: "przekazana",
  home_visit: "wizyta domowa",
  phone: "telefon",
  video: "wideo",
  office: "w urzędzie",
  planned: "zaplanowane",
  in_progress: "w realizacji",
  achieved: "osiągnięte",
  not_achieved: "nieosiągnięte",
  dropped: "zaniechane",
  done: "zrealizowane",
  cancelled: "odwołane",
  social: "pomoc społeczna",
  social_assistance: "pomoc społeczna",
  education: "edukacja",
  health: "ochrona zdrowia",
  police: "policja",
  justice: "wymiar sprawiedliwości",
  ngo: "organizacje pozarządowe",
  crisis_intervention: "interwencja kryzysowa",
  day_centre: "wsparcie dzienne",
  culture: "kultura",
  labour_market: "rynek pracy",
  rops: "ROPS",
  other: "inne",
  unknown: "nieznany",
}

export const DIMENSIONS: Record<string, string> = {
  region: "Region",
  pzk: "PZK",
  gmina: "Gmina",
  powiat: "Powiat",
  month: "Miesiąc",
}

export const measureLabel = (measure: string) => MEASURES[measure] ?? measure
export const keyLabel = (key: string) => KEYS[key] ?? key

/** A cell's value as the table shows it: hidden cells as "< N (ukryte)". */
export function cellText(cell: Cell, minGroup: number): string {
  if (cell.suppressed || cell.value === null) return `< ${minGroup} (ukryte)`
  return Number.isInteger(cell.value) ? String(cell.value) : cell.value.toLocaleString("pl-PL")
}
