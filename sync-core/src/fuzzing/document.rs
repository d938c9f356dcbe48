//! The `document_load` target: loading, validating and reading documents.
//!
//! An input that starts with Automerge's magic bytes is loaded as a stored document. Any other
//! input is a script of raw Automerge edits (below the typed API, so anything a hostile peer
//! could write) applied to a base document: empty, a case, a case with a goal, or a PZK. Both
//! end in [`check_document`].

use std::sync::OnceLock;

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ObjId, ObjType, ReadDoc, ScalarValue, ROOT};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::bytes::Bytes;
use crate::engine::load_stored;
use crate::model::case::{self, CaseInit, DiagnosisSector, GoalPlan, Referral};
use crate::model::pzk::{self, PzkInit};
use crate::model::{self, history, DocumentKind, Editor};
use crate::storage::{ChunkKey, StoredDocument};

/// The first bytes of every Automerge chunk.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// Keys and values the model reads, so that scripts reach past the first checks.
const WORDS: &[&str] = &[
    "type",
    "schemaVersion",
    "createdAt",
    "case",
    "pzk",
    "stage",
    "status",
    "goals",
    "services",
    "diagnosis",
    "household",
    "referral",
    "contract",
    "signatures",
    "monitoring",
    "consents",
    "consultations",
    "evaluation",
    "pzkDecision",
    "handover",
    "owner",
    "leadInstitution",
    "text",
    "specific",
    "measurable",
    "achievable",
    "relevant",
    "deadline",
    "responsible",
    "members",
    "meetings",
    "agreement",
    "workPlan",
    "decisions",
    "recommendations",
    "attendance",
    "minutes",
    "agenda",
    "representatives",
    "answers",
    "at",
    "by",
    "institution",
    "target",
    "heads",
    "signer",
    "screening",
    "referral",
    "diagnosis",
    "contract",
    "ipp",
    "monitoring",
    "closed",
    "handed_over",
    "in_progress",
    "achieved",
    "dropped",
    "planned",
    "active",
    "signed",
    "draft",
    "given",
    "withdrawn",
    "housing",
    "health",
    "education",
    "g1",
    "svc-day-centre",
    "sp-1",
    "gops",
    "anna",
    "2021-06-25",
    "member",
    "leader",
    "remote",
    "video",
];

/// A fixed time (1 March 2021, 09:00 UTC).
fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2021, 3, 1, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

fn editor() -> Option<Editor> {
    Editor::new("anna", "gops").ok()
}

fn new_case() -> Option<Automerge> {
    let init = CaseInit {
        actor: ActorId::from(b"anna-tablet".as_slice()),
        owner: "anna".into(),
        lead_institution: "gops".into(),
        referral: Referral {
            by: "pedagog".into(),
            institution: "sp-1".into(),
            reason: "Frequent absences at school.".into(),
            at: at(),
        },
        household: Default::default(),
    };
    case::new_case(&init, &editor()?, at()).ok()
}

fn case_with_goal() -> Option<Automerge> {
    let mut doc = new_case()?;
    let by = editor()?;
    case::set_diagnosis_section(&mut doc, DiagnosisSector::Housing, "Two rooms.", &by, at())
        .ok()?;
    let plan = GoalPlan {
        specific: "Regular school attendance".into(),
        measurable: "Absences under 10%".into(),
        achievable: "With help of the day centre".into(),
        relevant: "The child wants to pass the year".into(),
        deadline: NaiveDate::from_ymd_opt(2021, 6, 25)?,
        responsible: "sp-1".into(),
        services: ["svc-day-centre".to_owned()].into(),
    };
    case::upsert_goal(&mut doc, "g1", &plan, &by, at()).ok()?;
    Some(doc)
}

fn new_pzk() -> Option<Automerge> {
    let init = PzkInit {
        actor: ActorId::from(b"ewa-laptop".as_slice()),
        name: "PZK Gminy Przykładowo".into(),
        animator: "ewa".into(),
        agreement_text: "Porozumienie o współpracy.".into(),
    };
    pzk::new_pzk(&init, at()).ok()
}

/// Real documents made with the model, saved: seeds for the corpus (name, bytes).
pub fn seed_documents() -> Vec<(&'static str, Vec<u8>)> {
    [
        ("case", new_case()),
        ("case-with-goal", case_with_goal()),
        ("pzk", new_pzk()),
    ]
    .into_iter()
    .filter_map(|(name, doc)| Some((name, doc?.save())))
    .collect()
}

/// Loads (magic bytes first) or builds (a script otherwise) a document, then checks it.
pub fn document_load(data: &[u8]) {
    if data.starts_with(&MAGIC) {
        let stored = StoredDocument {
            chunks: vec![(ChunkKey::incremental(data), data.to_vec())],
        };
        if let Ok(doc) = load_stored(&stored) {
            check_document(&doc);
        }
        return;
    }
    // The base documents are made once per process: making them is most of a run's time.
    static BASES: OnceLock<Vec<Automerge>> = OnceLock::new();
    let bases = BASES.get_or_init(|| {
        [
            Some(Automerge::new()),
            new_case(),
            case_with_goal(),
            new_pzk(),
        ]
        .into_iter()
        .map(|doc| doc.unwrap_or_else(|| panic!("a seed document could not be made")))
        .collect()
    });
    let mut input = Bytes::new(data);
    let base = bases[usize::from(input.byte()) % bases.len()].clone();
    let doc = Script::new(base).run(&mut input);
    check_document(&doc);
}

/// A raw editing session: a cursor object, and an optional fork edited concurrently.
struct Script {
    main: Automerge,
    fork: Option<Automerge>,
    cursor: ObjId,
}

impl Script {
    fn new(main: Automerge) -> Self {
        Self {
            main,
            fork: None,
            cursor: ROOT,
        }
    }

    fn run(mut self, input: &mut Bytes<'_>) -> Automerge {
        let mut steps = 0;
        while !input.is_empty() && steps < 64 {
            steps += 1;
            self.step(input);
        }
        if let Some(mut fork) = self.fork.take() {
            // Forks of one document always merge.
            if let Err(e) = self.main.merge(&mut fork) {
                panic!("merging a fork failed: {e}");
            }
        }
        self.main
    }

    fn doc(&mut self) -> &mut Automerge {
        self.fork.as_mut().unwrap_or(&mut self.main)
    }

    fn step(&mut self, input: &mut Bytes<'_>) {
        let op = input.byte() % 10;
        let cursor = self.cursor.clone();
        // An edit that does not apply (wrong object type, index out of range) is skipped.
        match op {
            0 => self.cursor = ROOT,
            1 => {
                let prop = prop(input);
                let found = match prop {
                    Prop::Key(k) => self.doc().get(&cursor, k),
                    Prop::Index(i) => {
                        let len = self.doc().length(&cursor);
                        self.doc().get(&cursor, i % len.max(1))
                    }
                };
                if let Ok(Some((automerge::Value::Object(_), id))) = found {
                    self.cursor = id;
                }
            }
            2 => {
                let value = scalar(input);
                let prop = prop(input);
                self.edit(|tx| match prop {
                    Prop::Key(k) => tx.put(&cursor, k, value).is_ok(),
                    Prop::Index(i) => {
                        let len = tx.length(&cursor);
                        i < len && tx.put(&cursor, i, value).is_ok()
                    }
                });
            }
            3 => {
                let kind = match input.byte() % 3 {
                    0 => ObjType::Map,
                    1 => ObjType::List,
                    _ => ObjType::Text,
                };
                let prop = prop(input);
                let made = self.edit_returning(|tx| match prop {
                    Prop::Key(k) => tx.put_object(&cursor, k, kind).ok(),
                    Prop::Index(i) => {
                        let len = tx.length(&cursor);
                        tx.insert_object(&cursor, i.min(len), kind).ok()
                    }
                });
                if let Some(id) = made {
                    if input.byte() % 2 == 0 {
                        self.cursor = id;
                    }
                }
            }
            4 => {
                let prop = prop(input);
                self.edit(|tx| match prop {
                    Prop::Key(k) => tx.delete(&cursor, k).is_ok(),
                    Prop::Index(i) => {
                        let len = tx.length(&cursor);
                        i < len && tx.delete(&cursor, i).is_ok()
                    }
                });
            }
            5 => {
                let value = scalar(input);
                let index = usize::from(input.byte());
                self.edit(|tx| {
                    let len = tx.length(&cursor);
                    tx.insert(&cursor, index.min(len), value).is_ok()
                });
            }
            6 => {
                let pos = usize::from(input.byte());
                let del = isize::from(input.byte() % 8);
                let text = word(input);
                self.edit(|tx| {
                    let len = tx.length(&cursor);
                    tx.splice_text(&cursor, pos.min(len), del, &text).is_ok()
                });
            }
            7 => match self.fork.take() {
                None => {
                    let actor = ActorId::from([b'f', input.byte()].as_slice());
                    self.fork = Some(self.main.fork().with_actor(actor));
                }
                Some(mut fork) => {
                    if let Err(e) = self.main.merge(&mut fork) {
                        panic!("merging a fork failed: {e}");
                    }
                }
            },
            8 => {
                let by = i64::from(input.byte()) - 128;
                let key = word(input);
                self.edit(|tx| tx.increment(&cursor, key.as_str(), by).is_ok());
            }
            _ => {
                // A whole case-like subtree written at once: a map with a stage-like scalar.
                let key = word(input);
                let value = word(input);
                self.edit(|tx| {
                    let Ok(map) = tx.put_object(&cursor, key.as_str(), ObjType::Map) else {
                        return false;
                    };
                    tx.put(&map, "status", value.as_str()).is_ok()
                        && tx.put(&map, "at", ScalarValue::Timestamp(0)).is_ok()
                });
            }
        }
    }

    /// One change, committed when `f` says it applied, rolled back otherwise.
    fn edit(&mut self, f: impl FnOnce(&mut automerge::transaction::Transaction<'_>) -> bool) {
        self.edit_returning(|tx| f(tx).then_some(()));
    }

    fn edit_returning<T>(
        &mut self,
        f: impl FnOnce(&mut automerge::transaction::Transaction<'_>) -> Option<T>,
    ) -> Option<T> {
        let mut tx = self.doc().transaction();
        let out = f(&mut tx);
        if out.is_some() {
            tx.commit();
        } else {
            tx.rollback();
        }
        out
    }
}

enum Prop {
    Key(String),
    Index(usize),
}

fn prop(input: &mut Bytes<'_>) -> Prop {
    let b = input.byte();
    if b >= 0xf0 {
        Prop::Index(usize::from(b - 0xf0))
    } else {
        Prop::Key(word_from(b, input))
    }
}

fn word(input: &mut Bytes<'_>) -> String {
    let b = input.byte();
    word_from(b, input)
}

/// A word of the model's vocabulary, or a short string from the input.
fn word_from(b: u8, input: &mut Bytes<'_>) -> String {
    match WORDS.get(usize::from(b)) {
        Some(w) => (*w).to_owned(),
        None => {
            let len = usize::from(b % 8);
            String::from_utf8_lossy(input.take(len)).into_owned()
        }
    }
}

fn scalar(input: &mut Bytes<'_>) -> ScalarValue {
    match input.byte() % 10 {
        0 | 1 => ScalarValue::Str(word(input).into()),
        2 => ScalarValue::Int(input.u64() as i64),
        3 => ScalarValue::Uint(u64::from(input.byte())),
        4 => ScalarValue::F64(f64::from_bits(input.u64())),
        5 => ScalarValue::Timestamp(input.u64() as i64),
        6 => ScalarValue::Boolean(input.byte() % 2 == 0),
        7 => ScalarValue::Null,
        8 => ScalarValue::Bytes(input.take(4).to_vec()),
        _ => ScalarValue::counter(i64::from(input.byte())),
    }
}

/// Every reader and the validator return rather than panic; a document that validates reads
/// as its kind; saving and loading it again keeps its heads and its verdict.
fn check_document(doc: &Automerge) {
    let verdict = model::validate(doc);
    match verdict {
        Ok(DocumentKind::Case) => {
            if let Err(e) = case::read_case(doc) {
                panic!("a valid case does not read: {e}");
            }
        }
        Ok(DocumentKind::Pzk) => {
            if let Err(e) = pzk::read_pzk(doc) {
                panic!("a valid PZK document does not read: {e}");
            }
        }
        Ok(DocumentKind::Referral) => {
            if let Err(e) = model::referral::read_referral(doc) {
                panic!("a valid referral does not read: {e}");
            }
        }
        Ok(DocumentKind::Seen) => {
            if let Err(e) = model::seen::read_seen(doc) {
                panic!("a valid seen document does not read: {e}");
            }
        }
        Ok(DocumentKind::Justice) => {
            if let Err(e) = model::justice::read_justice(doc) {
                panic!("a valid justice document does not read: {e}");
            }
        }
        Err(_) => {}
    }
    let _ = model::kind_of(doc);
    let _ = model::schema_version(doc);
    if let Ok(view) = case::read_case(doc) {
        let _ = view.conflicts();
        let _ = view.consent_in_force("gops", "evaluation");
    }
    if let Ok(view) = pzk::read_pzk(doc) {
        let _ = view.conflicts();
    }
    let _ = case::stage(doc);
    let _ = case::goal_status(doc, "g1");
    let _ = case::contract_changed_since_signed(doc);
    let _ = pzk::agreement_status(doc);
    let heads = doc.get_heads();
    let _ = history::case_at(doc, &heads);
    let _ = history::changes_between(doc, &[], &heads);

    let saved = doc.save();
    let again = match Automerge::load(&saved) {
        Ok(again) => again,
        Err(e) => panic!("a saved document does not load: {e}"),
    };
    assert_eq!(
        again.get_heads(),
        heads,
        "saving and loading changed the heads"
    );
    let verdict_again = model::validate(&again);
    assert_eq!(
        verdict_again.as_ref().ok(),
        verdict.as_ref().ok(),
        "saving and loading changed the verdict: {verdict:?} then {verdict_again:?}"
    );
}
