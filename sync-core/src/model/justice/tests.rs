use super::*;
use crate::error::RuleViolation;
use crate::model::case::{justice_document, link_justice_document};
use crate::model::testing::{actor, at, day, editor, fork_as, merged, new_case};
use crate::model::{validate, DocumentKind, Editor};

fn police() -> Editor {
    Editor::new("dzielnicowy", "kpp").expect("editor")
}

fn blue_card(content: &str) -> JusticeEntry {
    JusticeEntry {
        procedure: JusticeProcedure::BlueCard,
        number: "NK-12/2026".to_owned(),
        informed_by: "kpp".to_owned(),
        date: day(3, 2),
        content: content.to_owned(),
    }
}

#[test]
fn entries_written_on_two_devices_merge_and_read_with_their_authors() {
    let doc = new_justice("CaseId1", actor("anna"), &editor("anna"), at(9)).expect("new");
    let (mut anna, mut officer) = (fork_as(&doc, "anna-2"), fork_as(&doc, "police"));
    add_justice_entry(
        &mut anna,
        "j1",
        &blue_card("Interwencja."),
        &editor("anna"),
        at(10),
    )
    .expect("written");
    let court = JusticeEntry {
        procedure: JusticeProcedure::FamilyCourt,
        number: String::new(),
        ..blue_card("Wgląd w sytuację rodziny.")
    };
    add_justice_entry(&mut officer, "j2", &court, &police(), at(11)).expect("written");
    let both = merged(&anna, &officer);
    assert_eq!(validate(&both).expect("valid"), DocumentKind::Justice);
    let view = read_justice(&both).expect("reads");
    assert_eq!(view.case, "CaseId1");
    assert_eq!(view.entries.len(), 2);
    assert_eq!(view.entries["j1"].entry, blue_card("Interwencja."));
    assert_eq!(view.entries["j1"].author, "anna");
    assert_eq!(view.entries["j2"].institution, "kpp");
    assert_eq!(
        view.entries["j2"].entry.procedure,
        JusticeProcedure::FamilyCourt
    );
}

#[test]
fn incomplete_and_repeated_entries_are_refused() {
    let mut doc = new_justice("CaseId1", actor("anna"), &editor("anna"), at(9)).expect("new");
    let empty = blue_card("  ");
    assert_eq!(
        add_justice_entry(&mut doc, "j1", &empty, &editor("anna"), at(10)),
        Err(SchemaError::Rule(RuleViolation::JusticeIncomplete(
            "content"
        )))
    );
    let nobody = JusticeEntry {
        informed_by: String::new(),
        ..blue_card("x")
    };
    assert_eq!(
        add_justice_entry(&mut doc, "j1", &nobody, &editor("anna"), at(10)),
        Err(SchemaError::Rule(RuleViolation::JusticeIncomplete(
            "informedBy"
        )))
    );
    add_justice_entry(&mut doc, "j1", &blue_card("a"), &editor("anna"), at(10)).expect("once");
    let again = add_justice_entry(&mut doc, "j1", &blue_card("b"), &editor("anna"), at(11));
    assert!(
        matches!(
            again,
            Err(SchemaError::Rule(RuleViolation::EntryExists { .. }))
        ),
        "{again:?}"
    );
    assert!(new_justice("a/b", actor("anna"), &editor("anna"), at(9)).is_err());
}

#[test]
fn the_case_holds_only_the_link_written_once() {
    let mut case = new_case();
    assert_eq!(justice_document(&case).expect("reads"), None);
    link_justice_document(&mut case, "JusticeId1", &editor("anna"), at(10)).expect("linked");
    assert_eq!(
        justice_document(&case).expect("reads").as_deref(),
        Some("JusticeId1")
    );
    let again = link_justice_document(&mut case, "JusticeId2", &editor("anna"), at(11));
    assert!(again.is_err(), "{again:?}");
    assert_eq!(validate(&case).expect("valid"), DocumentKind::Case);
    // A justice document is not a case, and a case is not a justice document.
    assert!(read_justice(&case).is_err());
    let justice = new_justice("CaseId1", actor("anna"), &editor("anna"), at(9)).expect("new");
    assert!(crate::model::case::read_case(&justice).is_err());
}
