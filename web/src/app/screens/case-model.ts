// The screens' one door to the model (web/src/model): fills the screens' data (port.ts) from
// case documents and turns the screens' edits into the model's edits, each one change named
// after its author. Nothing here decides what is allowed: the model's rules do, and their
// Polish messages (the catalogue) are what a refused edit throws.

import type { DocHandle } from "@automerge/automerge-repo/slim"

import type { DocumentEntry, Me } from "../../api"
import * as M from "../../model"
import type { PzkDoc } from "../../pzk"
import type { AppContext } from "../context"
import { historyOf, options, readCard } from "./case-read"
import { rememberCreated } from "./created-here"
import { answersFor, askable, askThroughPzk, institutionName, pzkHandles, pzkHeads } from "./addressed-model"
import { entries, find, pzkInfo, type PzkInfo } from "./documents"
import { openJustice, type JusticePart } from "./justice-model"
import type { Access, CaseData, CaseEdits, Choices, HistoryEntry, NewCase } from "./port"

/** An open case: its data as of now, its edits, and a listener for its changes. */
export interface OpenedCase {
  data(): CaseData
  history(): HistoryEntry[]
  edits: CaseEdits
  choices: Choices
  access: Access
  onChange(listener: () => void): () => void
  /** The case's attachment entries, oldest first. */
  attachments(): M.AttachmentView[]
  /** Writes an attachment entry (its file is already stored on this device). */
  attach(attachment: M.Attachment): void
  /** The case's police and court information, for those the server lets hold it. */
  justice: JusticePart
}

/** The user as the model's editor; null for a user without an institution (who writes nothing). */
function editorOf(me: Me): M.Editor | null {
  return me.institution ? M.editor(me.login, me.institution) : null
}

/**
 * Whether the user may open cases: social workers, animators and admins, as the server decides
 * (server/src/access/validate.rs refuses anyone else's case with `refusal.may-not-open-cases`).
 * The app shows "Dziś" and "Nowa sprawa" only to them.
 */
export function mayOpenCases(me: Me): boolean {
  return ["social-worker", "animator", "admin"].some(role => me.roles.includes(role))
}

/** Partner members are users who are neither social workers nor animators. */
export function isPartner(me: Me): boolean {
  return !me.roles.includes("social-worker") && !me.roles.includes("animator")
}

function accessOf(me: Me, entry: DocumentEntry, info: PzkInfo): Access {
  const partner = isPartner(me)
  const sector = me.institution ? info.sectors.get(me.institution) : undefined
  return {
    canWrite: entry.access === "read-write" && editorOf(me) !== null,
    partner,
    ownSector: partner ? (sector ? M.diagnosisSectorOf(sector) : "other") : null,
  }
}

function choicesOf(info: PzkInfo, askableInstitutions: Choices["askable"]): Choices {
  return {
    screeningOutcomes: options("screening", M.SCREENING_OUTCOMES),
    sectors: options("diagnosisSector", M.DIAGNOSIS_SECTORS),
    goalStatuses: options("goalStatus", M.GOAL_STATUSES),
    serviceStatuses: options("serviceStatus", M.SERVICE_STATUSES),
    signingModes: options("signingMode", M.SIGNING_MODES),
    contactModes: options("contactMode", M.CONTACT_MODES),
    decisions: options("pzkDecision", M.PZK_DECISIONS),
    pzkServices: [...info.services].map(([id, description]) => [id, description] as const),
    askable: askableInstitutions,
  }
}

function editsOf(
  handle: DocHandle<M.CaseDoc>,
  by: M.Editor | null,
  pzkDocs: () => Promise<unknown[]>,
  pzkHandlesHere: Awaited<ReturnType<typeof pzkHandles>>,
): CaseEdits {
  const commit = (build: (doc: M.CaseDoc, by: M.Editor, at: Date) => M.Edit<M.CaseDoc>) => {
    if (!by) throw new Error("Twoje konto nie jest przypisane do instytucji, więc nie możesz zapisywać zmian.")
    return M.commit(handle, doc => build(doc, by, new Date()))
  }
  return {
    move: to => void commit((d, b, at) => M.transition(d, to as M.Stage, b, at)),
    resolveStage: value => void commit((d, b, at) => M.resolveStage(d, value as M.Stage, b, at)),
    addPerson: p => void commit((d, b, at) => M.addHouseholdMember(d, M.newId("os"), p, b, at)),
    setNextVisit: day => void commit((d, b, at) => M.setNextVisit(d, day, b, at)),
    setContact: (address, phone) => void commit((d, b, at) => M.setHouseholdContact(d, { address, phone }, b, at)),
    setScreening: (outcome, notes) => void commit((d, b, at) => M.setScreening(d, outcome as M.ScreeningOutcome, notes, b, at)),
    setDiagnosis: (sector, text) => void commit((d, b, at) => M.setDiagnosisSection(d, sector as M.DiagnosisSector, text, b, at)),
    upsertGoal: goal => {
      const id = M.newId("cel")
      commit((d, b, at) => M.upsertGoal(d, id, goal, b, at))
      return id
    },
    setGoalText: (id, part, text) =>
      void commit((d, b, at) => {
        const plan = M.readCase(d).goals[id].plan
        return M.upsertGoal(d, id, { ...plan, [part]: text }, b, at)
      }),
    setGoalStatus: (id, s) => void commit((d, b, at) => M.setGoalStatus(d, id, s as M.GoalStatus, b, at)),
    addService: (serviceId, provider) => {
      void pzkDocs().then(docs => {
        const listed = docs.find(p => (p as PzkDoc).services?.[serviceId])
        commit((d, b, at) =>
          listed ? M.addListedService(d, listed, serviceId, b, at) : M.addService(d, serviceId, provider, b, at),
        )
      })
    },
    setServiceStatus: (id, s) => void commit((d, b, at) => M.setServiceStatus(d, id, s as M.ServiceStatus, b, at)),
    setContractText: text => void commit((d, b, at) => M.setContractText(d, text, b, at)),
    sign: (signer, mode, note) =>
      void commit((d, b, at) => M.signContract(d, { signer, mode: mode as M.SigningMode, consentNote: note }, b, at)),
    addMonitoringNote: (mode, text) =>
      void commit((d, b, at) => M.appendMonitoringNote(d, M.newId("notatka"), { mode: mode as M.ContactMode, text }, b, at)),
    recordConsent: (institution, purpose, given, who) =>
      void commit((d, b, at) =>
        M.recordConsent(d, M.newId("zgoda"), { institution, purpose, state: given ? "given" : "withdrawn", by: who }, b, at),
      ),
    askConsultation: question => void commit((d, b, at) => M.openConsultation(d, M.newId("konsultacja"), question, b, at)),
    askInstitution: (question, target) => {
      if (!by) throw new Error("Twoje konto nie jest przypisane do instytucji, więc nie możesz zapisywać zmian.")
      askThroughPzk(handle, pzkHandlesHere, target, question, by)
    },
    answerConsultation: (id, text) => void commit((d, b, at) => M.answerConsultation(d, id, M.newId("odpowiedz"), text, b, at)),
    setEvaluation: text => void commit((d, b, at) => M.setEvaluation(d, text, b, at)),
    setDecision: (decision, meeting) => void commit((d, b, at) => M.setPzkDecision(d, decision as M.PzkDecision, meeting, b, at)),
    setHandover: (institution, worker, note) => void commit((d, b, at) => M.setHandover(d, { institution, worker }, note, b, at)),
    rectify: (field, value, reason) =>
      void commit((d, b, at) => M.rectify(d, M.newId("sprostowanie"), { field, new: value, reason }, b, at)),
  }
}

export async function openCase(context: AppContext, documentId: string): Promise<OpenedCase> {
  const { cases, pzk } = await entries(context)
  const entry = cases.find(d => d.document_id === documentId)
  if (!entry) throw new Error("Nie masz dostępu do tej sprawy albo ona nie istnieje.")
  const handle = await find<M.CaseDoc>(context, entry)
  const first = handle?.doc()
  if (!handle || !first) throw new Error("Tej sprawy nie ma jeszcze na urządzeniu; pojawi się po połączeniu z serwerem.")
  const info = await pzkInfo(context, pzk)
  const handles = await pzkHandles(context, pzk)
  const pzkDocs = async () => (await Promise.all(pzk.map(e => find<PzkDoc>(context, e)))).map(h => h?.doc()).filter(Boolean)
  let cached: { heads: string; data: CaseData } | null = null
  let history: { heads: string[]; entries: HistoryEntry[] } = { heads: [], entries: [] }
  let attached: { heads: string; views: M.AttachmentView[] } | null = null
  const by = editorOf(context.me)
  const current = () => handle.doc() ?? first
  const access = accessOf(context.me, entry, info)
  const justice = await openJustice(context, handle, access.canWrite, i => info.sectors.get(i))
  return {
    data() {
      const doc = current()
      const heads = `${M.headsOf(doc).join(",")}/${pzkHeads(handles)}`
      if (cached?.heads !== heads) cached = { heads, data: withPzkAnswers(readCard(documentId, doc, info.services), handles) }
      return cached.data
    },
    history() {
      const doc = current()
      const heads = M.headsOf(doc)
      if (heads.join(",") !== history.heads.join(",")) {
        // Only the changes since the last reading are decoded (a typed text makes many).
        const fresh = M.changesSince(doc, history.heads)
        history = { heads, entries: historyOf(fresh, history.entries) }
      }
      return [...history.entries]
    },
    edits: editsOf(handle, editorOf(context.me), pzkDocs, handles),
    choices: choicesOf(info, askable(handles, context.me.institution)),
    access,
    justice,
    onChange(listener) {
      // The answers to questions asked through the PZK arrive in the PZK documents.
      handle.on("change", listener)
      for (const pzkHandle of handles.values()) pzkHandle.on("change", listener)
      const stopJustice = justice.onChange(listener)
      return () => {
        handle.off("change", listener)
        for (const pzkHandle of handles.values()) pzkHandle.off("change", listener)
        stopJustice()
      }
    },
    attachments() {
      const doc = current()
      const heads = M.headsOf(doc).join(",")
      if (attached?.heads !== heads) attached = { heads, views: M.readAttachments(doc) }
      return attached.views
    },
    attach(attachment) {
      if (!by) throw new Error("Twoje konto nie jest przypisane do instytucji, więc nie możesz zapisywać zmian.")
      M.commit(handle, doc => M.attachFile(doc, M.newId("zalacznik"), attachment, by, new Date()))
    },
  }
}

/** The card's data with the answers of questions asked through the PZK, read from the PZK documents. */
function withPzkAnswers(data: CaseData, handles: Awaited<ReturnType<typeof pzkHandles>>): CaseData {
  const view = data.consultations.map(c => {
    if (c.askedOf === null || c.pzk === null) return c
    const answers = answersFor(handles, { pzk: c.pzk, consultation: c.id })
    return { ...c, answers, askedOf: institutionName(handles, c.askedOf) }
  })
  return { ...data, consultations: view }
}

/** Creates a case on this device (no network needed); returns its document id. */
export async function createCase(context: AppContext, init: NewCase): Promise<string> {
  const by = editorOf(context.me)
  if (!by) throw new Error("Twoje konto nie jest przypisane do instytucji, więc nie możesz zakładać spraw.")
  const household: Record<string, M.HouseholdMember> = {}
  init.people.forEach((p, i) => (household[`os-${i + 1}`] = p))
  const handle = M.createCase(
    context.repo,
    {
      owner: context.me.login,
      leadInstitution: by.institution,
      referral: { by: init.referredBy, institution: init.referringInstitution, reason: init.reason, at: new Date() },
      household,
    },
    by,
    new Date(),
  )
  rememberCreated(context.me.login, handle.documentId, handle.url)
  return handle.documentId
}
