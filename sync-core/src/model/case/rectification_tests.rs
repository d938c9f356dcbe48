//! Tests of rectification (GDPR art. 16): the correction applied and recorded in one change,
//! with who, why and the old value; refused without a reason, for unknown fields, for values
//! the field cannot take and when nothing changes; entries kept whole through merges.

use automerge::transaction::Transactable;
use automerge::{ReadDoc, ROOT};

use super::*;
use crate::error::{RuleViolation, SchemaError};
use crate::model::history;
use crate::model::testing::{at, editor, fork_as, merged, new_case};
use crate::model::validate;

fn with_maria() -> automerge::Automerge {
    let mut doc = new_case();
    let maria = HouseholdMember {
        name: "Maria Kowalsak".to_owned(),
        relation: "matka".to_owned(),
        birth_date: None,
    };
    add_household_member(&mut doc, "p1", &maria, &editor("anna"), at(9)).expect("member");
    doc
}

fn correction(field: RectifiedField, new: Option<&str>, reason: &str) -> Rectification {
    Rectification {
        field,
        new: new.map(str::to_owned),
        reason: reason.to_owned(),
    }
}

fn rule(result: Result<(), SchemaError>) -> RuleViolation {
    match result {
        Err(SchemaError::Rule(violation)) => violation,
        other => panic!("expected a rule violation, got {other:?}"),
    }
}

#[test]
fn a_correction_is_applied_and_recorded_with_who_why_and_the_old_value() {
    let mut doc = with_maria();
    let name = RectifiedField::MemberName("p1".to_owned());
    let fix = correction(
        name.clone(),
        Some(" Maria Kowalska "),
        "Literówka w nazwisku",
    );
    rectify(&mut doc, "r1", &fix, &editor("anna"), at(11)).expect("rectified");

    let view = read_case(&doc).expect("case");
    assert_eq!(view.household["p1"].name, "Maria Kowalska");
    let log = read_rectifications(&doc).expect("log");
    let entry = &log["r1"];
    assert_eq!(entry.field, name);
    assert_eq!(entry.old.as_deref(), Some("Maria Kowalsak"));
    assert_eq!(entry.new.as_deref(), Some("Maria Kowalska"));
    assert_eq!(entry.reason, "Literówka w nazwisku");
    assert_eq!(
        (entry.by.as_str(), entry.institution.as_str()),
        ("anna", "gops")
    );
    assert_eq!(entry.at, at(11));
    validate(&doc).expect("valid");

    // One change: the history shows the correction as such, with its author.
    let changes = history::changes_between(&doc, &[], &doc.get_heads()).expect("history");
    let last = changes.last().expect("a change");
    assert_eq!(
        last.summary,
        "rectifications/r1: household/p1/name corrected"
    );
    assert_eq!(last.author.as_deref(), Some("anna"));

    // A date and a phone are kept normalised; a field can be cleared and set from empty.
    let birth = RectifiedField::MemberBirthDate("p1".to_owned());
    let fix = correction(birth, Some("1985-04-02"), "Data z dowodu osobistego");
    rectify(&mut doc, "r2", &fix, &editor("anna"), at(12)).expect("birth date");
    let fix = correction(RectifiedField::Phone, Some("601 234 567"), "Nowy numer");
    rectify(&mut doc, "r3", &fix, &editor("anna"), at(12)).expect("phone");
    let log = read_rectifications(&doc).expect("log");
    assert_eq!(log["r2"].old, None);
    assert_eq!(log["r2"].new.as_deref(), Some("1985-04-02"));
    assert_eq!(log["r3"].new.as_deref(), Some("+48601234567"));
    let fix = correction(RectifiedField::Phone, None, "Numer nieaktualny");
    rectify(&mut doc, "r4", &fix, &editor("anna"), at(13)).expect("cleared");
    assert_eq!(doc.get(ROOT, "householdPhone").expect("get"), None);
    assert_eq!(read_rectifications(&doc).expect("log")["r4"].new, None);
    validate(&doc).expect("valid");
}

#[test]
fn corrections_without_reason_or_change_or_to_unknown_fields_are_refused() {
    let mut doc = with_maria();
    let name = RectifiedField::MemberName("p1".to_owned());
    let anna = editor("anna");
    let refused = rule(rectify(
        &mut doc,
        "r1",
        &correction(name.clone(), Some("Maria"), "  "),
        &anna,
        at(11),
    ));
    assert_eq!(refused.code(), "rectification.reason-required");
    let same = correction(name.clone(), Some("Maria Kowalsak"), "bez zmian");
    assert_eq!(
        rule(rectify(&mut doc, "r1", &same, &anna, at(11))).code(),
        "rectification.no-change"
    );
    let nobody = correction(
        RectifiedField::MemberName("p9".to_owned()),
        Some("X"),
        "powód",
    );
    assert_eq!(
        rule(rectify(&mut doc, "r1", &nobody, &anna, at(11))).code(),
        "rectification.unknown-field"
    );
    let bad_date = correction(
        RectifiedField::MemberBirthDate("p1".to_owned()),
        Some("2.4.1985"),
        "powód",
    );
    assert_eq!(
        rule(rectify(&mut doc, "r1", &bad_date, &anna, at(11))).code(),
        "rectification.value-invalid"
    );
    let empty_name = correction(name.clone(), Some(" "), "powód");
    assert_eq!(
        rule(rectify(&mut doc, "r1", &empty_name, &anna, at(11))).code(),
        "rectification.value-invalid"
    );
    let bad_phone = correction(RectifiedField::Phone, Some("123"), "powód");
    assert_eq!(
        rule(rectify(&mut doc, "r1", &bad_phone, &anna, at(11))).code(),
        "household.phone-invalid"
    );
    assert!(
        read_rectifications(&doc).expect("log").is_empty(),
        "nothing written"
    );

    rectify(
        &mut doc,
        "r1",
        &correction(name.clone(), Some("Maria K."), "powód"),
        &anna,
        at(11),
    )
    .expect("ok");
    let again = correction(name, Some("Maria Kowalska"), "powód");
    assert_eq!(
        rule(rectify(&mut doc, "r1", &again, &anna, at(12))).code(),
        "entry.exists"
    );

    for path in [
        "goals/g1",
        "household/p1",
        "household/p1/name/x",
        "household//name",
        "owner",
    ] {
        assert_eq!(
            RectifiedField::parse(path).map_err(|v| v.code()),
            Err("rectification.unknown-field"),
            "{path}"
        );
    }
    for field in [
        RectifiedField::Address,
        RectifiedField::Phone,
        RectifiedField::MemberRelation("p1".to_owned()),
    ] {
        assert_eq!(RectifiedField::parse(&field.path()), Ok(field));
    }
}

#[test]
fn a_broken_entry_is_refused_by_validation_and_concurrent_corrections_both_stay() {
    let doc = with_maria();
    let mut a = fork_as(&doc, "anna-phone");
    let mut b = fork_as(&doc, "ewa-tablet");
    let fix = correction(
        RectifiedField::Address,
        Some("ul. Lipowa 5"),
        "Adres z wywiadu",
    );
    rectify(&mut a, "ra", &fix, &editor("anna"), at(11)).expect("a");
    let fix = correction(
        RectifiedField::MemberRelation("p1".to_owned()),
        Some("babcia"),
        "Pomyłka",
    );
    rectify(&mut b, "rb", &fix, &editor("ewa"), at(11)).expect("b");
    let both = merged(&a, &b);
    validate(&both).expect("a merge of valid states is valid");
    assert_eq!(read_rectifications(&both).expect("log").len(), 2);

    let mut broken = both.clone();
    let log = broken
        .get(ROOT, "rectifications")
        .expect("get")
        .expect("log")
        .1;
    let entry = broken.get(&log, "ra").expect("get").expect("entry").1;
    let mut tx = broken.transaction();
    tx.put(&entry, "reason", "").expect("put");
    tx.commit();
    assert!(
        matches!(validate(&broken), Err(SchemaError::Field { path, .. }) if path == "rectifications/ra/reason")
    );
}
