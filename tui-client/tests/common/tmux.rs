//! A terminal for end-to-end tests: tmux runs a program in a real
//! pseudo-terminal; we type with send-keys and read with capture-pane.
//! Shared by the client's and the server's tests.
#![allow(dead_code)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct Tmux {
    pub socket: String,
    pub session: String,
}

impl Tmux {
    pub fn start(width: u16, height: u16, command: &str) -> Tmux {
        let socket = format!("auction-test-{}-{}", std::process::id(), rand_suffix());
        let session = "screen".to_string();
        let status = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "new-session",
                "-d",
                "-s",
                &session,
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
                command,
            ])
            .status()
            .expect("tmux must be installed (CI installs it)");
        assert!(status.success());
        Tmux { socket, session }
    }

    pub fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", &self.session])
            .args(keys)
            .status()
            .unwrap();
        assert!(status.success());
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args([
                "-L",
                &self.socket,
                "capture-pane",
                "-p",
                "-t",
                &self.session,
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    /// Waits until the screen contains `needle`; returns how long it took.
    pub fn wait_for(&self, needle: &str, limit: Duration) -> Duration {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(needle) {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < limit,
                "`{needle}` did not appear within {limit:?}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn alive(&self) -> bool {
        Command::new("tmux")
            .args(["-L", &self.socket, "has-session", "-t", &self.session])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .stderr(Stdio::null())
            .status();
    }
}

pub fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
}

impl Tmux {
    /// Resizes the window (and so the program's terminal).
    pub fn resize(&self, width: u16, height: u16) {
        let _ = Command::new("tmux")
            .args([
                "-L",
                &self.socket,
                "resize-window",
                "-t",
                &self.session,
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
            ])
            .status();
    }

    /// Waits for the program to exit; returns its exit status.
    pub fn exit_status(&self, limit: Duration) -> Option<i32> {
        let start = Instant::now();
        while start.elapsed() < limit {
            let out = Command::new("tmux")
                .args([
                    "-L",
                    &self.socket,
                    "display-message",
                    "-p",
                    "-t",
                    &self.session,
                    "#{pane_dead} #{pane_dead_status}",
                ])
                .stderr(Stdio::null())
                .output()
                .ok()?;
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            let mut parts = text.split_whitespace();
            if parts.next() == Some("1") {
                return parts.next().and_then(|s| s.parse().ok());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Keeps the pane (and its exit status) after the program exits.
    pub fn remain_on_exit(&self) {
        let _ = Command::new("tmux")
            .args([
                "-L",
                &self.socket,
                "set-option",
                "-t",
                &self.session,
                "remain-on-exit",
                "on",
            ])
            .status();
    }
}
