// A case document as the card shows it: the model's reading (web/src/model) with Polish labels,
// who set each concurrent value, the moves the workflow offers and why others are blocked.

import * as M from "../../model"
import { isoDay } from "./dom"
import type { ConflictChoice } from "./conflict-view"
import type { CaseData, HistoryEntry, Options, Status } from "./port"

type Obj = Record<string, unknown>

/** `[value, Polish label]` of every value of a closed set. */
export function options(kind: M.LabelKind, values: readonly string[]): Options {
  return values.map(v => [v, M.label(kind, v)] as const)
}

/** A status field with its label and, when conflicted, who set which value when. */
export function status(kind: M.LabelKind, found: M.Conflict<string>, doc: M.CaseDoc, parent: unknown, key: string): Status {
  let conflict: ConflictChoice[] | null = null
  if (M.isConflicted(found)) {
    const values = M.concurrentValues(doc, parent, key)
    // The shown value first, then the others as the model orders them.
    const order = M.allValues(found)
    conflict = values
      .map(v => ({ value: String(v.value), label: M.label(kind, String(v.value)), by: v.by, at: v.at }))
      .sort((a, b) => order.indexOf(a.value) - order.indexOf(b.value))
  }
  return { value: found.value, label: M.label(kind, found.value), conflict }
}

/** Whether a goal is past its deadline (`day`, YYYY-MM-DD) and still planned or under way. */
export function goalOverdue(goal: M.GoalView, day: string): boolean {
  return goal.plan.deadline < day && (goal.status.value === "planned" || goal.status.value === "in_progress")
}

/** The title of a case: the names of its household, the first named first. */
export function titleOf(view: M.CaseView): string {
  const names = Object.keys(view.household)
    .sort()
    .map(id => view.household[id].name)
  if (names.length === 0) return `Sprawa z ${view.createdAt.toLocaleDateString("pl-PL")}`
  return names.length === 1 ? names[0] : `${names[0]} i ${names.length - 1} os.`
}

function stageMoves(doc: M.CaseDoc) {
  return M.stageMoves(doc).map(m => ({
    to: m.to,
    label: M.label("stage", m.to),
    blocked: m.allowed ? null : m.error.message,
  }))
}

/** Reads the whole card from a case document. */
export function readCard(documentId: string, doc: M.CaseDoc, services: Map<string, string>): CaseData {
  const view = M.readCase(doc)
  const root = doc as unknown as Obj
  const finished = view.stage.value === "closed" || view.stage.value === "handed_over"
  const today = isoDay(new Date())
  return {
    documentId,
    title: titleOf(view),
    owner: view.owner,
    leadInstitution: view.leadInstitution,
    stage: status("stage", view.stage, doc, root, "stage"),
    stages: options("stage", M.STAGES),
    moves: stageMoves(doc),
    household: Object.entries(view.household).map(([id, p]) => ({ id, ...p })),
    nextVisit: view.nextVisit,
    address: view.address,
    phone: view.phone,
    rectifications: M.readRectifications(doc),
    referral: view.referral,
    screening: {
      outcome: view.screening.outcome ? status("screening", view.screening.outcome, doc, doc.screening, "outcome") : null,
      notes: view.screening.notes,
      by: view.screening.by,
      at: view.screening.at,
    },
    diagnosis: M.DIAGNOSIS_SECTORS.map(sector => ({
      sector,
      label: M.label("diagnosisSector", sector),
      text: view.diagnosis[sector] ?? "",
    })),
    goals: Object.entries(view.goals).map(([id, g]) => ({
      id,
      ...g.plan,
      status: status("goalStatus", g.status, doc, doc.goals[id], "status"),
      overdue: goalOverdue(g, today),
    })),
    services: Object.entries(view.services).map(([id, s]) => ({
      id,
      label: services.get(id) ?? id,
      provider: s.provider,
      status: status("serviceStatus", s.status, doc, doc.services[id], "status"),
    })),
    contract: {
      text: view.contract.text,
      signings: view.contract.signatures.map((s, i) => ({
        signer: s.signature.signer,
        mode: s.signature.mode,
        modeLabel: M.label("signingMode", s.signature.mode),
        note: s.signature.consentNote,
        at: s.at,
        recordedBy: s.recordedBy,
        text: M.signedContractText(doc, i),
      })),
      changedSinceSigned: view.contract.signatures.length > 0 && M.contractChangedSinceSigned(doc),
    },
    monitoring: view.monitoring.map(n => ({
      id: n.id,
      ...n.note,
      modeLabel: M.label("contactMode", n.note.mode),
      at: n.at,
    })),
    consents: Object.entries(view.consents)
      .map(([id, c]) => ({ id, ...c.event, given: c.event.state === "given", at: c.at, recordedBy: c.recordedBy }))
      .sort((a, b) => a.at.getTime() - b.at.getTime()),
    consultations: Object.entries(view.consultations)
      .map(([id, c]) => ({
        id,
        ...c.request,
        at: c.at,
        answers: Object.entries(c.answers).map(([aid, a]) => ({ id: aid, ...a.answer, at: a.at })),
        askedOf: c.addressed?.to ?? null,
        pzk: c.addressed?.pzk ?? null,
      }))
      .sort((a, b) => a.at.getTime() - b.at.getTime()),
    evaluation: view.evaluation,
    decision: view.pzkDecision
      ? {
          status: status("pzkDecision", view.pzkDecision.decision, doc, doc.pzkDecision, "decision"),
          meeting: view.pzkDecision.meeting,
          by: view.pzkDecision.by,
          at: view.pzkDecision.at,
        }
      : null,
    handover: view.handover
      ? { target: view.handover.target, worker: view.handover.targetWorker, note: view.handover.note, by: view.handover.by, at: view.handover.at }
      : null,
    finished,
  }
}

const PARTS: ReadonlyArray<readonly [RegExp, (m: RegExpMatchArray) => string]> = [
  [/^case created/, () => "założono sprawę"],
  [/^stage: (\w+) -> (\w+)/, m => `etap: ${M.label("stage", m[1])} → ${M.label("stage", m[2])}`],
  [/^stage: (\w+) confirmed/, m => `potwierdzono etap: ${M.label("stage", m[1])}`],
  [/^household\//, () => "gospodarstwo domowe"],
  [/^household: address/, () => "adres i telefon rodziny"],
  [/^screening: (\w+)/, m => `screening: ${M.label("screening", m[1])}`],
  [/^diagnosis\/(\w+)/, m => `diagnoza: ${M.label("diagnosisSector", m[1])}`],
  [/^goals\/[^/]+\/status: (\w+)/, m => `status celu IPP: ${M.label("goalStatus", m[1])}`],
  [/^goals\//, () => "cel IPP"],
  [/^services\/[^/]+\/status: (\w+)/, m => `status usługi: ${M.label("serviceStatus", m[1])}`],
  [/^services\//, () => "dodano usługę"],
  [/^contract: signed/, () => "podpisano kontrakt"],
  [/^contract/, () => "treść kontraktu"],
  [/^monitoring\//, () => "notatka z monitorowania"],
  [/^consultations\/[^/]+\/answers/, () => "odpowiedź na konsultację"],
  [/^consultations\//, () => "konsultacja"],
  [/^consents\//, () => "zgoda"],
  [/^evaluation/, () => "ewaluacja"],
  [/^pzkDecision: (\w+)/, m => `decyzja PZK: ${M.label("pzkDecision", m[1])}`],
  [/^handover/, () => "przekazanie"],
  [/^nextVisit/, () => "termin następnej wizyty"],
]

/** What a change's summary says, in Polish. */
function describe(summary: string): string {
  for (const [pattern, say] of PARTS) {
    const m = summary.match(pattern)
    if (m) return say(m)
  }
  return "inna zmiana"
}

/**
 * The history of a case, oldest first, with consecutive changes of one person to one part
 * (keystrokes of one text) shown as one entry at the time of the last.
 */
export function historyOf(changes: M.ChangeEntry[], into: HistoryEntry[] = []): HistoryEntry[] {
  for (const c of changes) {
    const what = describe(c.summary)
    const last = into.at(-1)
    if (last && last.by === c.by && last.what === what) {
      last.at = c.at
      continue
    }
    into.push({ by: c.by, institution: c.institution, at: c.at, what })
  }
  return into
}
