//! A social worker's caseload of realistic size: families with a household of two to four,
//! a referral, the screening, three diagnosis sectors of several paragraphs, two SMART goals,
//! a signed contract and monitoring notes, each step one change by Anna of the GOPS, spread
//! over the stages a real caseload holds. Optionally each case carries attachment entries
//! (their metadata only: the bytes stay on the server until asked for).

use std::collections::BTreeMap;

use automerge::{ActorId, Automerge};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use sync_core::model::case::{
    self, Attachment, AttachmentKind, CaseInit, ContactMode, DiagnosisSector, GoalPlan,
    HouseholdMember, MonitoringNote, Referral, ScreeningOutcome, Signature, SigningMode, Stage,
};
use sync_core::model::{workflow, Editor};

const SURNAMES: &[&str] = &[
    "Nowak",
    "Kowalska",
    "Wiśniewska",
    "Wójcik",
    "Kowalczyk",
    "Kamińska",
    "Lewandowska",
    "Zielińska",
    "Szymańska",
    "Woźniak",
    "Dąbrowska",
    "Kozłowska",
    "Jankowska",
    "Mazur",
    "Kwiatkowska",
    "Krawczyk",
    "Piotrowska",
    "Grabowska",
    "Nowakowska",
    "Pawłowska",
];
const FIRST: &[&str] = &[
    "Maria",
    "Anna",
    "Katarzyna",
    "Agnieszka",
    "Monika",
    "Ewa",
    "Joanna",
    "Beata",
    "Marta",
    "Renata",
];
const CHILDREN: &[&str] = &[
    "Kuba", "Ola", "Szymon", "Zuzia", "Antek", "Lena", "Filip", "Hania",
];

/// A paragraph of a worker's prose, about `bytes` long, varied by `seed`.
pub fn prose(seed: usize, bytes: usize) -> String {
    const SENTENCES: &[&str] = &[
        "Rodzina mieszka w dwupokojowym mieszkaniu komunalnym, zaległości czynszowe za pięć miesięcy.",
        "Matka pracuje dorywczo przy sprzątaniu, dochód nieregularny, korzysta z zasiłku okresowego.",
        "Syn opuszcza lekcje, szczególnie w poniedziałki; wychowawczyni zgłasza zaległości z matematyki.",
        "Podczas wizyty mieszkanie czyste, ale zimne; piec kaflowy niesprawny od jesieni.",
        "Ojciec dzieci przebywa za granicą, alimenty wpływają nieregularnie, sprawa w komorniku.",
        "Córka pod opieką poradni psychologiczno-pedagogicznej, kolejna wizyta za miesiąc.",
        "Babcia pomaga w opiece po szkole, sama choruje przewlekle i wymaga wsparcia.",
        "Rodzina zgodziła się na udział w zajęciach świetlicy środowiskowej trzy razy w tygodniu.",
        "Dzielnicowy potwierdza brak interwencji domowych w ostatnim półroczu.",
        "Pielęgniarka środowiskowa odwiedza rodzinę co dwa tygodnie, szczepienia uzupełnione.",
        "Ustalono plan spłaty zadłużenia z administracją budynku, pierwsza rata w przyszłym miesiącu.",
        "Matka wyraża gotowość do udziału w kursie zawodowym organizowanym przez powiatowy urząd pracy.",
    ];
    let mut out = String::new();
    let mut k = seed;
    while out.len() < bytes {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(SENTENCES[k % SENTENCES.len()]);
        k = k.wrapping_mul(7).wrapping_add(3);
    }
    out
}

fn anna() -> Editor {
    Editor::new("anna", "gops").expect("a valid editor")
}

fn household(i: usize) -> BTreeMap<String, HouseholdMember> {
    let surname = SURNAMES[i % SURNAMES.len()];
    let mut people = BTreeMap::new();
    people.insert(
        "p1".to_owned(),
        HouseholdMember {
            name: format!("{} {surname}", FIRST[i % FIRST.len()]),
            relation: "osoba zgłoszona".into(),
            birth_date: NaiveDate::from_ymd_opt(1975 + (i % 20) as i32, 1 + (i % 12) as u32, 3),
        },
    );
    for c in 0..(1 + i % 3) {
        let name = CHILDREN[(i + c) % CHILDREN.len()];
        people.insert(
            format!("p{}", c + 2),
            HouseholdMember {
                name: format!("{name} {surname}"),
                relation: "dziecko".into(),
                birth_date: NaiveDate::from_ymd_opt(2008 + ((i + c) % 10) as i32, 5, 14),
            },
        );
    }
    people
}

fn goal(i: usize, n: usize) -> GoalPlan {
    GoalPlan {
        specific: format!("Cel {n}: regularna obecność dziecka w szkole (rodzina nr {i})."),
        measurable: "Frekwencja co najmniej 90% w każdym miesiącu, potwierdzona przez wychowawcę.".into(),
        achievable: "Świetlica po lekcjach trzy razy w tygodniu, korepetycje z matematyki, kontakt matki z pedagogiem.".into(),
        relevant: "Bez poprawy frekwencji dziecko nie uzyska promocji do następnej klasy.".into(),
        deadline: NaiveDate::from_ymd_opt(2026 + (n as i32 % 2), 6, 30).expect("a date"),
        responsible: "szkola".into(),
        services: Default::default(),
    }
}

/// How far along the workflow case `i` is: most in delivery, as in a real caseload.
fn stage_of(i: usize) -> Stage {
    match i % 10 {
        0 => Stage::Referral,
        1 => Stage::Diagnosis,
        2 => Stage::Ipp,
        3 => Stage::Contract,
        _ => Stage::Delivery,
    }
}

/// Attachment entries for a case: a signed contract's scan, a consent form, a photo.
fn attach(doc: &mut Automerge, i: usize, count: usize, at: DateTime<Utc>) {
    let kinds = [
        (AttachmentKind::SignedContract, "application/pdf", 420_000),
        (AttachmentKind::Photo, "image/jpeg", 2_300_000),
        (AttachmentKind::ExternalDocument, "application/pdf", 180_000),
    ];
    for n in 0..count {
        let (kind, mime, size) = kinds[n % kinds.len()];
        let attachment = Attachment {
            sha256: format!("{:064x}", (i as u128) << 32 | n as u128),
            mime: mime.into(),
            size: size + (i * 1000) as u64,
            kind,
            link: None,
            caption: format!("Załącznik {n} do sprawy rodziny nr {i}"),
        };
        case::attach_file(doc, &format!("a{n}"), &attachment, &anna(), at)
            .expect("attachment entry");
    }
}

/// Case number `i` of the caseload, with `attachments` entries. When `long_note` is set, its
/// social sector holds a text of that many characters (the note the typing benchmark types in).
pub fn realistic_case(i: usize, attachments: usize, long_note: Option<usize>) -> Automerge {
    let by = anna();
    let start = Utc
        .with_ymd_and_hms(2026, 1, 5, 8, 0, 0)
        .single()
        .expect("a time")
        + Duration::hours(i as i64 * 7);
    let mut minutes = 0;
    let mut at = || {
        minutes += 37;
        start + Duration::minutes(minutes)
    };
    let init = CaseInit {
        actor: ActorId::random(),
        owner: "anna".into(),
        lead_institution: "gops".into(),
        referral: Referral {
            by: "pedagog szkolny".into(),
            institution: "szkola".into(),
            reason: prose(i, 300),
            at: start,
        },
        household: household(i),
    };
    let mut doc = case::new_case(&init, &by, at()).expect("a new case");
    let target = stage_of(i);
    let go = |doc: &mut Automerge, to: Stage, at: DateTime<Utc>| {
        workflow::transition(doc, to, &by, at).expect("an allowed move");
    };
    if target >= Stage::Screening {
        go(&mut doc, Stage::Screening, at());
    }
    if target >= Stage::Diagnosis {
        let notes = prose(i + 1, 400);
        case::set_screening(&mut doc, ScreeningOutcome::Qualified, &notes, &by, at())
            .expect("screened");
        go(&mut doc, Stage::Diagnosis, at());
    }
    if target >= Stage::Ipp {
        for (n, sector) in [
            DiagnosisSector::Social,
            DiagnosisSector::Education,
            DiagnosisSector::Housing,
        ]
        .into_iter()
        .enumerate()
        {
            let text = prose(i + n, 1200);
            case::set_diagnosis_section(&mut doc, sector, &text, &by, at()).expect("diagnosis");
        }
        go(&mut doc, Stage::Ipp, at());
    }
    if target >= Stage::Contract {
        for n in 0..2 {
            case::upsert_goal(&mut doc, &format!("g{n}"), &goal(i, n), &by, at()).expect("goal");
        }
        go(&mut doc, Stage::Contract, at());
    }
    if target >= Stage::Delivery {
        let text = prose(i + 5, 900);
        case::set_contract_text(&mut doc, &text, &by, at()).expect("contract");
        let signature = Signature {
            signer: "p1".into(),
            mode: SigningMode::InPerson,
            consent_note: String::new(),
        };
        case::sign_contract(&mut doc, &signature, &by, at()).expect("signed");
        go(&mut doc, Stage::Delivery, at());
        for n in 0..(3 + i % 5) {
            let note = MonitoringNote {
                author: "anna".into(),
                institution: "gops".into(),
                mode: [
                    ContactMode::HomeVisit,
                    ContactMode::Phone,
                    ContactMode::Office,
                ][n % 3],
                text: prose(i * 3 + n, 350),
            };
            case::append_monitoring_note(&mut doc, &format!("n{n}"), &note, at()).expect("note");
        }
    }
    if let Some(len) = long_note {
        let mut text = prose(i, 2 * len);
        text.truncate(text.char_indices().nth(len).map_or(text.len(), |(b, _)| b));
        case::set_diagnosis_section(&mut doc, DiagnosisSector::Social, &text, &by, at())
            .expect("the long note");
    }
    attach(&mut doc, i, attachments, at());
    doc
}
