//! Real processes for tests that need them: the `tally` binary as a server, and a throwaway
//! Postgres cluster (via .ci/pg.sh) that a test may stop and start.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `tally serve` on a free port, ready (its /readyz answered) when returned.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    pub async fn start(database_url: &str, flags: &[&str]) -> Self {
        Self::start_on(database_url, free_port(), flags).await
    }

    pub async fn start_on(database_url: &str, port: u16, flags: &[&str]) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_tally"))
            .arg("serve")
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .args(flags)
            .env("DATABASE_URL", database_url)
            .env("TALLY_LOG", "warn")
            // As `make run` serves: anonymous callers on loopback (a flag may say otherwise).
            .env("TALLY_ANONYMOUS_ROLE", "admin")
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("tally binary");
        let server = Self { child, base: format!("http://127.0.0.1:{port}") };
        server.wait_ready().await;
        server
    }

    pub fn mcp_url(&self) -> String {
        format!("{}/mcp", self.base)
    }

    async fn wait_ready(&self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = client.get(format!("{}/readyz", self.base)).timeout(Duration::from_secs(1)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(Instant::now() < deadline, "tally serve did not become ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A private Postgres cluster of its own, for tests that stop the database.
pub struct Cluster {
    home: PathBuf,
    pub port: u16,
    /// Where clients reach it: 127.0.0.1, or its address inside a network namespace.
    host: String,
    /// Runs pg.sh (and so the server) inside this network namespace.
    netns: Option<String>,
    /// Extra environment for pg.sh (TALLY_PG_LISTEN, TALLY_PG_TRUST_NET).
    env: Vec<(&'static str, String)>,
}

impl Cluster {
    pub fn create() -> Self {
        let home = std::env::temp_dir().join(format!("tally-test-pg-{}", uuid::Uuid::new_v4().simple()));
        let cluster = Self { home, port: free_port(), host: "127.0.0.1".into(), netns: None, env: vec![] };
        cluster.pg("start");
        cluster
    }

    /// A cluster whose server runs inside network namespace `netns`, listening on `address`
    /// (port 5432: the namespace has the port to itself) and trusting clients from `clients`
    /// (a CIDR).
    pub fn create_in_netns(netns: &str, address: &str, clients: &str) -> Self {
        let home = std::env::temp_dir().join(format!("tally-test-pg-{}", uuid::Uuid::new_v4().simple()));
        let env = vec![("TALLY_PG_LISTEN", address.to_owned()), ("TALLY_PG_TRUST_NET", clients.to_owned())];
        let cluster = Self { home, port: 5432, host: address.into(), netns: Some(netns.into()), env };
        cluster.pg("start");
        cluster
    }

    pub fn url(&self) -> String {
        format!("postgres://tally@{}:{}/tally", self.host, self.port)
    }

    pub fn stop(&self) {
        self.pg("stop");
    }

    pub fn start(&self) {
        self.pg("start");
    }

    fn pg_command(&self, command: &str) -> std::process::Command {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/pg.sh");
        let mut cmd = match &self.netns {
            Some(ns) => {
                let mut cmd = std::process::Command::new("ip");
                cmd.args(["netns", "exec", ns, "bash"]);
                cmd
            }
            None => std::process::Command::new("bash"),
        };
        cmd.args([script, command])
            .env("TALLY_PG_HOME", &self.home)
            .env("TALLY_PG_PORT", self.port.to_string())
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    fn pg(&self, command: &str) {
        let out = self.pg_command(command).output().expect("bash");
        assert!(out.status.success(), "pg.sh {command} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.pg_command("destroy").output();
    }
}
