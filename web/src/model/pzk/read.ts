// Reading a whole PZK document (sync-core/src/model/pzk/read.rs `read_pzk`): every field's shape
// checked on the way, status fields with their concurrent values, and the rule that only
// member institutions are invited to meetings.

import { schemaVersion } from "../header.ts"
import { ModelError } from "../errors.ts"
import * as R from "../reader.ts"
import { readAgreement, type AgreementView } from "./agreement.ts"
import { pzkMap, type Obj, type PzkDoc } from "./common.ts"
import { readMeeting, type MeetingView } from "./meetings.ts"
import { readLeader, readMemberFields, readRepresentative, type Leader, type Member, type Representative } from "./team.ts"
import {
  readDecision92,
  readMilestone,
  readRecommendation,
  readService,
  type MilestoneView,
  type RecommendationView,
  type ServiceEntryView,
  type TeamDecisionView,
} from "./work.ts"

export interface MemberView extends Member {
  representatives: Record<string, Representative>
}

/** A consultation held in the team, named only by its pseudonymous case reference. */
export interface PzkConsultationRef {
  caseRef: string
  meeting: string | null
  to: string | null
}

/** A whole PZK document as plain values. */
export interface PzkView {
  schemaVersion: number
  createdAt: Date
  name: string
  animator: string
  agreement: AgreementView
  leader: Leader | null
  members: Record<string, MemberView>
  workPlan: Record<string, MilestoneView>
  services: Record<string, ServiceEntryView>
  meetings: Record<string, MeetingView>
  consultations: Record<string, PzkConsultationRef>
  decision92: TeamDecisionView | null
  recommendations: Record<string, RecommendationView>
}

function readMember(node: Obj, path: string): MemberView {
  return { ...readMemberFields(node, path), representatives: R.readMap(node, "representatives", path, readRepresentative) }
}

/** Reads a whole PZK document. */
export function readPzk(doc: PzkDoc): PzkView {
  pzkMap(doc, "members")
  const name = R.str(doc, "name", "")
  const meetings: Record<string, MeetingView> = {}
  for (const id of Object.keys(R.map(doc, "meetings", "")).sort(R.compareIds)) meetings[id] = readMeeting(doc, id)
  const view: PzkView = {
    schemaVersion: schemaVersion(doc),
    createdAt: R.timestamp(doc, "createdAt", ""),
    name,
    animator: R.str(doc, "animator", ""),
    agreement: readAgreement(doc),
    leader: readLeader(doc),
    members: R.readMap(doc, "members", "", readMember),
    workPlan: R.readMap(doc, "workPlan", "", readMilestone),
    services: R.readMap(doc, "services", "", readService),
    meetings,
    consultations: R.readMap(doc, "consultations", "", (c, path) => ({
      caseRef: R.str(c, "caseRef", path),
      meeting: R.optStr(c, "meeting", path),
      to: R.optStr(c, "to", path),
    })),
    decision92: readDecision92(doc),
    recommendations: R.readMap(doc, "recommendations", "", readRecommendation),
  }
  for (const meeting of Object.values(view.meetings)) {
    const outsider = Object.keys(meeting.invitations).find(i => view.members[i] === undefined)
    if (outsider !== undefined) throw new ModelError("meeting.invitee-not-member", { institution: outsider })
  }
  return view
}

/** The work plan's milestone ids in the schedule's order: by month, then id. */
export function milestonesByMonth(view: PzkView): string[] {
  const plan = view.workPlan
  return Object.keys(plan).sort((a, b) => plan[a]!.month - plan[b]!.month || R.compareIds(a, b))
}
