// Runs the shared test vectors (tests/vectors/case) through the TypeScript model, as compiled
// by `tsc -p tsconfig.model.json`: tests/tests/case_vectors/main.rs runs it with the vectors'
// folder and an output folder, then reads back what it wrote with the Rust model.
//
// For each vector it checks that the Rust document reads here exactly as in Rust (the case, the
// stage bar's moves, a move to every stage, the state rules), carries out every operation with
// the TypeScript edit functions (each refused with the same code and arguments, or not at all),
// checks the result the same way, and writes the resulting document (base64) to the output
// folder; for a vector with a referral, the case this side creates too. Exits non-zero with
// every difference listed.

import { readFileSync, readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { isDeepStrictEqual } from "node:util"

import * as A from "@automerge/automerge"

const compiled = new URL("../node_modules/.model-test/", import.meta.url)
writeFileSync(new URL("package.json", compiled), '{"type":"module"}\n')
const M = await import(new URL("web/src/model/index.js", compiled).href)

const [vectorsDir, outDir] = process.argv.slice(2)
const problems = []

const problem = (where, what, found, expected) =>
  problems.push(`${where}: ${what}\n  found:    ${JSON.stringify(found)}\n  expected: ${JSON.stringify(expected)}`)

const iso = at => at?.toISOString() ?? null
const sorted = conflict => ({ value: conflict.value, alternatives: [...conflict.alternatives].sort() })
const entries = (record, f) => Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v)]))

/** A case view as canonical JSON, the shapes of tests/tests/case_vectors/view.rs. */
function canonical(v) {
  return {
    schemaVersion: v.schemaVersion,
    createdAt: iso(v.createdAt),
    stage: v.stage,
    owner: v.owner,
    leadInstitution: v.leadInstitution,
    household: v.household,
    referral: { ...v.referral, at: iso(v.referral.at) },
    screening: {
      outcome: v.screening.outcome && sorted(v.screening.outcome),
      notes: v.screening.notes,
      by: v.screening.by,
      at: iso(v.screening.at),
    },
    diagnosis: v.diagnosis,
    goals: entries(v.goals, g => ({ plan: g.plan, status: sorted(g.status), createdAt: iso(g.createdAt) })),
    services: entries(v.services, s => ({ provider: s.provider, status: sorted(s.status), addedAt: iso(s.addedAt) })),
    contract: {
      text: v.contract.text,
      signatures: v.contract.signatures.map(s => ({
        signature: s.signature,
        heads: s.heads.length,
        at: iso(s.at),
        recordedBy: s.recordedBy,
      })),
    },
    monitoring: v.monitoring.map(n => ({ id: n.id, note: n.note, at: iso(n.at) })),
    consultations: entries(v.consultations, c => ({
      request: c.request,
      at: iso(c.at),
      answers: entries(c.answers, a => ({ answer: a.answer, at: iso(a.at) })),
    })),
    consents: entries(v.consents, c => ({ event: c.event, at: iso(c.at), recordedBy: c.recordedBy })),
    evaluation: { text: v.evaluation.text, by: v.evaluation.by, at: iso(v.evaluation.at) },
    pzkDecision: v.pzkDecision && {
      decision: sorted(v.pzkDecision.decision),
      meeting: v.pzkDecision.meeting,
      by: v.pzkDecision.by,
      at: iso(v.pzkDecision.at),
    },
    handover: v.handover && { ...v.handover, at: iso(v.handover.at) },
    nextVisit: v.nextVisit,
    address: v.address,
    phone: v.phone,
  }
}

/** An error as both sides report it: the code, and a rule's arguments. */
function error(e) {
  if (!(e instanceof M.ModelError)) throw e
  const isRule = M.RULE_CODES.includes(e.code)
  return { code: e.code, args: isRule ? e.args : {} }
}

function outcome(f) {
  try {
    f()
    return null
  } catch (e) {
    return error(e)
  }
}

function attempt(f) {
  try {
    return f()
  } catch (e) {
    return { error: error(e) }
  }
}

/** Everything compared about one document (view.rs `all`). */
function all(doc) {
  return {
    view: attempt(() => canonical(M.readCase(doc))),
    rectifications: attempt(() =>
      Object.fromEntries(M.readRectifications(doc).map(({ id, at, ...r }) => [id, { ...r, at: iso(at) }])),
    ),
    attachments: attempt(() =>
      Object.fromEntries(
        M.readAttachments(doc).map(a => [
          a.id,
          { ...a.attachment, author: a.author, institution: a.institution, at: iso(a.at) },
        ]),
      ),
    ),
    moves: attempt(() =>
      M.stageMoves(doc).map(m => ({ to: m.to, blocked: m.allowed ? null : error(m.error) })),
    ),
    checks: M.STAGES.map(to => ({ to, blocked: outcome(() => M.checkTransition(doc, to)) })),
    state: outcome(() => M.checkState(doc)),
  }
}

function compare(where, found, expected) {
  for (const key of Object.keys(expected)) {
    if (!isDeepStrictEqual(found[key], expected[key])) problem(where, key, found[key], expected[key])
  }
}

const by = op => M.editor(op.by[0], op.by[1])
const at = op => new Date(op.at)

/** The edit an operation of a vector makes (ops.rs `apply`). */
function edit(doc, op, pzk) {
  const [who, when] = [by(op), at(op)]
  switch (op.op) {
    case "addHouseholdMember":
      return M.addHouseholdMember(doc, op.personId, { name: op.name, relation: op.relation, birthDate: op.birthDate }, who, when)
    case "setScreening":
      return M.setScreening(doc, op.outcome, op.notes, who, when)
    case "setDiagnosis":
      return M.setDiagnosisSection(doc, op.sector, op.text, who, when)
    case "upsertGoal":
      return M.upsertGoal(doc, op.goalId, op.plan, who, when)
    case "setGoalStatus":
      return M.setGoalStatus(doc, op.goalId, op.status, who, when)
    case "addService":
      return M.addService(doc, op.serviceId, op.provider, who, when)
    case "addListedService":
      return M.addListedService(doc, pzk, op.serviceId, who, when)
    case "setServiceStatus":
      return M.setServiceStatus(doc, op.serviceId, op.status, who, when)
    case "setContractText":
      return M.setContractText(doc, op.text, who, when)
    case "signContract":
      return M.signContract(doc, { signer: op.signer, mode: op.mode, consentNote: op.consentNote }, who, when)
    case "appendMonitoringNote":
      return M.appendMonitoringNote(doc, op.noteId, { mode: op.mode, text: op.text }, who, when)
    case "openConsultation":
      return M.openConsultation(doc, op.id, op.question, who, when)
    case "answerConsultation":
      return M.answerConsultation(doc, op.id, op.answerId, op.text, who, when)
    case "recordConsent":
      return M.recordConsent(doc, op.id, { institution: op.institution, purpose: op.purpose, state: op.state, by: op.person }, who, when)
    case "setEvaluation":
      return M.setEvaluation(doc, op.text, who, when)
    case "setPzkDecision":
      return M.setPzkDecision(doc, op.decision, op.meeting, who, when)
    case "setHandover":
      return M.setHandover(doc, { institution: op.institution, worker: op.worker }, op.note, who, when)
    case "setNextVisit":
      return M.setNextVisit(doc, op.day, who, when)
    case "attachFile": {
      const link = op.signature !== undefined ? { signature: op.signature } : op.consent !== undefined ? { consent: op.consent } : null
      const attachment = { sha256: op.sha256, mime: op.mime, size: op.size, kind: op.kind, link, caption: op.caption }
      return M.attachFile(doc, op.id, attachment, who, when)
    }
    case "setHouseholdContact":
      return M.setHouseholdContact(doc, { address: op.address, phone: op.phone }, who, when)
    case "rectify":
      return M.rectify(doc, op.id, { field: op.field, new: op.new, reason: op.reason }, who, when)
    case "transition":
      return M.transition(doc, op.to, who, when)
    case "resolveStage":
      return M.resolveStage(doc, op.chosen, who, when)
    default:
      throw new Error(`unknown operation ${op.op}`)
  }
}

const load = text => A.load(new Uint8Array(Buffer.from(text, "base64")))
const save = doc => Buffer.from(A.save(doc)).toString("base64")

function runVector(vector) {
  const name = vector.name
  let doc = load(vector.document)
  const pzk = vector.pzk ? load(vector.pzk) : undefined
  compare(`${name} (Rust's document)`, all(doc), vector.before)
  vector.operations.forEach((op, index) => {
    let found = null
    try {
      doc = M.applyEdit(doc, edit(doc, op, pzk))
    } catch (e) {
      found = error(e)
    }
    if (!isDeepStrictEqual(found, op.expect)) problem(`${name} operation ${index} (${op.op})`, "outcome", found, op.expect)
  })
  compare(`${name} (after the operations)`, all(doc), vector.after)
  writeFileSync(join(outDir, `${name}.b64`), save(doc))
  if (vector.create) {
    const c = vector.create
    const init = { ...c, referral: { ...c.referral, at: new Date(c.referral.at) } }
    const created = M.createCaseDoc(init, by(c), at(c))
    compare(`${name} (created by TypeScript)`, all(created), vector.before)
    writeFileSync(join(outDir, `${name}.created.b64`), save(created))
  }
}

// The codes: the same lists on both sides, and a Polish text for each.
const codes = JSON.parse(readFileSync(join(vectorsDir, "codes.json"), "utf8"))
if (!isDeepStrictEqual([...M.RULE_CODES].sort(), [...codes.rules].sort())) {
  problem("codes", "rule codes", M.RULE_CODES, codes.rules)
}
if (!isDeepStrictEqual([...M.SCHEMA_CODES].sort(), [...codes.schema].sort())) {
  problem("codes", "schema codes", M.SCHEMA_CODES, codes.schema)
}
const written = new Set(M.catalogueCodes())
for (const code of [...M.RULE_CODES, ...M.SCHEMA_CODES]) {
  if (!written.has(code)) problem("catalogue", `no Polish text for ${code}`, null, code)
}

// A server's refusal carries its code in front of its words (sync-core's coded_text).
const quoted = "the server closed the connection (1008): [stage.final] a case at stage closed is final"
if (M.refusalCode(quoted) !== "stage.final" || M.refusalCode("no code") !== undefined) {
  problem("refusalCode", "code found in a refusal", M.refusalCode(quoted), "stage.final")
}
if (M.message("stage.final", { from: "closed", to: "ipp" }) !== "Etap „zamknięta” jest końcowy: sprawy nie można już przenieść na etap „IPP”.") {
  problem("message", "Polish text with labels", M.message("stage.final", { from: "closed", to: "ipp" }), "…")
}

// What the worker reads of a refusal is Polish, whatever the server's words after the code.
for (const reason of [quoted, "[server.store-failed] store failed: disk full", "no code at all"]) {
  const shown = M.refusalMessage(reason)
  if (!shown.startsWith("Serwer odrzucił") || /a case at|store failed|no code|\{/.test(shown)) {
    problem("refusalMessage", `Polish words for ${reason}`, shown, "a Polish sentence")
  }
}
if (!M.refusalMessage("[server.store-failed] store failed").includes(M.message("server.store-failed"))) {
  problem("refusalMessage", "the catalogue's text for a code without arguments", M.refusalMessage("[server.store-failed] x"), "…")
}

let count = 0
for (const file of readdirSync(vectorsDir).sort()) {
  if (!file.endsWith(".json") || file === "codes.json") continue
  runVector(JSON.parse(readFileSync(join(vectorsDir, file), "utf8")))
  count += 1
}
if (problems.length > 0) {
  console.error(`${problems.length} difference(s) between the TypeScript and the Rust model:\n`)
  console.error(problems.join("\n\n"))
  process.exit(1)
}
console.log(`${count} vectors: the TypeScript model reads, writes and refuses as the Rust model does`)
