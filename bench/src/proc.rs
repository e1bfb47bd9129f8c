//! The release `auction-server` as a separate process, and what it costs.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};

pub struct ServerProcess {
    child: Child,
    pub pid: u32,
    pub ws_url: String,
    pub ssh_addr: Option<String>,
    _data: tempfile::TempDir,
}

pub fn password(user: &str) -> String {
    format!("{user}-bench-password")
}

/// The server binary next to this one (same profile).
fn server_bin() -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe()?;
    // Beside this binary, or one level up when this is a test in target/*/deps.
    let candidates = [
        me.with_file_name("auction-server"),
        me.parent()
            .and_then(|d| d.parent())
            .map(|d| d.join("auction-server"))
            .unwrap_or_default(),
    ];
    match candidates.iter().find(|p| p.is_file()) {
        Some(p) => Ok(p.clone()),
        None => bail!(
            "auction-server not found beside {}: build it with `cargo build --release -p auction-server`",
            me.display()
        ),
    }
}

impl ServerProcess {
    pub fn start(ssh: bool) -> anyhow::Result<ServerProcess> {
        // Every bench client comes from 127.0.0.1.
        Self::start_with(ssh, &["--max-per-address", "1000000"])
    }

    /// With SSH and every limit at its default (the abuse bench).
    pub fn start_defaults() -> anyhow::Result<ServerProcess> {
        Self::start_with(true, &[])
    }

    fn start_with(ssh: bool, extra: &[&str]) -> anyhow::Result<ServerProcess> {
        let data = tempfile::tempdir()?;
        let mut cmd = Command::new(server_bin()?);
        cmd.arg("--data")
            .arg(data.path())
            .args(["--listen", "127.0.0.1:0"])
            .args(extra);
        if ssh {
            cmd.args(["--ssh-listen", "127.0.0.1:0"]);
        } else {
            cmd.arg("--no-ssh");
        }
        cmd.env("AUCTION_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        // Every account of the bundled league but the viewer, which needs none.
        let league = auction_server::league::bundled().league;
        for (user, _) in auction_server::auth::league_accounts(&league) {
            if user == "viewer" {
                continue;
            }
            cmd.env(
                auction_server::auth::password_env_var(&user),
                password(&user),
            );
        }
        let mut child = cmd.spawn().context("start auction-server")?;
        let pid = child.id();
        let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
        let (mut ws_url, mut ssh_addr) = (None, None);
        for line in lines.by_ref() {
            let line = line?;
            if let Some(rest) = line.strip_prefix("listening on ") {
                ws_url = rest.split(' ').next().map(str::to_string);
            }
            if let Some(rest) = line.strip_prefix("ssh on ") {
                ssh_addr = rest.split(' ').next().map(str::to_string);
            }
            if line.starts_with("connect:") {
                break;
            }
        }
        std::thread::spawn(move || for _ in lines {});
        Ok(ServerProcess {
            child,
            pid,
            ws_url: ws_url.context("the server printed no address")?,
            ssh_addr,
            _data: data,
        })
    }

    /// Resident memory, KiB.
    pub fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
            })
            .unwrap_or(0)
    }

    /// CPU time used so far (user + system), in clock ticks (1/100 s).
    pub fn cpu_ticks(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/stat", self.pid))
            .ok()
            .and_then(|s| {
                let after = s.rsplit_once(')')?.1;
                let f: Vec<&str> = after.split_whitespace().collect();
                Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
            })
            .unwrap_or(0)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
