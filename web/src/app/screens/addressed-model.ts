// Consultations asked of an institution through the PZK (web/src/model/consultation.ts), as the
// case card uses them: which institutions a worker may ask (the members of the PZK documents on
// the device), asking (one edit in the case, one in the PZK document), and the answers, which
// live in the PZK document because the institution asked may not read the case.

import type { DocHandle } from "@automerge/automerge-repo/slim"

import type { DocumentEntry } from "../../api"
import * as M from "../../model"
import { str, type PzkDoc } from "../../pzk"
import type { AppContext } from "../context"
import { find } from "./documents"
import type { ConsultationAnswer, Options } from "./port"

type PzkHandle = DocHandle<M.Addressed.PzkConsultationsDoc>

/** The PZK documents on this device, by document id. */
export async function pzkHandles(context: AppContext, pzk: DocumentEntry[]): Promise<Map<string, PzkHandle>> {
  const handles = new Map<string, PzkHandle>()
  for (const entry of pzk) {
    const handle = await find<M.Addressed.PzkConsultationsDoc>(context, entry)
    if (handle?.doc()) handles.set(entry.document_id, handle)
  }
  return handles
}

/** The institutions a worker of `own` may ask, as `pzk|institution` with the institution's name. */
export function askable(handles: Map<string, PzkHandle>, own: string | null): Options {
  const out: Array<readonly [string, string]> = []
  for (const [pzkId, handle] of handles) {
    const members = (handle.doc() as unknown as PzkDoc | undefined)?.members ?? {}
    for (const [id, member] of Object.entries(members)) {
      if (id !== own) out.push([`${pzkId}|${id}`, str(member.name) || id] as const)
    }
  }
  return out
}

/** The name of institution `id` in the PZK documents, or the id. */
export function institutionName(handles: Map<string, PzkHandle>, id: string): string {
  for (const handle of handles.values()) {
    const member = (handle.doc() as unknown as PzkDoc | undefined)?.members?.[id]
    if (member) return str(member.name) || id
  }
  return id
}

/** Asks the institution `target` (`pzk|institution`, see `askable`) about the case. */
export function askThroughPzk(
  caseHandle: DocHandle<M.CaseDoc>,
  handles: Map<string, PzkHandle>,
  target: string,
  question: string,
  by: M.Editor,
): void {
  const [pzkId, to] = target.split("|")
  const pzk = handles.get(pzkId)
  const caseDoc = caseHandle.doc()
  const pzkDoc = pzk?.doc()
  if (!pzk || !pzkDoc || !caseDoc) throw new Error("Dokumentu PZK nie ma na tym urządzeniu; spróbuj po połączeniu z serwerem.")
  const at = new Date()
  const { inCase, inPzk } = M.Addressed.askInstitution(
    caseDoc,
    caseHandle.documentId,
    pzkDoc,
    pzkId,
    M.newId("konsultacja"),
    to,
    question,
    by,
    at,
  )
  pzk.change(inPzk.apply, { message: inPzk.message, time: inPzk.time })
  caseHandle.change(inCase.apply, { message: inCase.message, time: inCase.time })
}

/** The answers to a case consultation asked through the PZK, read from the PZK document. */
export function answersFor(
  handles: Map<string, PzkHandle>,
  link: { pzk: string; consultation: string },
): ConsultationAnswer[] {
  const doc = handles.get(link.pzk)?.doc()
  if (!doc) return []
  const found = M.Addressed.addressedConsultations(doc).find(c => c.id === link.consultation)
  return found ? found.answers : []
}

/** The heads of the PZK documents, to know when the answers may have changed. */
export function pzkHeads(handles: Map<string, PzkHandle>): string {
  return [...handles.values()].map(h => M.headsOf(h.doc() as never).join(",")).join(";")
}
