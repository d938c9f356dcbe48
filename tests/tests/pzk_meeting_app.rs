//! A PZK meeting run from the case app, in real headless Chromium with profiles kept on disk: the
//! team's animator schedules a meeting in "Zespoły PZK" → the team → "Spotkania" (a plain
//! `http://` link refused first, in Polish), the school's and the police's representatives (two
//! more browsers, of other institutions) find it in "Nowe" and in the team's list, see each
//! other connected, mark how they take part and type the minutes together; they are shown why
//! they may not approve; the animator records a decision and approves; the members see the
//! meeting frozen and "minutes approved" in "Nowe"; the print view holds the attendance list by
//! institution with a signature column and the minutes, and under `@media print` nothing else.
//!
//! The browsers run `web/e2e/pzk-meeting.mjs` against the app in `web/dist` (build it first:
//! `npm run build` in web/). Screenshots (and the printed PDF) go to `KOOPERACJA_SCREENS`
//! (default `/tmp/screens`).

use std::time::Duration;

use kooperacja_test_support::*;
use serde_json::{json, Value as Json};
use sync_core::model::pzk::{self, Attendance, MeetingMode};

fn text(value: &Json) -> &str {
    value.as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_animator_runs_a_meeting_with_two_members_approves_and_prints_the_minutes() {
    require_browser_tools();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    let cert = dir.path().join("tls").join("dev-cert.pem");
    provision_region(&server);
    let (_team_tablet, pzk_id) = create_as(&server, "animator1", meeting_team_document()).await;
    let minutes = json!({
        "animator": "Omówiono sytuację dwóch rodzin z osiedla Słonecznego. ",
        "school": "Szkoła zgłasza poprawę frekwencji Oli od listopada. ",
        "police": "Dzielnicowy odwiedzi rodzinę K. przed świętami.",
    });
    let spec = json!({
        "profiles": dir.path().join("profiles"),
        "screens": screens_dir(),
        "pin": "246810",
        "pzk": pzk_id.to_string(),
        "animator": { "code": enrolment_code(&server, "animator1"), "login": "animator1" },
        "school": { "code": enrolment_code(&server, "szkola-rep"), "login": "szkola-rep" },
        "police": { "code": enrolment_code(&server, "policja-rep"), "login": "policja-rep" },
        "date": "2026-12-10T10:00",
        "link": "https://meet.example.pl/pzk-przykladowo-grudzien",
        "agenda": ["Sytuacja rodzin w programie", "Harmonogram na styczeń"],
        "minutes": minutes,
        "decision": "Kolejne spotkanie w styczniu, w szkole.",
    });
    let script = BrowserScript {
        script: "pzk-meeting.mjs",
        env: vec![("MEETING_SPEC", spec.to_string())],
        deadline: Duration::from_secs(300),
    };
    let result = script.run_alone(&server, &cert).await;
    eprintln!("pzk meeting: {result}");
    let meeting = text(&result["meeting"]).to_owned();

    // Scheduling: the team page's first tab is "Spotkania"; a link that is not https:// is
    // refused in the catalogue's words; every member institution may be invited.
    assert_eq!(result["teamTabs"][0], "Spotkania");
    assert!(
        text(&result["linkRefusal"]).contains("https://"),
        "{result}"
    );
    assert_eq!(result["invitable"], json!(["gops", "policja", "szkola"]));
    assert_eq!(result["agenda"], spec["agenda"]);
    assert!(text(&result["when"]).contains("hybrydowe"), "{result}");
    // The members: invited, told in "Nowe", may not schedule, may not mark someone else.
    let scheduled = json!(format!("meeting:{pzk_id}:{meeting}"));
    assert!(result["schoolNewsBefore"]
        .as_array()
        .expect("keys")
        .contains(&scheduled));
    assert_eq!(result["policeMaySchedule"], false);
    assert_eq!(result["schoolMayMarkPolice"], false);
    assert_eq!(result["unmarked"], json!(["", "—"]), "not marked yet");
    let mut present: Vec<&str> = result["presence"]
        .as_array()
        .expect("logins")
        .iter()
        .map(text)
        .collect();
    present.sort_unstable();
    assert_eq!(present, ["animator1", "policja-rep", "szkola-rep"]);
    // Approval: the member is told why not, from the catalogue; after it, frozen for both.
    assert_eq!(result["schoolApproveDisabled"], true);
    assert!(text(&result["schoolApproveWhy"]).contains("tylko animator zespołu"));
    for who in ["schoolFrozen", "policeFrozen"] {
        let frozen = &result[who];
        assert_eq!(frozen["minutesReadOnly"], true, "{who}: {frozen}");
        assert_eq!(frozen["selectsEnabled"], 0, "{who}: {frozen}");
        assert_eq!(frozen["decisionForm"], false, "{who}: {frozen}");
        assert!(text(&frozen["approved"]).contains("animator1"), "{who}");
        assert_eq!(frozen["decisions"], json!([spec["decision"]]), "{who}");
    }
    // The police's representative opened the meeting from the team's list (that cleared its
    // invitation); the approval is new for him until he opens it from "Nowe".
    let approved = json!(format!("minutes:{pzk_id}:{meeting}"));
    assert_eq!(result["policeNews"], json!([approved]), "{result}");
    assert_eq!(result["policeNewsAfter"], json!([]), "{result}");
    // The print view: team, date, mode, agenda, attendance by institution with a signature
    // column, the minutes, the decision, who approved.
    let print = &result["print"];
    assert_eq!(print["team"], "PZK Gminy Przykładowo");
    assert_eq!(print["mode"], "hybrydowe");
    assert!(text(&print["date"]).contains("10.12.2026"), "{print}");
    assert_eq!(print["agenda"], spec["agenda"]);
    assert_eq!(
        print["columns"],
        json!([
            "Instytucja",
            "Imię i nazwisko",
            "Funkcja",
            "Udział",
            "Podpis"
        ])
    );
    let row = |person: &str| {
        print["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["person"] == person)
            .cloned()
            .unwrap_or_else(|| panic!("{person} is on the attendance list: {print}"))
    };
    for (person, institution, name, how) in [
        ("szkola-rep", "szkola", "Ewa Nowicka", "wideo"),
        ("policja-rep", "policja", "Jan Kowal", "telefonicznie"),
        ("animator1", "gops", "Anna Animatorska", "osobiście"),
    ] {
        let r = row(person);
        assert_eq!(r["institution"], institution, "{r}");
        assert_eq!(r["signature"], true, "{r}");
        let cells: Vec<&str> = r["cells"]
            .as_array()
            .expect("cells")
            .iter()
            .map(text)
            .collect();
        assert!(cells.contains(&name) && cells.contains(&how), "{r}");
    }
    let school_row = row("szkola-rep");
    assert_eq!(school_row["cells"][0], "Szkoła Podstawowa nr 1");
    for words in minutes.as_object().expect("minutes").values() {
        assert!(
            text(&print["minutes"]).contains(text(words).trim()),
            "{print}"
        );
    }
    assert!(text(&print["decisions"]).contains("w styczniu"));
    assert!(text(&print["approval"]).contains("animator1"));
    // The print stylesheet applies: only the sheet, its table ruled.
    let media = &result["printMedia"];
    assert_eq!(media["matches"], true, "{media}");
    for hidden in ["header", "nav", "tabs", "printButton"] {
        assert_eq!(media[hidden], false, "{hidden}: {media}");
    }
    assert_eq!(media["sheet"], true, "{media}");
    assert_eq!(media["table"], true, "{media}");
    assert_eq!(media["cellBorder"], "solid", "{media}");
    assert_eq!(result["problems"], json!([]));

    // On the server: the meeting as the three wrote it, approved by the animator and recorded
    // as approved (the server checked who approved).
    let check = tablet(&server, "szkola-rep", "szkola-check");
    check.find(pzk_id).expect("find");
    let id = meeting.clone();
    let approved_here = meeting.clone();
    check
        .wait_until("the approved meeting reaches a reader", WAIT, || {
            let id = id.clone();
            let check = &check;
            async move {
                check
                    .read(pzk_id, move |doc| {
                        doc.and_then(|d| pzk::read_pzk(d).ok()).is_some_and(|v| {
                            v.meetings
                                .get(&id)
                                .is_some_and(|m| m.minutes_approved.is_some())
                        })
                    })
                    .await
            }
        })
        .await
        .expect("arrives");
    let view = check
        .read(pzk_id, move |doc| {
            pzk::read_pzk(doc.expect("held"))
                .expect("a PZK document")
                .meetings[&meeting]
                .clone()
        })
        .await
        .expect("read");
    assert_eq!(view.plan.mode, MeetingMode::Mixed);
    assert_eq!(view.plan.link.as_deref(), Some(text(&spec["link"])));
    let invited: Vec<&str> = view.invitations.keys().map(String::as_str).collect();
    assert_eq!(invited, ["gops", "policja", "szkola"]);
    let attendance: Vec<(&str, Attendance)> = view
        .attendance
        .iter()
        .map(|(person, how)| (person.as_str(), how.value))
        .collect();
    assert_eq!(
        attendance,
        [
            ("animator1", Attendance::InPerson),
            ("policja-rep", Attendance::Phone),
            ("szkola-rep", Attendance::Video),
        ]
    );
    for words in minutes.as_object().expect("minutes").values() {
        assert!(
            view.minutes.contains(text(words).trim()),
            "{}",
            view.minutes
        );
    }
    assert_eq!(
        view.minutes_approved.as_ref().map(|s| s.by.as_str()),
        Some("animator1")
    );
    let record = server.state.registry.record(&pzk_id).expect("record");
    assert!(record.approved_meetings.contains(&approved_here));
    server.shutdown().await.expect("shutdown");
}
