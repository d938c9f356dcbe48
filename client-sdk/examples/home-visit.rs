//! A home visit, two tablets: Anna (the family's social worker) and Jan (the school's
//! pedagogue) edit the same case offline — the same diagnosis section and the same goal
//! status — then reconnect. The text merges; the status conflict is shown with who set which
//! value and when, and Anna resolves it.
//!
//! Run it against a server (each tablet is a device of its user; Jan's user gets the case
//! shared with him by Anna's tablet):
//!
//! ```sh
//! D=./kooperacja-data
//! cargo run -p kooperacja-server -- admin --data-dir $D user add --login anna --name "Anna Kowalska" --role social-worker
//! cargo run -p kooperacja-server -- admin --data-dir $D user add --login jan --name "Jan Nowak" --role social-worker
//! cargo run -p kooperacja-server -- admin --data-dir $D device enroll --user anna   # {"token":"kt_…"} = T1
//! cargo run -p kooperacja-server -- admin --data-dir $D device enroll --user jan    # {"token":"kt_…"} = T2
//! cargo run --release -p kooperacja-server -- serve --dev-tls --data-dir $D          # prints the fingerprint
//! cargo run -p client-sdk --example home-visit -- \
//!     --server wss://127.0.0.1:8443/sync --fingerprint HEX --token-a T1 --token-b T2
//! ```
//!
//! Options: `--user-a anna --user-b jan` (the logins the tokens belong to; give the same login
//! twice for two tablets of one worker), `--institution-a`, `--institution-b`, and
//! `--data-dir DIR` (default: a new directory under the system's temp directory). The tablets'
//! store keys are derived from fixed words here; a real app takes them from the platform's key
//! store.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use chrono::Utc;
use client_sdk::{
    FieldConflict, ServerAddress, SyncState, Tablet, TabletConfig, TabletKey, TextField, Trust,
};
use sha2::{Digest, Sha256};
use sync_core::model::case::{DiagnosisSector, GoalPlan, GoalStatus, HouseholdMember, Referral};
use sync_core::{DocumentId, PeerId};

/// How long any one wait may take.
const WAIT: Duration = Duration::from_secs(60);

/// What the example was told.
#[derive(Clone, Debug)]
pub struct Args {
    /// The server's sync URL.
    pub server: String,
    /// How to trust its certificate.
    pub trust: Trust,
    /// Tablet A's device token, and its user's login and institution.
    pub token_a: String,
    /// Tablet A's user.
    pub user_a: String,
    /// Tablet A's user's institution.
    pub institution_a: String,
    /// Tablet B's device token.
    pub token_b: String,
    /// Tablet B's user.
    pub user_b: String,
    /// Tablet B's user's institution.
    pub institution_b: String,
    /// Where the tablets keep their stores.
    pub data_dir: PathBuf,
}

impl Args {
    /// Reads the command line (without the program name).
    pub fn parse(mut words: impl Iterator<Item = String>) -> anyhow::Result<Self> {
        let mut args = Args {
            server: String::new(),
            trust: Trust::None,
            token_a: String::new(),
            user_a: "anna".into(),
            institution_a: "gops-przykladowo".into(),
            token_b: String::new(),
            user_b: "jan".into(),
            institution_b: "sp-1".into(),
            data_dir: std::env::temp_dir()
                .join(format!("kooperacja-home-visit-{}", std::process::id())),
        };
        while let Some(flag) = words.next() {
            let mut value = || words.next().ok_or_else(|| anyhow!("{flag} needs a value"));
            match flag.as_str() {
                "--server" => args.server = value()?,
                "--fingerprint" => args.trust = Trust::Pinned(value()?),
                "--token-a" => args.token_a = value()?,
                "--token-b" => args.token_b = value()?,
                "--user-a" => args.user_a = value()?,
                "--user-b" => args.user_b = value()?,
                "--institution-a" => args.institution_a = value()?,
                "--institution-b" => args.institution_b = value()?,
                "--data-dir" => args.data_dir = value()?.into(),
                other => bail!("unknown option {other} (see the example's header)"),
            }
        }
        if args.server.is_empty() || args.token_a.is_empty() || args.token_b.is_empty() {
            bail!("--server, --token-a and --token-b are required (see the example's header)");
        }
        Ok(args)
    }
}

/// What happened, for a test to check.
#[derive(Debug)]
pub struct Outcome {
    /// The case.
    pub case: DocumentId,
    /// The housing diagnosis after the merge.
    pub diagnosis: String,
    /// The conflicts seen after the merge.
    pub conflicts: Vec<FieldConflict>,
    /// The goal status both tablets show after the resolution.
    pub resolved: GoalStatus,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse(std::env::args().skip(1))?;
    run(args).await?;
    Ok(())
}

/// A demo key from fixed words (a real app asks the platform's key store).
fn demo_key(words: &str) -> TabletKey {
    TabletKey::new(Sha256::digest(words.as_bytes()).into())
}

async fn open(
    args: &Args,
    name: &str,
    user: &str,
    institution: &str,
    token: &str,
) -> anyhow::Result<Tablet> {
    let server = ServerAddress {
        url: args.server.clone(),
        token: token.into(),
        trust: args.trust.clone(),
    };
    let mut config = TabletConfig::new(
        args.data_dir.join(name),
        demo_key(&format!("home-visit demo key of {name}")),
        PeerId::new(name)?,
        user,
        institution,
    )
    .with_server(server);
    config.min_backoff = Duration::from_millis(50);
    config.max_backoff = Duration::from_secs(2);
    Tablet::open(config)
        .await
        .with_context(|| format!("opening {name}"))
}

/// Waits until both tablets are up to date and hold the same version of the case.
async fn converge(a: &Tablet, b: &Tablet, case: DocumentId) -> anyhow::Result<()> {
    let (mut events_a, mut events_b) = (a.events(), b.events());
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let up = |t: &Tablet| t.status().borrow().state == SyncState::UpToDate;
        let (mut ha, mut hb) = (
            a.client().heads(case).await?.unwrap_or_default(),
            b.client().heads(case).await?.unwrap_or_default(),
        );
        ha.sort();
        hb.sort();
        if up(a) && up(b) && !ha.is_empty() && ha == hb {
            return Ok(());
        }
        tokio::select! {
            _ = events_a.recv() => {}
            _ = events_b.recv() => {}
            () = tokio::time::sleep_until(deadline) => bail!(
                "the tablets did not converge: A {}, B {}",
                *a.status().borrow(),
                *b.status().borrow()
            ),
        }
    }
}

/// Types `text` key by key into the housing diagnosis, at the start or at the end.
async fn type_housing(
    tablet: &Tablet,
    case: DocumentId,
    at_start: bool,
    text: &str,
) -> anyhow::Result<()> {
    let session = tablet
        .edit_text(case, TextField::Diagnosis(DiagnosisSector::Housing))
        .await?;
    if at_start {
        session.move_cursor(0)?;
    }
    for key in text.chars() {
        session.type_text(&key.to_string())?;
    }
    session.close().await?; // one change, durable on the tablet
    Ok(())
}

fn show(conflicts: &[FieldConflict]) {
    for conflict in conflicts {
        println!("  konflikt: {}", conflict.path);
        for value in &conflict.values {
            println!(
                "    {:<12} ustawił(a) {} ({}) {} {}{}",
                value.value,
                value.by.as_deref().unwrap_or("?"),
                value.institution.as_deref().unwrap_or("?"),
                value
                    .at
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                    .unwrap_or_default(),
                if value.this_device {
                    "na tym tablecie"
                } else {
                    "na innym urządzeniu"
                },
                if value.shown {
                    " — widoczna teraz"
                } else {
                    ""
                },
            );
        }
    }
}

/// The whole visit; see the module documentation.
pub async fn run(args: Args) -> anyhow::Result<Outcome> {
    let anna = open(
        &args,
        "tablet-a",
        &args.user_a,
        &args.institution_a,
        &args.token_a,
    )
    .await?;
    let jan = open(
        &args,
        "tablet-b",
        &args.user_b,
        &args.institution_b,
        &args.token_b,
    )
    .await?;

    // Before the visit: Anna opens the case and plans a goal; the server stores it.
    let mut household = std::collections::BTreeMap::new();
    household.insert(
        "p1".to_owned(),
        HouseholdMember {
            name: "Maria Wiśniewska".into(),
            relation: "self".into(),
            birth_date: None,
        },
    );
    let referral = Referral {
        by: "pedagog".into(),
        institution: "sp-1".into(),
        reason: "Częste nieobecności syna w szkole.".into(),
        at: Utc::now(),
    };
    let case = anna
        .create_case(&args.institution_a, referral, household)
        .await?;
    anna.set_diagnosis(case, DiagnosisSector::Housing, "Dwa pokoje.")
        .await?;
    let plan = GoalPlan {
        specific: "Syn chodzi do szkoły codziennie".into(),
        measurable: "Nieobecności poniżej 10% w semestrze".into(),
        achievable: "Z pomocą świetlicy środowiskowej".into(),
        relevant: "Syn chce zdać do następnej klasy".into(),
        deadline: chrono::NaiveDate::from_ymd_opt(2021, 6, 25).ok_or_else(|| anyhow!("date"))?,
        responsible: "sp-1".into(),
        services: Default::default(),
    };
    anna.upsert_goal(case, "g1", plan).await?;
    anna.wait_until_up_to_date(WAIT).await?;
    println!(
        "A: sprawa {case} zapisana na serwerze ({})",
        *anna.status().borrow()
    );
    if args.user_b != args.user_a {
        anna.assign(case, &args.user_b).await?;
        println!("A: sprawa udostępniona użytkownikowi {}", args.user_b);
    }
    jan.refresh_documents()?;
    converge(&anna, &jan, case).await?;
    println!("B: sprawa jest na tablecie ({})", *jan.status().borrow());

    // The visit: no network. Both write in the same section and set the same goal's status.
    anna.set_online(false)?;
    jan.set_online(false)?;
    type_housing(&anna, case, false, " Wilgoć w kuchni, grzyb na ścianie.").await?;
    anna.set_goal_status(case, "g1", GoalStatus::InProgress)
        .await?;
    type_housing(&jan, case, true, "Mieszkanie komunalne: ").await?;
    jan.set_goal_status(case, "g1", GoalStatus::NotAchieved)
        .await?;
    println!("A offline: {}", *anna.status().borrow());
    println!("B offline: {}", *jan.status().borrow());

    // Back in range: both sync and converge.
    anna.set_online(true)?;
    jan.set_online(true)?;
    converge(&anna, &jan, case).await?;
    let merged = anna.case(case).await?;
    let diagnosis = merged.diagnosis[&DiagnosisSector::Housing].clone();
    println!("po synchronizacji, diagnoza (mieszkanie): {diagnosis}");
    let conflicts = anna.conflicts(case).await?;
    show(&conflicts);

    // Anna settles the status on her tablet; Jan's tablet follows.
    anna.resolve(case, "goals/g1/status", GoalStatus::InProgress.as_str())
        .await?;
    converge(&anna, &jan, case).await?;
    let resolved = jan.case(case).await?.goals["g1"].status.clone();
    if resolved.is_conflicted() {
        bail!("the conflict is still there: {resolved:?}");
    }
    println!(
        "B: status celu g1 = {} (konflikt rozwiązany)",
        resolved.value
    );
    println!("A: {}", *anna.status().borrow());

    anna.shutdown().await;
    jan.shutdown().await;
    Ok(Outcome {
        case,
        diagnosis,
        conflicts,
        resolved: resolved.value,
    })
}
