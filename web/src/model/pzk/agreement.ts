// The inter-institution agreement (*porozumienie*, 5.2; sync-core/src/model/pzk/agreement.rs):
// its text, parties, signatories, dates, the scan of the signed paper, and signing, which
// freezes the signed text and parties (`agreement.frozen`). Signatories, dates and the scan may
// still be recorded after signing: people sign on different days and the scan comes later.

import * as A from "@automerge/automerge/slim"

import { checkId, type Edit, type Editor } from "../editor.ts"
import { ModelError, fieldError } from "../errors.ts"
import { open } from "../header.ts"
import * as R from "../reader.ts"
import { ALLOWED_MIME, MAX_ATTACHMENT_BYTES, isSha256Hex } from "../case/attachments.ts"
import { AGREEMENT_STATUSES, at as objAt, checkEnum, pzkEdit, scalar, type AgreementStatus, type Obj, type PzkDoc } from "./common.ts"

/** A signatory (*osoba podpisująca*): who signed, for which institution, in which function, when. */
export interface Signatory {
  person: string
  institution: string
  function: string
  signedAt: Date
}

/** The agreement's dates, each "YYYY-MM-DD" or null. */
export interface AgreementDates {
  concludedOn: string | null
  validFrom: string | null
  validTo: string | null
}

/** The scan of the signed paper: a blob of the PZK document named by its SHA-256. */
export interface AgreementScan {
  sha256: string
  mime: string
  size: number
  name: string
}

/** The version signed, frozen. */
export interface SignedAgreement {
  text: string
  parties: Record<string, string>
  by: string
  at: Date
}

export interface AgreementView {
  text: string
  status: R.Conflict<AgreementStatus>
  parties: Record<string, string>
  signatories: Record<string, Signatory>
  dates: AgreementDates
  scan: AgreementScan | null
  signed: SignedAgreement | null
}

const PATH = "agreement"
const incomplete = (part: string) => new ModelError("agreement.incomplete", { part })

function agreementOf(doc: PzkDoc): Obj {
  open(doc, "pzk")
  return R.map(doc, PATH, "")
}

/** The agreement's map, refused (`agreement.frozen`) once its signed version is frozen. */
function unsigned(doc: PzkDoc): Obj {
  const agreement = agreementOf(doc)
  if (agreement.signed !== undefined) throw new ModelError("agreement.frozen", {})
  return agreement
}

/** Whether the agreement is signed (its text and parties frozen). */
export function isSigned(doc: PzkDoc): boolean {
  return agreementOf(doc).signed !== undefined
}

/** Replaces the agreement's text (as a diff); refused once it is signed. */
export function setAgreementText(doc: PzkDoc, text: string, by: Editor, at: Date): Edit<PzkDoc> {
  R.text(unsigned(doc), "text", PATH)
  return pzkEdit("agreement: text updated", by, at, d => {
    A.updateText(d as A.Doc<unknown>, [PATH, "text"], text)
  })
}

/** Adds or renames a party of the agreement; refused once it is signed. */
export function setAgreementParty(doc: PzkDoc, party: string, name: string, by: Editor, at: Date): Edit<PzkDoc> {
  unsigned(doc)
  checkId(`${PATH}/parties`, party)
  if (name.trim() === "") throw incomplete("party")
  return pzkEdit(`${PATH}/parties/${party}: saved`, by, at, d => {
    const agreement = objAt(d, PATH)
    if (agreement.parties === undefined) agreement.parties = {}
    const parties = agreement.parties as Obj
    const current = parties[party]
    if (typeof current !== "object" || current === null || current instanceof A.ImmutableString) parties[party] = {}
    ;(parties[party] as Obj).name = scalar(name.trim())
  })
}

/** Removes a party of the agreement; refused once it is signed. */
export function removeAgreementParty(doc: PzkDoc, party: string, by: Editor, at: Date): Edit<PzkDoc> {
  R.map(R.map(unsigned(doc), "parties", PATH), party, `${PATH}/parties`)
  return pzkEdit(`${PATH}/parties/${party}: removed`, by, at, d => {
    delete objAt(d, PATH, "parties")[party]
  })
}

/** Records (or corrects) a signatory; allowed after signing. */
export function setSignatory(doc: PzkDoc, id: string, signatory: Signatory, by: Editor, at: Date): Edit<PzkDoc> {
  const agreement = agreementOf(doc)
  if (signatory.person.trim() === "" || signatory.institution.trim() === "") throw incomplete("signatory")
  const path = `${PATH}/signatories`
  checkId(path, id)
  const exists = agreement.signatories !== undefined && R.map(agreement, "signatories", PATH)[id] !== undefined
  if (exists) R.map(R.map(agreement, "signatories", PATH), id, path)
  return pzkEdit(`${path}/${id}: saved`, by, at, d => {
    const node = objAt(d, PATH)
    if (node.signatories === undefined) node.signatories = {}
    const all = node.signatories as Obj
    if (!exists) all[id] = {}
    const map = all[id] as Obj
    map.person = scalar(signatory.person.trim())
    map.institution = scalar(signatory.institution.trim())
    map.function = scalar(signatory.function.trim())
    map.signedAt = signatory.signedAt
  })
}

function checkDates(dates: AgreementDates): void {
  for (const [key, day] of Object.entries(dates)) {
    if (day !== null && !R.isDate(day)) throw fieldError(`${PATH}/${key}`, "expected a date YYYY-MM-DD")
  }
  if (dates.validFrom !== null && dates.validTo !== null && dates.validTo < dates.validFrom) {
    throw new ModelError("agreement.dates-order", {})
  }
}

/** Sets the agreement's dates; refused when it would be in force until before it starts. */
export function setAgreementDates(doc: PzkDoc, dates: AgreementDates, by: Editor, at: Date): Edit<PzkDoc> {
  checkDates(dates)
  agreementOf(doc)
  return pzkEdit("agreement: dates set", by, at, d => {
    const node = objAt(d, PATH)
    for (const [key, day] of [["concludedOn", dates.concludedOn], ["validFrom", dates.validFrom], ["validTo", dates.validTo]] as const) {
      if (day !== null) node[key] = scalar(day)
      else if (node[key] !== undefined) delete node[key]
    }
  })
}

function checkScan(scan: AgreementScan): void {
  const field = (name: string, reason: string) => fieldError(`${PATH}/scan/${name}`, reason)
  if (!isSha256Hex(scan.sha256)) throw field("sha256", "not 64 lowercase hex digits")
  if (!(ALLOWED_MIME as readonly string[]).includes(scan.mime)) throw field("mime", "not a PDF or a photo")
  if (scan.size <= 0 || scan.size > MAX_ATTACHMENT_BYTES) throw field("size", "empty or too large")
}

/** Attaches the scan of the signed paper (replacing an earlier one), a blob of this document. */
export function attachAgreementScan(doc: PzkDoc, scan: AgreementScan, by: Editor, at: Date): Edit<PzkDoc> {
  checkScan(scan)
  agreementOf(doc)
  return pzkEdit(`${PATH}/scan: ${scan.sha256}`, by, at, d => {
    objAt(d, PATH).scan = {
      sha256: scalar(scan.sha256),
      mime: scalar(scan.mime),
      size: scan.size,
      name: scalar(scan.name),
    }
  })
}

/**
 * Sets the agreement's status. Signing (`signed` the first time) needs a text, a party and a
 * signatory, and freezes the text and parties as signed.
 */
export function setAgreementStatus(doc: PzkDoc, status: AgreementStatus, by: Editor, at: Date): Edit<PzkDoc> {
  checkEnum(`${PATH}/status`, AGREEMENT_STATUSES, status)
  const view = readAgreement(doc)
  const freeze = status === "signed" && view.signed === null
  if (freeze) {
    if (view.text.trim() === "") throw incomplete("text")
    if (Object.keys(view.parties).length === 0) throw incomplete("parties")
    if (Object.keys(view.signatories).length === 0) throw incomplete("signatories")
  }
  return pzkEdit(`${PATH}/status: ${status}`, by, at, d => {
    const node = objAt(d, PATH)
    delete node.status
    node.status = scalar(status)
    if (!freeze) return
    const parties: Obj = {}
    for (const [id, name] of Object.entries(view.parties)) parties[id] = scalar(name)
    node.signed = { text: scalar(view.text), parties, by: scalar(by.login), at }
  })
}

function readMapOf<T>(node: Obj, key: string, read: (entry: Obj, path: string) => T): Record<string, T> {
  return node[key] === undefined ? {} : R.readMap(node, key, PATH, read)
}

/** Reads the agreement; the parts an older document lacks read as empty. */
export function readAgreement(doc: PzkDoc): AgreementView {
  const node = agreementOf(doc)
  let scan: AgreementScan | null = null
  if (node.scan !== undefined) {
    const s = R.map(node, "scan", PATH)
    const p = `${PATH}/scan`
    scan = { sha256: R.str(s, "sha256", p), mime: R.str(s, "mime", p), size: R.field(s, "size", p, R.parseUint).value, name: R.str(s, "name", p) }
    checkScan(scan)
  }
  let signed: SignedAgreement | null = null
  if (node.signed !== undefined) {
    const s = R.map(node, "signed", PATH)
    const p = `${PATH}/signed`
    const partiesNode = R.map(s, "parties", p)
    const parties: Record<string, string> = {}
    for (const id of Object.keys(partiesNode).sort(R.compareIds)) parties[id] = R.str(partiesNode, id, `${p}/parties`)
    signed = { text: R.str(s, "text", p), parties, by: R.str(s, "by", p), at: R.timestamp(s, "at", p) }
  }
  return {
    text: R.text(node, "text", PATH),
    status: R.field(node, "status", PATH, R.parseEnum(AGREEMENT_STATUSES)),
    parties: readMapOf(node, "parties", (p, path) => R.str(p, "name", path)),
    signatories: readMapOf(node, "signatories", (s, path) => ({
      person: R.str(s, "person", path),
      institution: R.str(s, "institution", path),
      function: R.str(s, "function", path),
      signedAt: R.timestamp(s, "signedAt", path),
    })),
    dates: {
      concludedOn: R.optDate(node, "concludedOn", PATH),
      validFrom: R.optDate(node, "validFrom", PATH),
      validTo: R.optDate(node, "validTo", PATH),
    },
    scan,
    signed,
  }
}

/** The document's state: a signed agreement's text and parties are the signed ones, its dates in order. */
export function checkAgreementState(view: AgreementView): void {
  checkDates(view.dates)
  if (view.signed === null) return
  const same = view.signed.text === view.text && JSON.stringify(view.signed.parties) === JSON.stringify(view.parties)
  if (!same) throw new ModelError("agreement.frozen", {})
}
