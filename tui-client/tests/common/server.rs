//! The real `auction-server` binary for end-to-end tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The server binary, built next to ours (builds it if a lone `-p auction-tui` run left it out),
/// or `$AUCTION_SERVER_BIN` (e.g. the release build).
pub fn server_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("AUCTION_SERVER_BIN") {
        return PathBuf::from(bin);
    }
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_auction-tui"));
    let server = ours.with_file_name("auction-server");
    if !server.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "auction-server", "--bin", "auction-server"])
            .status()
            .unwrap();
        assert!(status.success());
    }
    server
}

pub struct Server {
    child: Child,
    pub url: String,
    pub addr: String,
}

impl Server {
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn pw(user: &str) -> String {
    format!("{user}-pw-123")
}

/// Starts a server on `listen` (`127.0.0.1:0` for any free port).
pub fn start_server_on(data: &Path, listen: &str) -> Server {
    start_server_with(data, listen, &[])
}

/// Starts a server with `extra` flags.
pub fn start_server_with(data: &Path, listen: &str, extra: &[&str]) -> Server {
    start_server_env(data, listen, extra, &[])
}

/// Starts a server with `extra` flags and environment variables.
pub fn start_server_env(data: &Path, listen: &str, extra: &[&str], env: &[(&str, &str)]) -> Server {
    let mut cmd = Command::new(server_bin());
    cmd.envs(env.iter().copied());
    cmd.args([
        "--data",
        data.to_str().unwrap(),
        "--listen",
        listen,
        "--no-ssh",
    ])
    .args(extra)
    .env("AUCTION_LOG", "warn")
    .stdout(Stdio::piped());
    for user in ["admin", "presenter", "mi", "csk"] {
        cmd.env(
            format!("AUCTION_PASSWORD_{}", user.to_uppercase()),
            pw(user),
        );
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("server exited").unwrap();
        if let Some(rest) = line.strip_prefix("listening on ") {
            break rest.split(' ').next().unwrap().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let addr = url
        .trim_start_matches("wss://")
        .trim_start_matches("ws://")
        .trim_end_matches("/ws")
        .to_string();
    Server { child, url, addr }
}

pub fn start_server(data: &Path) -> Server {
    start_server_on(data, "127.0.0.1:0")
}

/// Runs `auction-tui ctl` as `user`.
pub fn ctl(server: &str, user: &str, password: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_auction-tui"))
        .arg("ctl")
        .args(["--server", server, "--user", user])
        .args(args)
        .env("AUCTION_PASSWORD", password)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}
