//! Who is who: users with roles, their devices, and device tokens, kept in sled trees beside
//! the documents. Device tokens are stored only as SHA-256 hashes, enrolment codes as salted
//! Argon2id hashes ([`crate::enrolment`]); access tokens are signed with keys kept wrapped by
//! the master key ([`crate::signing`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::enrolment::Codes;
pub use crate::enrolment::{EnrolmentCode, ENROLMENT_CODE_HOURS};
use crate::error::ServerError;
use crate::kv::{Kv, Tree};
pub use crate::place::Place;
use crate::secrets::Key;
use crate::signing::{Checked, Keyring};
pub use crate::signing::{Rotation, ACCESS_TOKEN_SECONDS};

/// A user's role in the Model Kooperacji.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// *Pracownik socjalny*: a social worker of a GOPS/MOPS/PCPR.
    SocialWorker,
    /// *Animator*: leads the PZK and the work with families.
    Animator,
    /// A representative of a partner institution in a PZK.
    PzkMember,
    /// A ROPS coordinator or adviser (*doradca*).
    Coordinator,
    /// Administers the regional server.
    Admin,
}

impl Role {
    /// Every role, with its command-line slug.
    pub const ALL: [(Role, &'static str); 5] = [
        (Role::SocialWorker, "social-worker"),
        (Role::Animator, "animator"),
        (Role::PzkMember, "pzk-member"),
        (Role::Coordinator, "coordinator"),
        (Role::Admin, "admin"),
    ];

    /// The slug used on the command line and in the API.
    pub fn slug(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(r, _)| *r == self)
            .map(|(_, s)| *s)
            .unwrap_or("admin")
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

impl FromStr for Role {
    type Err = ServerError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .find(|(_, slug)| *slug == s)
            .map(|(r, _)| *r)
            .ok_or_else(|| {
                let slugs: Vec<&str> = Self::ALL.iter().map(|(_, s)| *s).collect();
                ServerError::Invalid(format!(
                    "unknown role {s:?}; use one of {}",
                    slugs.join(", ")
                ))
            })
    }
}

impl Role {
    /// Roles named by their slugs (`social-worker`, `admin`...), as the admin command and API
    /// take them.
    pub fn parse_all(roles: &[String]) -> Result<Vec<Role>, ServerError> {
        roles.iter().map(|r| r.parse()).collect()
    }
}

/// 48 random bytes: the secret part of a new device token.
pub fn random_device_secret() -> [u8; 48] {
    let mut bytes = [0u8; 48];
    rand::fill(&mut bytes[..]);
    bytes
}

/// An institution of the region: GOPS/MOPS, PCPR, a school, health care, police, a court or
/// probation service, an NGO, the ROPS...
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Institution {
    /// Short stable id, e.g. `gops-wadowice`.
    pub id: String,
    /// Full name.
    pub name: String,
    /// Sector: `social`, `education`, `health`, `police`, `justice`, `ngo`, `rops`, `other`.
    pub sector: String,
    /// Its gmina and powiat (TERYT); none for records made before they were kept.
    #[serde(default, flatten)]
    pub place: Place,
}

/// A *Partnerski Zespół Kooperacji*: the partner team of institutions of a gmina/powiat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    /// Short stable id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The animator's login.
    pub animator: String,
    /// Member institutions' ids.
    #[serde(default)]
    pub institutions: Vec<String>,
    /// The gmina and powiat it works for (TERYT); none for records made before they were kept.
    #[serde(default, flatten)]
    pub place: Place,
}

/// A person who uses Kooperacja.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    /// Unique login.
    pub login: String,
    /// Display name.
    pub name: String,
    /// Roles.
    pub roles: Vec<Role>,
    /// The institution the user works for.
    #[serde(default)]
    pub institution: Option<String>,
    /// When the account was made (RFC 3339, UTC).
    pub created_at: String,
}

/// A tablet or browser enrolled for a user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Device {
    /// The device's id.
    pub device_id: String,
    /// Its user.
    pub user: String,
    /// When it was enrolled.
    pub enrolled_at: String,
    /// Revoked devices are refused and told to wipe.
    pub revoked: bool,
}

/// What `device enroll` hands out: the token is shown once and never stored in clear.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Enrolment {
    /// The device's id.
    pub device_id: String,
    /// Its user.
    pub user: String,
    /// A bearer token for `/sync` and the API.
    pub token: String,
}

/// The outcome of checking a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Authenticated {
    /// A valid device of a user.
    Device(User, Device),
    /// A device that was revoked: it must wipe its data.
    Revoked(Device),
    /// A short-lived access token past its time: refresh it.
    Expired,
    /// No such token.
    Unknown,
}

/// A short-lived access token.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AccessToken {
    /// The bearer token (`kat_…`).
    pub access_token: String,
    /// Seconds it stays valid.
    pub expires_in: i64,
}

/// The identity trees of the server's store (sled or PostgreSQL, see [`crate::kv`]).
#[derive(Clone, Debug)]
pub struct Directory {
    users: Tree,
    devices: Tree,
    tokens: Tree,
    institutions: Tree,
    teams: Tree,
    codes: Codes,
    keys: Keyring,
}

fn check_id(id: &str) -> Result<(), ServerError> {
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(ServerError::Invalid(
            "an id is 1 to 64 characters: letters, digits, '.', '_', '-'".into(),
        ));
    }
    Ok(())
}

fn insert_new<T: Serialize>(
    tree: &Tree,
    id: &str,
    value: &T,
    what: &str,
) -> Result<(), ServerError> {
    if !tree.swap(id, None, encode(value)?)? {
        return Err(ServerError::Invalid(format!(
            "{what} {id:?} already exists"
        )));
    }
    Ok(())
}

fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, ServerError> {
    serde_json::from_slice(bytes).map_err(|e| ServerError::Corrupt(e.to_string()))
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, ServerError> {
    serde_json::to_vec(value).map_err(|e| ServerError::Corrupt(e.to_string()))
}

impl Directory {
    /// Opens the identity trees; `master` unwraps the token-signing keys.
    pub fn open(kv: &Kv, master: &Key) -> Result<Self, ServerError> {
        Ok(Self {
            users: kv.open_tree("users")?,
            devices: kv.open_tree("devices")?,
            tokens: kv.open_tree("tokens")?,
            institutions: kv.open_tree("institutions")?,
            teams: kv.open_tree("teams")?,
            codes: Codes::open(kv)?,
            keys: Keyring::open(kv, master)?,
        })
    }

    /// Makes a one-time code with which a tablet enrols itself (`POST /api/v1/enroll`).
    pub fn enrolment_code(
        &self,
        login: &str,
        random: [u8; 10],
    ) -> Result<EnrolmentCode, ServerError> {
        if self.user(login)?.is_none() {
            return Err(ServerError::NotFound(format!("no user {login:?}")));
        }
        self.codes
            .make(login, random, chrono::Utc::now().timestamp())
    }

    /// Redeems a one-time code typed on a tablet at `source` (its address): enrols a device
    /// and returns its token. A code works once; guessing is stopped ([`crate::enrolment`]).
    pub fn redeem(
        &self,
        code: &str,
        source: &str,
        random: [u8; 48],
    ) -> Result<Enrolment, ServerError> {
        let user = self
            .codes
            .redeem(code, source, chrono::Utc::now().timestamp())?;
        self.enroll(&user, random)
    }

    /// Issues a short-lived access token for a device token (`POST /api/v1/token`).
    pub fn access_token(
        &self,
        device_token: &str,
        ttl_seconds: i64,
    ) -> Result<Option<AccessToken>, ServerError> {
        self.access_token_at(device_token, chrono::Utc::now().timestamp(), ttl_seconds)
    }

    /// [`Self::access_token`] as issued at `now` (Unix seconds). Whatever `ttl_seconds` says,
    /// the token is refused [`ACCESS_TOKEN_SECONDS`] after `now`.
    pub fn access_token_at(
        &self,
        device_token: &str,
        now: i64,
        ttl_seconds: i64,
    ) -> Result<Option<AccessToken>, ServerError> {
        if device_token.starts_with("kat_") {
            return Ok(None);
        }
        let Authenticated::Device(_, device) = self.authenticate(device_token)? else {
            return Ok(None);
        };
        let expiry = now.saturating_add(ttl_seconds);
        Ok(Some(AccessToken {
            access_token: self.keys.sign(&device.device_id, now, expiry)?,
            expires_in: ttl_seconds,
        }))
    }

    /// Replaces the key that signs access tokens; tokens signed by the old one keep working
    /// until they expire.
    pub fn rotate_signing_key(&self) -> Result<Rotation, ServerError> {
        self.keys.rotate(chrono::Utc::now().timestamp())
    }

    /// The salt of the export's pseudonyms (kept wrapped like the signing keys).
    pub fn export_salt(&self) -> Result<Vec<u8>, ServerError> {
        self.keys.export_salt()
    }

    fn device_identity(&self, device_id: &[u8]) -> Result<Authenticated, ServerError> {
        let Some(device) = self.devices.get(device_id)? else {
            return Ok(Authenticated::Unknown);
        };
        let device: Device = decode(&device)?;
        if device.revoked {
            return Ok(Authenticated::Revoked(device));
        }
        Ok(match self.user(&device.user)? {
            Some(user) => Authenticated::Device(user, device),
            None => Authenticated::Unknown,
        })
    }

    /// Adds an institution.
    pub fn add_institution(
        &self,
        id: &str,
        name: &str,
        sector: &str,
    ) -> Result<Institution, ServerError> {
        check_id(id)?;
        let institution = Institution {
            id: id.into(),
            name: name.into(),
            sector: sector.into(),
            place: Place::default(),
        };
        insert_new(&self.institutions, id, &institution, "institution")?;
        Ok(institution)
    }

    /// An institution by id.
    pub fn institution(&self, id: &str) -> Result<Option<Institution>, ServerError> {
        self.institutions.get(id)?.map(|v| decode(&v)).transpose()
    }

    /// Adds a PZK team led by an animator.
    pub fn add_team(&self, id: &str, name: &str, animator: &str) -> Result<Team, ServerError> {
        check_id(id)?;
        if self.user(animator)?.is_none() {
            return Err(ServerError::NotFound(format!("no user {animator:?}")));
        }
        let team = Team {
            id: id.into(),
            name: name.into(),
            animator: animator.into(),
            institutions: Vec::new(),
            place: Place::default(),
        };
        insert_new(&self.teams, id, &team, "PZK")?;
        Ok(team)
    }

    /// Adds a member institution to a PZK team.
    pub fn add_team_member(&self, team: &str, institution: &str) -> Result<Team, ServerError> {
        if self.institution(institution)?.is_none() {
            return Err(ServerError::NotFound(format!(
                "no institution {institution:?}"
            )));
        }
        let mut t: Team = match self.teams.get(team)? {
            Some(v) => decode(&v)?,
            None => return Err(ServerError::NotFound(format!("no PZK {team:?}"))),
        };
        if !t.institutions.iter().any(|i| i == institution) {
            t.institutions.push(institution.into());
        }
        self.teams.insert(team, encode(&t)?)?;
        Ok(t)
    }

    /// Sets where an institution works.
    pub fn place_institution(&self, id: &str, place: Place) -> Result<Institution, ServerError> {
        let mut institution = self
            .institution(id)?
            .ok_or_else(|| ServerError::NotFound(format!("no institution {id:?}")))?;
        institution.place = place;
        self.institutions.insert(id, encode(&institution)?)?;
        Ok(institution)
    }

    /// Sets the gmina and powiat a PZK team works for.
    pub fn place_team(&self, id: &str, place: Place) -> Result<Team, ServerError> {
        let mut team: Team = match self.teams.get(id)? {
            Some(v) => decode(&v)?,
            None => return Err(ServerError::NotFound(format!("no PZK {id:?}"))),
        };
        team.place = place;
        self.teams.insert(id, encode(&team)?)?;
        Ok(team)
    }

    /// Every PZK team.
    pub fn teams(&self) -> Result<Vec<Team>, ServerError> {
        self.teams.values()?.iter().map(|v| decode(v)).collect()
    }

    /// Sets a user's institution.
    pub fn set_institution(&self, login: &str, institution: &str) -> Result<User, ServerError> {
        if self.institution(institution)?.is_none() {
            return Err(ServerError::NotFound(format!(
                "no institution {institution:?}"
            )));
        }
        let mut user = self
            .user(login)?
            .ok_or_else(|| ServerError::NotFound(format!("no user {login:?}")))?;
        user.institution = Some(institution.into());
        self.users.insert(login, encode(&user)?)?;
        Ok(user)
    }

    /// Adds a user; a login must be new.
    pub fn add_user(&self, login: &str, name: &str, roles: Vec<Role>) -> Result<User, ServerError> {
        if login.is_empty()
            || login.len() > 64
            || !login
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
        {
            return Err(ServerError::Invalid(
                "a login is 1 to 64 characters: letters, digits, '.', '_', '-', '@'".into(),
            ));
        }
        if name.trim().is_empty() {
            return Err(ServerError::Invalid("a user needs a name".into()));
        }
        let user = User {
            login: login.into(),
            name: name.into(),
            roles,
            institution: None,
            created_at: chrono::Utc::now().to_rfc3339(),
        };
        if !self.users.swap(login, None, encode(&user)?)? {
            return Err(ServerError::Invalid(format!(
                "user {login:?} already exists"
            )));
        }
        Ok(user)
    }

    /// A user by login.
    pub fn user(&self, login: &str) -> Result<Option<User>, ServerError> {
        self.users.get(login)?.map(|v| decode(&v)).transpose()
    }

    /// Every user.
    pub fn users(&self) -> Result<Vec<User>, ServerError> {
        self.users.values()?.iter().map(|v| decode(v)).collect()
    }

    /// Enrols a new device for a user and returns its token (shown once).
    pub fn enroll(&self, login: &str, random: [u8; 48]) -> Result<Enrolment, ServerError> {
        if self.user(login)?.is_none() {
            return Err(ServerError::NotFound(format!("no user {login:?}")));
        }
        let device_id = format!("dev-{}", hex::encode(&random[..8]));
        let token = format!("kt_{}", hex::encode(&random[8..]));
        let device = Device {
            device_id: device_id.clone(),
            user: login.into(),
            enrolled_at: chrono::Utc::now().to_rfc3339(),
            revoked: false,
        };
        self.devices
            .insert(device_id.as_bytes(), encode(&device)?)?;
        self.tokens
            .insert(token_hash(&token), device_id.as_bytes())?;
        Ok(Enrolment {
            device_id,
            user: login.into(),
            token,
        })
    }

    /// Revokes a device: its tokens stop working at once.
    pub fn revoke(&self, device_id: &str) -> Result<Device, ServerError> {
        let mut device: Device = match self.devices.get(device_id)? {
            Some(v) => decode(&v)?,
            None => return Err(ServerError::NotFound(format!("no device {device_id:?}"))),
        };
        device.revoked = true;
        self.devices
            .insert(device_id.as_bytes(), encode(&device)?)?;
        Ok(device)
    }

    /// A device, by id.
    pub fn device(&self, device_id: &str) -> Result<Option<Device>, ServerError> {
        self.devices.get(device_id)?.map(|v| decode(&v)).transpose()
    }

    /// The devices of a user.
    pub fn devices_of(&self, login: &str) -> Result<Vec<Device>, ServerError> {
        let mut out = Vec::new();
        for v in self.devices.values()? {
            let d: Device = decode(&v)?;
            if d.user == login {
                out.push(d);
            }
        }
        Ok(out)
    }

    /// Who a bearer token belongs to.
    /// Device tokens (`kt_…`) and short-lived access tokens (`kat_…`) are both accepted.
    pub fn authenticate(&self, token: &str) -> Result<Authenticated, ServerError> {
        self.authenticate_at(token, chrono::Utc::now().timestamp())
    }

    /// [`Self::authenticate`] at time `now` (Unix seconds).
    pub fn authenticate_at(&self, token: &str, now: i64) -> Result<Authenticated, ServerError> {
        if token.starts_with("kat_") {
            return match self.keys.check(token, now)? {
                Checked::Device(id) => self.device_identity(id.as_bytes()),
                Checked::Expired => Ok(Authenticated::Expired),
                Checked::Unknown => Ok(Authenticated::Unknown),
            };
        }
        let Some(device_id) = self.tokens.get(token_hash(token))? else {
            return Ok(Authenticated::Unknown);
        };
        self.device_identity(&device_id)
    }
}
