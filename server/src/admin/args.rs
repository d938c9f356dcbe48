//! The `admin` command line: its options and subcommands (clap), carried out by
//! [`super::run`].

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// `admin` options.
#[derive(Debug, Args)]
pub struct AdminArgs {
    /// The server's data directory.
    #[arg(long, env = "KOOPERACJA_DATA_DIR", default_value = "./kooperacja-data")]
    pub data_dir: PathBuf,
    /// Where the master and audit keys live [default: the data directory's sibling
    /// `<name>-secrets`].
    #[arg(long, env = "KOOPERACJA_SECRETS_DIR")]
    pub secrets_dir: Option<PathBuf>,
    /// The region's PostgreSQL store (`postgres://…`), when it runs on one.
    #[arg(long, env = "KOOPERACJA_STORE")]
    pub store: Option<String>,
    /// What to administer.
    #[command(subcommand)]
    pub command: AdminCommand,
}

impl AdminArgs {
    /// The keys' directory: as given, or beside the data directory.
    pub fn secrets_dir(&self) -> PathBuf {
        self.secrets_dir
            .clone()
            .unwrap_or_else(|| crate::secrets::default_dir(&self.data_dir))
    }
}

/// Administrative commands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Users.
    User {
        /// What to do with users.
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Devices (tablets, browsers).
    Device {
        /// What to do with devices.
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// Institutions (GOPS/MOPS, PCPR, schools, health care, police, courts, NGOs, the ROPS).
    Institution {
        /// What to do with institutions.
        #[command(subcommand)]
        command: InstitutionCommand,
    },
    /// PZK teams (*Partnerski Zespół Kooperacji*).
    Pzk {
        /// What to do with teams.
        #[command(subcommand)]
        command: PzkCommand,
    },
    /// De-identified export of cases for the ROPS evaluation (no names, no free text).
    Export {
        /// `json` (rows and counts per stage) or `csv` (rows).
        #[arg(long, default_value = "json")]
        format: String,
    },
    /// The access report (GDPR art. 15) on one case: its contents, history, attachments and
    /// the audit log's records about it.
    AccessReport {
        /// The case's id.
        #[arg(long)]
        document: String,
        /// `json` or `html` (a readable page).
        #[arg(long, default_value = "html")]
        format: String,
    },
    /// Copies this data directory's sled store (documents, identity, access, audit) into a
    /// PostgreSQL database, for a region that grows to several nodes. Progress on stderr.
    MigrateToPostgres {
        /// The database (`postgres://…`); its tables are made if missing.
        #[arg(long)]
        to: String,
    },
    /// Seals every chunk still in plaintext from before encryption at rest (once, after
    /// upgrading; a server also seals documents as it writes them).
    EncryptAtRest,
    /// Copies the whole store (documents, identity, audit) into one backup file, encrypted
    /// with the backup key.
    Backup {
        /// The backup file to write (`0600`).
        #[arg(long)]
        out: PathBuf,
        /// The backup key: a file of 64 hex digits (`openssl rand -hex 32`), mode `0600`, kept
        /// apart from the backups.
        #[arg(long, env = "KOOPERACJA_BACKUP_KEY_FILE")]
        backup_key_file: Option<PathBuf>,
    },
    /// Restores a backup file into this data directory (its store must not exist yet), with
    /// the backup key it was made with and the secrets directory of the server it came from.
    Restore {
        /// The backup file to read.
        #[arg(long)]
        from: PathBuf,
        /// The backup key the backup was made with.
        #[arg(long, env = "KOOPERACJA_BACKUP_KEY_FILE")]
        backup_key_file: Option<PathBuf>,
    },
    /// Access tokens.
    Token {
        /// What to do with access tokens.
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The audit log: query (JSON lines) or verify its hash chain.
    Audit {
        /// Only this user.
        #[arg(long)]
        user: Option<String>,
        /// Only this document (its id).
        #[arg(long)]
        document: Option<String>,
        /// From this time (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Up to this time (RFC 3339).
        #[arg(long)]
        until: Option<String>,
        /// Check the chain instead of listing.
        #[arg(long)]
        verify: bool,
    },
    /// Erases a case (GDPR art. 17 where the law allows), as the admin API does on a running
    /// server: its history leaves the store, its key is destroyed, its id is tombstoned so no
    /// device (and, on PostgreSQL, no node) can write it again; the audit log keeps only that
    /// an erasure happened.
    Erase {
        /// The document's id.
        document: String,
    },
}

/// `admin token ...`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Makes a new key to sign access tokens; tokens signed by the old one keep working until
    /// they expire (15 minutes), then it is dropped at the next rotation.
    RotateKey,
}

/// `admin institution ...`
#[derive(Debug, Subcommand)]
pub enum InstitutionCommand {
    /// Adds an institution.
    Add {
        /// Short stable id, e.g. `gops-wadowice`.
        #[arg(long)]
        id: String,
        /// Full name.
        #[arg(long)]
        name: String,
        /// Sector: social, education, health, police, justice, ngo, rops, other.
        #[arg(long, default_value = "social")]
        sector: String,
        /// Where it works.
        #[command(flatten)]
        place: PlaceArgs,
    },
    /// Sets the gmina and powiat an institution works in (for the evaluation's figures).
    Place {
        /// The institution's id.
        #[arg(long)]
        id: String,
        /// Where it works.
        #[command(flatten)]
        place: PlaceArgs,
    },
}

/// A gmina and powiat as TERYT codes.
#[derive(Debug, Args)]
pub struct PlaceArgs {
    /// The gmina's TERYT code, 7 digits (e.g. `1218092`).
    #[arg(long)]
    pub gmina: Option<String>,
    /// The powiat's TERYT code, 4 digits [default: the gmina's first four].
    #[arg(long)]
    pub powiat: Option<String>,
}

impl PlaceArgs {
    /// The place, checked.
    pub fn place(&self) -> Result<crate::place::Place, crate::error::ServerError> {
        crate::place::Place::new(self.gmina.as_deref(), self.powiat.as_deref())
    }
}

/// `admin pzk ...`
#[derive(Debug, Subcommand)]
pub enum PzkCommand {
    /// Adds a PZK team led by an animator.
    Add {
        /// Short stable id.
        #[arg(long)]
        id: String,
        /// Name (the PZK document's name).
        #[arg(long)]
        name: String,
        /// The animator's login.
        #[arg(long)]
        animator: String,
        /// Where it works.
        #[command(flatten)]
        place: PlaceArgs,
    },
    /// Sets the gmina and powiat a team works for (for the evaluation's figures).
    Place {
        /// The team.
        #[arg(long)]
        pzk: String,
        /// Where it works.
        #[command(flatten)]
        place: PlaceArgs,
    },
    /// Adds a member institution to a team.
    Member {
        /// The team.
        #[arg(long)]
        pzk: String,
        /// The institution.
        #[arg(long)]
        institution: String,
    },
}

/// `admin user ...`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Adds a user.
    Add {
        /// Unique login.
        #[arg(long)]
        login: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Role (repeat for several): social-worker, animator, pzk-member, coordinator, admin.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// The institution the user works for.
        #[arg(long)]
        institution: Option<String>,
    },
    /// Lists users as JSON lines.
    List,
}

/// `admin device ...`
#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Enrols a device for a user; prints `{"device_id", "user", "token"}`.
    Enroll {
        /// The user's login.
        #[arg(long)]
        user: String,
    },
    /// Makes a one-time enrolment code for a tablet of a user (`POST /api/v1/enroll` redeems it).
    Code {
        /// The user's login.
        #[arg(long)]
        user: String,
    },
    /// Revokes a device.
    Revoke {
        /// The device id.
        #[arg(long)]
        device: String,
    },
}
