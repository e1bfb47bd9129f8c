//! A russh client with a pty: what an SSH user's terminal would show.

use std::sync::Arc;
use std::time::{Duration, Instant};

use russh::ChannelMsg;
use russh::client;

use super::AcceptAnyHost;

fn nz(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).unwrap()
}

/// A pty session: what the owner's terminal would show, kept up to date.
pub struct Screen {
    pub channel: russh::Channel<client::Msg>,
    pub parser: vt100::Parser,
    _handle: client::Handle<AcceptAnyHost>,
    pub closed: bool,
}

impl Screen {
    pub async fn open(
        addr: std::net::SocketAddr,
        user: &str,
        pw: Option<&str>,
        cols: u16,
        rows: u16,
    ) -> Screen {
        let config = Arc::new(client::Config::default());
        let mut handle = client::connect(config, addr, AcceptAnyHost).await.unwrap();
        let ok = match pw {
            Some(pw) => handle
                .authenticate_password(user, pw)
                .await
                .unwrap()
                .success(),
            None => handle.authenticate_none(user).await.unwrap().success(),
        };
        assert!(ok, "ssh login as {user} refused");
        let channel = handle.channel_open_session().await.unwrap();
        channel
            .request_pty(true, "xterm-256color", cols.into(), rows.into(), 0, 0, &[])
            .await
            .unwrap();
        channel.request_shell(true).await.unwrap();
        Screen {
            channel,
            parser: vt100::Parser::new(nz(rows), nz(cols), 0),
            _handle: handle,
            closed: false,
        }
    }

    pub fn text(&self) -> String {
        self.parser.screen().contents()
    }

    /// Reads output until the screen shows `needle` (5 s at most).
    pub async fn wait_for(&mut self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.text().contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.channel.wait()).await {
                Ok(Some(ChannelMsg::Data { data })) => self.parser.process(&data),
                Ok(Some(ChannelMsg::Close | ChannelMsg::Eof)) | Ok(None) => {
                    self.closed = true;
                    panic!(
                        "closed while waiting for `{needle}`; screen:\n{}",
                        self.text()
                    );
                }
                Ok(Some(_)) => {}
                Err(_) => panic!("`{needle}` did not appear; screen:\n{}", self.text()),
            }
        }
    }

    /// Reads whatever arrives within `ms` milliseconds of quiet.
    pub async fn drain(&mut self, ms: u64) {
        while let Ok(Some(msg)) =
            tokio::time::timeout(Duration::from_millis(ms), self.channel.wait()).await
        {
            if let ChannelMsg::Data { data } = msg {
                self.parser.process(&data);
            }
        }
    }

    pub async fn send(&self, bytes: &[u8]) {
        self.channel.data_bytes(bytes.to_vec()).await.unwrap();
    }

    /// Reads until the channel closes; returns the exit status.
    pub async fn until_closed(&mut self) -> Option<u32> {
        let mut status = None;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.channel.wait()).await {
                Ok(Some(ChannelMsg::Data { data })) => self.parser.process(&data),
                Ok(Some(ChannelMsg::ExitStatus { exit_status })) => status = Some(exit_status),
                Ok(Some(ChannelMsg::Close)) | Ok(None) => return status,
                Ok(Some(_)) => {}
                Err(_) => panic!("the session did not end"),
            }
        }
    }
}
