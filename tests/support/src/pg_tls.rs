//! TLS for a test's own PostgreSQL cluster: a CA made for the test, the server's certificate
//! for `127.0.0.1` signed by it, and `pg_hba.conf` that refuses every TCP client not speaking
//! TLS (as a production database on another machine would).

use std::path::{Path, PathBuf};
use std::process::Command;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

fn ca(name: &str) -> (rcgen::Certificate, KeyPair) {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().expect("CA key");
    let cert = params.self_signed(&key).expect("CA certificate");
    (cert, key)
}

/// Writes the server's certificate and key into the cluster's data directory `data`, the CA's
/// certificate to `ca_dir/ca.pem`, and a `pg_hba.conf` that requires TLS over TCP.
pub fn configure(data: &Path, ca_dir: &Path) {
    let (ca_cert, ca_key) = ca("Kooperacja test CA");
    let mut params =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "db.region.test".to_string()])
            .expect("server params");
    params
        .distinguished_name
        .push(DnType::CommonName, "db.region.test");
    let key = KeyPair::generate().expect("server key");
    let cert = params
        .signed_by(&key, &ca_cert, &ca_key)
        .expect("server certificate");
    std::fs::write(data.join("server.crt"), cert.pem()).expect("server.crt");
    std::fs::write(data.join("server.key"), key.serialize_pem()).expect("server.key");
    std::fs::write(
        data.join("pg_hba.conf"),
        "local all all trust\n\
         hostssl all all 127.0.0.1/32 trust\n\
         hostnossl all all 127.0.0.1/32 reject\n",
    )
    .expect("pg_hba.conf");
    std::fs::write(ca_dir.join("ca.pem"), ca_cert.pem()).expect("ca.pem");
    let owner = Command::new("id").arg("-u").output().expect("id");
    if String::from_utf8_lossy(&owner.stdout).trim() == "0" {
        let status = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(data.join("server.crt"))
            .arg(data.join("server.key"))
            .arg(data.join("pg_hba.conf"))
            .status()
            .expect("chown");
        assert!(status.success(), "chown of the certificate");
    }
    let status = Command::new("chmod")
        .arg("600")
        .arg(data.join("server.key"))
        .status()
        .expect("chmod");
    assert!(status.success(), "chmod of the key");
}

/// The certificate (PEM, in `dir`) of a CA that signed nothing the database shows.
pub fn foreign_ca(dir: &Path) -> PathBuf {
    let (cert, _) = ca("Someone else's CA");
    let path = dir.join("foreign-ca.pem");
    std::fs::write(&path, cert.pem()).expect("foreign CA");
    path
}
