//! Running a PZK team from the app (issue #19), in real headless Chromium with profiles kept on
//! disk: the animator creates the team's document ("Nowy zespół"), adds the school and the
//! police with their representatives, names the leader family, writes the seeds' 29-month work
//! plan, adds two services and retires one, signs the agreement (its text is then frozen) and
//! attaches its scan, and adds a legal recommendation; the school's pedagogue sees it all
//! read-only with the reason (`refusal.pzk-part-not-editable`), a ROPS coordinator reads only;
//! the ROPS adviser assigned to the team edits the services list and the animator's open page
//! shows it. Rust then reads the document the server holds.
//!
//! The browsers run `web/e2e/pzk-team.mjs` against the app in `web/dist` (build it first:
//! `npm run build` in web/). Screenshots go to `KOOPERACJA_SCREENS` (default
//! `target/screenshots` of the workspace).

use std::time::Duration;

use kooperacja_server::identity::Role;
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::*;
use serde_json::json;
use sync_core::model::pzk::{self, AgreementStatus, RecommendationCategory};
use sync_core::DocumentId;

/// The seeds' work plan, extended for COVID to 29 months: step, month, what.
const PLAN: [(&str, u8, &str); 6] = [
    ("K5.2", 1, "Porozumienie o współpracy"),
    ("K6.2", 3, "Harmonogram działań"),
    ("K6.3", 6, "Lista aktywności i usług"),
    ("K7.2", 12, "Zgłaszanie rodzin"),
    ("K9.2", 18, "Decyzja o kontynuacji"),
    ("K10.2", 29, "Rekomendacje (przedłużenie COVID)"),
];

/// The ROPS adviser `doradca` (of the ROPS) assigned to pzk1.
fn provision_adviser(server: &RunningServer) {
    let d = &server.state.directory;
    d.add_institution("rops", "ROPS", "social")
        .expect("institution");
    d.add_user("doradca", "doradca", vec![Role::RopsAdviser])
        .expect("user");
    d.set_institution("doradca", "rops").expect("institution");
    d.assign_adviser("pzk1", "doradca").expect("assigned");
    server.state.registry.reload_directory().expect("reload");
}

fn screens() -> String {
    let dir = std::env::var("KOOPERACJA_SCREENS").unwrap_or_else(|_| {
        let dir = workspace_root().join("target").join("screenshots");
        dir.to_string_lossy().into_owned()
    });
    std::fs::create_dir_all(&dir).expect("screens folder");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_animator_runs_the_team_from_the_app_a_member_reads_it_and_the_adviser_edits_services()
{
    require_browser_tools();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    let cert = dir.path().join("tls").join("dev-cert.pem");
    provision_region(&server);
    provision_adviser(&server);

    let spec = json!({
        "profiles": dir.path().join("profiles"),
        "screens": screens(),
        "pin": "246810",
        // animator1 runs two teams: the name tells the server which one this document is.
        "teamName": "PZK Gminy Przykładowo",
        "plan": PLAN,
        "animator": { "code": enrolment_code(&server, "animator1"), "login": "animator1" },
        "member": { "code": enrolment_code(&server, "szkola-rep"), "login": "szkola-rep" },
        "coordinator": { "code": enrolment_code(&server, "koordynator"), "login": "koordynator" },
        "adviser": { "code": enrolment_code(&server, "doradca"), "login": "doradca" },
    });
    let script = BrowserScript {
        script: "pzk-team.mjs",
        env: vec![("PZK_TEAM_SPEC", spec.to_string())],
        deadline: Duration::from_secs(300),
    };
    let result = script.run_alone(&server, &cert).await;
    eprintln!("the PZK team in the app: {result}");

    // On screen: the plan runs 29 months; the signed agreement's text cannot be changed; the
    // member reads with the reason and has no form; the adviser edits without one.
    assert_eq!(result["planMonths"], json!([1, 3, 6, 12, 18, 29]));
    assert!(result["planLength"]
        .as_str()
        .unwrap_or_default()
        .contains("29"));
    assert_eq!(result["agreementStatus"], "podpisane");
    assert_eq!(result["textReadOnly"], true);
    assert_eq!(result["textSaveButtons"], 0);
    assert_eq!(result["partyForms"], 0);
    let reason = result["memberReason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with(
            "Tylko do odczytu: Tę część dokumentu PZK (lista usług) zmienia tylko animator"
        ),
        "{reason}"
    );
    assert_eq!(result["memberServiceForms"], 0);
    assert_eq!(result["memberSignButtons"], 0);
    assert_eq!(result["memberMemberForms"], 0);
    assert_eq!(result["memberAgreement"], "podpisane");
    let coordinator = result["coordinatorReason"].as_str().unwrap_or_default();
    assert!(
        coordinator.starts_with("Tylko do odczytu: masz wgląd"),
        "{coordinator}"
    );
    assert_eq!(result["coordinatorForms"], 0);
    assert_eq!(result["adviserReason"], 0);
    assert_eq!(result["problems"], json!([]));

    // On the server: the document is pzk1's, and reads as the story wrote it.
    let team: DocumentId = result["team"]
        .as_str()
        .expect("the team's id")
        .parse()
        .expect("a document id");
    let record = server
        .state
        .registry
        .record(&team)
        .expect("the team's record");
    assert_eq!(record.team.as_deref(), Some("pzk1"));
    let check = tablet(&server, "animator1", "animator-check");
    check.find(team).expect("find");
    check
        .wait_until("the team's document arrives", WAIT, || async {
            Ok(!check.heads(team).await?.unwrap_or_default().is_empty())
        })
        .await
        .expect("arrives");
    let view = check
        .read(team, |doc| {
            pzk::read_pzk(doc.expect("held")).expect("a PZK document")
        })
        .await
        .expect("read");
    assert_eq!(view.animator, "animator1");
    let reps = |i: &str| {
        view.members[i]
            .representatives
            .values()
            .map(|r| r.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(reps("szkola"), ["Ewa Nowak"]);
    assert_eq!(reps("policja"), ["Jan Kowal"]);
    assert_eq!(
        view.leader.as_ref().map(|l| l.label.as_str()),
        Some("Rodzina liderska z Przykładowa")
    );
    let months: Vec<u8> = view.work_plan.values().map(|m| m.milestone.month).collect();
    assert_eq!(months.iter().max(), Some(&29));
    assert_eq!(months.len(), PLAN.len());
    let first = view.work_plan.values().find(|m| m.milestone.month == 1);
    assert_eq!(
        first.map(|m| m.status.value),
        Some(pzk::MilestoneStatus::Done)
    );
    let services: Vec<(String, bool, bool)> = view
        .services
        .values()
        .map(|s| {
            (
                s.entry.description.clone(),
                s.entry.remote_capable,
                s.retired,
            )
        })
        .collect();
    assert!(
        services.contains(&("Korepetycje z matematyki".into(), true, false)),
        "{services:?}"
    );
    assert!(
        services.contains(&("Świetlica popołudniowa".into(), false, true)),
        "{services:?}"
    );
    assert_eq!(view.agreement.status.value, AgreementStatus::Signed);
    let signed = view.agreement.signed.as_ref().expect("signed");
    assert_eq!(signed.text, view.agreement.text);
    assert_eq!(signed.by, "animator1");
    let scan = view.agreement.scan.as_ref().expect("the scan");
    assert_eq!(scan.mime, "application/pdf");
    let recommendation = view
        .recommendations
        .values()
        .next()
        .expect("a recommendation");
    assert_eq!(recommendation.category, Some(RecommendationCategory::Legal));
    assert!(recommendation.decision_9_2);
}
