// The team itself (sync-core/src/model/pzk/team.rs and leader.rs): creating its document, the
// member institutions with their representatives and roles, and the leader person or family
// (5.3), named without being made a user.

import * as A from "@automerge/automerge/slim"

import { applyEdit, checkId, type Edit, type Editor } from "../editor.ts"
import { fieldError } from "../errors.ts"
import { SCHEMA_VERSION } from "../header.ts"
import * as R from "../reader.ts"
import {
  MEMBER_ROLES,
  SECTORS,
  at as objAt,
  checkEnum,
  chars,
  pzkEdit,
  pzkMap,
  putStr,
  scalar,
  type InstitutionSector,
  type MemberRole,
  type Obj,
  type PzkDoc,
} from "./common.ts"

export const MAX_LEADER_LABEL = 120
export const MAX_LEADER_NOTE = 1000

/** What a new PZK document starts with. */
export interface PzkInit {
  /** The team's name, e.g. "PZK Gminy Przykładowo". */
  name: string
  /** The login of the animator who leads the team (the author of the first change). */
  animator: string
  /** The first draft of the agreement. */
  agreementText: string
}

/** A member institution (*instytucja członkowska*). */
export interface Member {
  name: string
  sector: InstitutionSector
  role: MemberRole
}

/** A representative of a member institution (*przedstawiciel*). */
export interface Representative {
  name: string
  function: string
}

/** The leader person or family, as the team names them. */
export interface Leader {
  label: string
  note: string
}

/** The first change of a new PZK document: a draft agreement and every container it will hold. */
export function newPzk(init: PzkInit, at: Date): Edit<PzkDoc> {
  const by: Editor = { login: init.animator, institution: "" }
  return pzkEdit(`PZK ${init.name} created`, by, at, d => {
    d.type = scalar("pzk")
    d.schemaVersion = SCHEMA_VERSION
    d.createdAt = at
    d.name = scalar(init.name)
    d.animator = scalar(init.animator)
    d.agreement = { text: init.agreementText, status: scalar("draft"), parties: {}, signatories: {} }
    d.decision92 = { rationale: "" }
    for (const key of ["members", "workPlan", "services", "meetings", "consultations", "recommendations"]) {
      d[key] = {}
    }
  })
}

/** A new PZK document, its first change written by this device. */
export function createPzkDoc(init: PzkInit, at: Date): A.Doc<PzkDoc> {
  return applyEdit(A.init<PzkDoc>(), newPzk(init, at))
}

export function readMemberFields(node: Obj, path: string): Member {
  return {
    name: R.str(node, "name", path),
    sector: R.field(node, "sector", path, R.parseEnum(SECTORS)).value,
    role: R.field(node, "role", path, R.parseEnum(MEMBER_ROLES)).value,
  }
}

export function readRepresentative(node: Obj, path: string): Representative {
  return { name: R.str(node, "name", path), function: R.str(node, "function", path) }
}

/** Adds a member institution, or updates the fields that changed when it is present. */
export function upsertMember(doc: PzkDoc, id: string, member: Member, by: Editor, at: Date): Edit<PzkDoc> {
  const members = pzkMap(doc, "members")
  checkId("members", id)
  const current = members[id] === undefined ? undefined : readMemberFields(R.map(members, id, "members"), `members/${id}`)
  checkEnum(`members/${id}/sector`, SECTORS, member.sector)
  checkEnum(`members/${id}/role`, MEMBER_ROLES, member.role)
  return pzkEdit(`members/${id}: saved`, by, at, d => {
    const all = objAt(d, "members")
    if (current === undefined) all[id] = { representatives: {} }
    const map = all[id] as Obj
    putStr(map, "name", current?.name, member.name)
    putStr(map, "sector", current?.sector, member.sector)
    putStr(map, "role", current?.role, member.role)
  })
}

function representatives(doc: PzkDoc, institution: string): Obj {
  const member = R.map(pzkMap(doc, "members"), institution, "members")
  return R.map(member, "representatives", `members/${institution}`)
}

/** Adds or updates a representative of a member institution. */
export function setRepresentative(
  doc: PzkDoc,
  institution: string,
  person: string,
  representative: Representative,
  by: Editor,
  at: Date,
): Edit<PzkDoc> {
  const path = `members/${institution}/representatives`
  const all = representatives(doc, institution)
  checkId(path, person)
  const current = all[person] === undefined ? undefined : readRepresentative(R.map(all, person, path), `${path}/${person}`)
  return pzkEdit(`${path}/${person}: saved`, by, at, d => {
    const reps = objAt(d, "members", institution, "representatives")
    if (current === undefined) reps[person] = {}
    const map = reps[person] as Obj
    putStr(map, "name", current?.name, representative.name)
    putStr(map, "function", current?.function, representative.function)
  })
}

/** Removes a representative of a member institution. */
export function removeRepresentative(doc: PzkDoc, institution: string, person: string, by: Editor, at: Date): Edit<PzkDoc> {
  const path = `members/${institution}/representatives`
  R.map(representatives(doc, institution), person, path)
  return pzkEdit(`${path}/${person}: removed`, by, at, d => {
    delete objAt(d, "members", institution, "representatives")[person]
  })
}

function checkLeader(leader: Leader): void {
  const label = leader.label.trim()
  if (label === "" || chars(label) > MAX_LEADER_LABEL || label.includes("\n")) {
    throw fieldError("leader/label", `one line of 1 to ${MAX_LEADER_LABEL} characters`)
  }
  if (chars(leader.note) > MAX_LEADER_NOTE) throw fieldError("leader/note", `at most ${MAX_LEADER_NOTE} characters`)
}

/** Names the team's leader person or family, or changes how they are named. */
export function setLeader(doc: PzkDoc, leader: Leader, by: Editor, at: Date): Edit<PzkDoc> {
  checkLeader(leader)
  pzkMap(doc, "members")
  const exists = doc.leader !== undefined
  if (exists) R.map(doc, "leader", "")
  return pzkEdit("leader: saved", by, at, d => {
    if (!exists) d.leader = {}
    const map = d.leader as Obj
    map.label = scalar(leader.label.trim())
    map.note = scalar(leader.note.trim())
  })
}

/** Removes the leader (the team no longer works with them). */
export function clearLeader(doc: PzkDoc, by: Editor, at: Date): Edit<PzkDoc> {
  pzkMap(doc, "leader")
  return pzkEdit("leader: removed", by, at, d => {
    delete d.leader
  })
}

/** The leader, when the team has named one. */
export function readLeader(doc: PzkDoc): Leader | null {
  if (doc.leader === undefined) return null
  const node = R.map(doc, "leader", "")
  const leader = { label: R.str(node, "label", "leader"), note: R.str(node, "note", "leader") }
  checkLeader(leader)
  return leader
}
