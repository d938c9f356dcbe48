// Runs a team through the TypeScript twin of the PZK document (web/src/model/pzk/, compiled by
// `tsc -p tsconfig.model.json`) on a team document Rust wrote: tests/tests/case_vectors/pzk.rs
// runs it with that document's file and two output files, reads the JSON it prints (the team
// before and after, the codes of the refused edits, a team TypeScript created) and checks the
// documents it wrote with the Rust model.

import { readFileSync, writeFileSync } from "node:fs"

import * as A from "@automerge/automerge"

import { M, refusal } from "./harness.mjs"

const P = M.Pzk

const [input, output, created] = process.argv.slice(2)
let doc = A.load(readFileSync(input))
const by = M.editor("animator1", "mops")
const at = new Date("2026-03-05T10:00:00Z")

const iso = d => d.toISOString()
const entries = (record, f) => Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v)]))
const canonical = v => {
  const a = v.agreement
  return {
    name: v.name,
    animator: v.animator,
    agreement: {
      text: a.text,
      status: a.status,
      parties: a.parties,
      signatories: entries(a.signatories, s => ({ ...s, signedAt: iso(s.signedAt) })),
      dates: a.dates,
      scan: a.scan,
      signed: a.signed && { ...a.signed, at: iso(a.signed.at) },
    },
    leader: v.leader,
    members: v.members,
    workPlan: v.workPlan,
    services: v.services,
    decision92: v.decision92 && { ...v.decision92, at: iso(v.decision92.at) },
    recommendations: entries(v.recommendations, r => ({ ...r, at: iso(r.at) })),
  }
}
const apply = e => { doc = A.change(doc, { message: e.message, time: e.time }, e.apply) }
const recommendation = { text: "Stały dyżur dzielnicowego w szkole", category: "organisational", decision92: true }

const before = canonical(P.readPzk(doc))
const refused = {
  month121: refusal(() => P.upsertMilestone(doc, "m121", { step: "K10", month: 121, title: "Za daleko" }, by, at)),
  stepK11: refusal(() => P.upsertMilestone(doc, "mx", { step: "K11", month: 5, title: "Nie ma kroku" }, by, at)),
  signWithoutSignatory: refusal(() => P.setAgreementStatus(doc, "signed", by, at)),
  datesOrder: refusal(() =>
    P.setAgreementDates(doc, { concludedOn: null, validFrom: "2026-04-01", validTo: "2026-03-01" }, by, at)),
  emptyLeader: refusal(() => P.setLeader(doc, { label: "  ", note: "" }, by, at)),
}
apply(P.upsertMember(doc, "policja", { name: "Komisariat Policji", sector: "police", role: "member" }, by, at))
apply(P.setRepresentative(doc, "policja", "jkowal", { name: "Jan Kowal", function: "dzielnicowy" }, by, at))
apply(P.upsertMilestone(doc, "m24", { step: "K8", month: 24, title: "Monitorowanie" }, by, at))
apply(P.setMilestoneStatus(doc, "m03", "in_progress", by, at))
const u3 = { description: "Konsultacje dzielnicowego", provider: "policja", sector: "police", capacity: null, remoteCapable: true }
apply(P.upsertService(doc, "u3", u3, by, at))
const u1 = { description: "Korepetycje z matematyki", provider: "poradnia", sector: "education", capacity: 12, remoteCapable: true }
apply(P.upsertService(doc, "u1", u1, by, at))
apply(P.retireService(doc, "u2", by, at))
apply(P.setAgreementText(doc, "Porozumienie o współpracy w ramach PZK.", by, at))
apply(P.setAgreementParty(doc, "mops", "MOPS w Przykładowie", by, at))
const wojt = { person: "Jan Wójcik", institution: "Gmina Przykładowo", function: "Wójt Gminy", signedAt: at }
apply(P.setSignatory(doc, "wojt", wojt, by, at))
apply(P.setAgreementStatus(doc, "signed", by, at))
refused.textAfterSigning = refusal(() => P.setAgreementText(doc, "Inna treść.", by, at))
refused.partyAfterSigning = refusal(() => P.setAgreementParty(doc, "pup", "Powiatowy Urząd Pracy", by, at))
apply(P.setAgreementDates(doc, { concludedOn: "2026-03-05", validFrom: "2026-03-05", validTo: "2028-08-31" }, by, at))
const scan = { sha256: "a".repeat(64), mime: "application/pdf", size: 12345, name: "porozumienie.pdf" }
apply(P.attachAgreementScan(doc, scan, by, at))
apply(P.addRecommendation(doc, "r1", recommendation, by, at))
refused.recommendationTwice = refusal(() => P.addRecommendation(doc, "r1", recommendation, by, at))
apply(P.setDecision92(doc, "continue", "Zespół działa dalej.", null, by, at))
writeFileSync(output, A.save(doc))

const fresh = P.createPzkDoc({ name: "PZK Powiatu Przykładowego", animator: "animator2", agreementText: "Projekt." }, at)
writeFileSync(created, A.save(fresh))
process.stdout.write(JSON.stringify({
  before,
  refused,
  after: canonical(P.readPzk(doc)),
  created: canonical(P.readPzk(fresh)),
}))
