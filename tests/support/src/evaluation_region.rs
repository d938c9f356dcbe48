//! The region the evaluation's tests and its dashboard's browser test start from: the PZK
//! region of [`crate::provision_region`] with its institutions placed in two gminas of one
//! powiat (the GOPS and `pzk1` in [`GMINA_A`], `gops2` and `pzk2` in [`GMINA_B`]), a social
//! worker of `gops2` (`ewa`), and families' cases entered from the social workers' tablets.

use chrono::Utc;
use kooperacja_server::place::Place;
use kooperacja_server::serve::RunningServer;
use sync_core::model::case::{workflow, Stage};
use sync_core::model::Editor;

use crate::{random_id, tablet, wait_acknowledged, CaseFixture};

/// The gmina of the GOPS, the school, the police and `pzk1` (TERYT).
pub const GMINA_A: &str = "1218092";
/// The gmina of `gops2` and `pzk2`.
pub const GMINA_B: &str = "1218011";
/// The powiat of both.
pub const POWIAT: &str = "1218";

/// Places the region's institutions and teams in [`GMINA_A`] and [`GMINA_B`] and adds `ewa`, a
/// social worker of `gops2` (call after [`crate::provision_region`]).
pub fn place_region(server: &RunningServer) {
    let d = &server.state.directory;
    let place = |gmina: &str| Place::new(Some(gmina), None).expect("place");
    for (institution, gmina) in [
        ("gops", GMINA_A),
        ("szkola", GMINA_A),
        ("policja", GMINA_A),
        ("gops2", GMINA_B),
    ] {
        d.place_institution(institution, place(gmina))
            .expect("institution placed");
    }
    d.place_team("pzk1", place(GMINA_A)).expect("pzk1 placed");
    d.place_team("pzk2", place(GMINA_B)).expect("pzk2 placed");
    d.add_user(
        "ewa",
        "Ewa",
        vec![kooperacja_server::identity::Role::SocialWorker],
    )
    .expect("ewa");
    d.set_institution("ewa", "gops2")
        .expect("ewa's institution");
    server.state.registry.reload_directory().expect("reload");
}

/// `owner` (a social worker of `institution`) enters `count` families' cases referred this
/// month from a tablet, the first `screening` of them moved on to their screening; returns once
/// the server holds them all.
pub async fn enter_cases(
    server: &RunningServer,
    owner: &str,
    institution: &str,
    count: usize,
    screening: usize,
) {
    let by = Editor::new(owner, institution).expect("editor");
    let t = tablet(server, owner, &format!("tablet-{owner}-{}", random_id()));
    for i in 0..count {
        let mut doc = CaseFixture::new(owner, institution)
            .because(&format!("Rodzina {i}: zaległości w czynszu."))
            .build();
        if i < screening {
            workflow::transition(&mut doc, Stage::Screening, &by, Utc::now()).expect("screening");
        }
        let id = random_id();
        t.create(id, doc).await.expect("created");
        wait_acknowledged(&t, id).await;
    }
    t.shutdown().await;
}
