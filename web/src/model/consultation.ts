// Consultations addressed to an institution through the PZK (sync-core/src/model/addressed.rs):
// a case's writer asks institution X about the case without sharing it with X. The question is
// written in the PZK document (named there only by the case's document id, with `to`: X) and in
// the case (with `addressedTo`: {pzk, consultation, to}, the link by which the case shows the
// PZK document's answers). Only X's members answer, in the PZK document. Same layout, rules and
// codes as the Rust model; the server checks who asks (the case's writers) and who answers.

import * as A from "@automerge/automerge/slim"

import type { CaseDoc } from "./case/layout.ts"
import { absent, caseMap } from "./case/edit.ts"
import { checkId, edit, type Edit, type Editor } from "./editor.ts"
import { ModelError, fieldError } from "./errors.ts"
import * as R from "./reader.ts"

type Obj = Record<string, unknown>
const s = (value: string) => new A.ImmutableString(value)

/** What the consultations need of a PZK document (as automerge's proxy shows it). */
export interface PzkConsultationsDoc {
  type: unknown
  members: Record<string, unknown>
  consultations: Record<string, Obj>
}

/** A consultation addressed to an institution, as read from the PZK document. */
export interface AddressedConsultation {
  id: string
  /** The case's document id (a pseudonym to whoever may not read the case). */
  caseRef: string
  /** The institution asked. */
  to: string
  askedBy: string
  /** The institution that asks. */
  institution: string
  question: string
  at: Date
  answers: Array<{ id: string; by: string; institution: string; text: string; at: Date }>
}

function pzkRoot(doc: PzkConsultationsDoc): Obj {
  const root = doc as unknown as Obj
  if (R.optStr(root, "type", "") !== "pzk") throw new ModelError("document.wrong-kind", { expected: "pzk", found: String(R.optStr(root, "type", "") ?? "") })
  return root
}

/**
 * Asks institution `to` (a member of the PZK team of `pzk`) about the case `caseDoc` (document
 * `caseId`): the two edits to make, one in each document. Nothing is returned unless both may
 * be made.
 */
export function askInstitution(
  caseDoc: CaseDoc,
  caseId: string,
  pzk: PzkConsultationsDoc,
  pzkId: string,
  consultationId: string,
  to: string,
  question: string,
  by: Editor,
  at: Date,
): { inCase: Edit<CaseDoc>; inPzk: Edit<PzkConsultationsDoc> } {
  const path = `consultations/${consultationId}`
  checkId("consultations", consultationId)
  checkId(`${path}/to`, to)
  if (!/^[A-Za-z0-9\-_./:#]{1,64}$/.test(caseId)) {
    throw fieldError(`${path}/caseRef`, "a case is named only by a pseudonymous reference")
  }
  absent(caseMap(caseDoc, "consultations"), "consultations", consultationId)
  const root = pzkRoot(pzk)
  absent(R.map(root, "consultations", ""), "consultations", consultationId)
  if (R.map(root, "members", "")[to] === undefined) throw new ModelError("consultation.to-non-member", { to })
  const entry = () => ({ question, askedBy: s(by.login), institution: s(by.institution), at, answers: {} })
  const inPzk = edit<PzkConsultationsDoc>(`${path}: opened on ${caseId} for ${to}`, by, at, d => {
    d.consultations[consultationId] = { ...entry(), caseRef: s(caseId), to: s(to) }
  })
  const inCase = edit<CaseDoc>(`${path}: asked ${to} through the PZK`, by, at, d => {
    d.consultations[consultationId] = {
      ...entry(),
      addressedTo: { pzk: s(pzkId), consultation: s(consultationId), to: s(to) },
    }
  })
  return { inCase, inPzk }
}

/** `by`'s answer to consultation `consultationId` of the PZK document; only the institution asked answers. */
export function answerAddressed(
  pzk: PzkConsultationsDoc,
  consultationId: string,
  answerId: string,
  text: string,
  by: Editor,
  at: Date,
): Edit<PzkConsultationsDoc> {
  const path = `consultations/${consultationId}`
  const consultation = R.map(R.map(pzkRoot(pzk), "consultations", ""), consultationId, "consultations")
  absent(R.map(consultation, "answers", path), `${path}/answers`, answerId)
  const to = R.optStr(consultation, "to", path)
  if (to !== null && to !== by.institution) throw new ModelError("consultation.not-addressed", { to })
  return edit(`${path}/answers/${answerId}: answered`, by, at, d => {
    ;(d.consultations[consultationId].answers as Obj)[answerId] = { by: s(by.login), institution: s(by.institution), at, text }
  })
}

/** The consultations of PZK document `pzk` addressed to an institution (to `to` only, when given), newest first. */
export function addressedConsultations(pzk: PzkConsultationsDoc, to?: string): AddressedConsultation[] {
  const root = pzkRoot(pzk)
  const all = R.map(root, "consultations", "")
  const out: AddressedConsultation[] = []
  for (const id of Object.keys(all).sort(R.compareIds)) {
    const path = `consultations/${id}`
    const node = R.map(all, id, "consultations")
    const addressed = R.optStr(node, "to", path)
    if (addressed === null || (to !== undefined && addressed !== to)) continue
    const answers = R.readMap(node, "answers", path, (a, p) => ({
      by: R.str(a, "by", p),
      institution: R.str(a, "institution", p),
      text: R.text(a, "text", p),
      at: R.timestamp(a, "at", p),
    }))
    out.push({
      id,
      caseRef: R.str(node, "caseRef", path),
      to: addressed,
      askedBy: R.str(node, "askedBy", path),
      institution: R.str(node, "institution", path),
      question: R.text(node, "question", path),
      at: R.timestamp(node, "at", path),
      answers: Object.entries(answers).map(([answerId, a]) => ({ id: answerId, ...a })),
    })
  }
  return out.sort((a, b) => b.at.getTime() - a.at.getTime())
}
