//! Test support: the real `auction-server` binary on a free port with a
//! fresh data directory, and a small protocol client.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::time::Duration;

use auction_proto::msg::{ClientMsg, ErrorCode, PROTOCOL_VERSION, ServerMsg};
use auction_proto::{Command, Entry, RejectCode, State};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const ACCOUNTS: [&str; 13] = [
    "admin",
    "presenter",
    "viewer",
    "csk",
    "mi",
    "rcb",
    "kkr",
    "dc",
    "rr",
    "pbks",
    "srh",
    "gt",
    "lsg",
];

/// Every account's password in tests.
pub fn password(user: &str) -> String {
    format!("{user}-secret-pw")
}

/// A running `auction-server` process; killed when dropped.
pub struct ServerProc {
    child: Child,
    pub url: String,
    pub addr: String,
    pub data: PathBuf,
    pub stdout: Vec<String>,
    /// The SSH address, if SSH is on.
    pub ssh: Option<String>,
}

impl ServerProc {
    pub fn start(data: &Path) -> ServerProc {
        Self::start_with(data, &[])
    }

    pub fn start_with(data: &Path, extra: &[&str]) -> ServerProc {
        Self::spawn(data, extra, None, None)
    }

    /// No file it writes may grow past `kib` KiB (`ulimit -f`; writes past
    /// it fail with EFBIG instead of killing the process): a disk that
    /// fills up under the event log.
    pub fn start_with_file_limit(data: &Path, kib: u64, log: &Path) -> ServerProc {
        let limit = format!("trap '' XFSZ; ulimit -f {kib};");
        Self::start_in_shell(data, &limit, log)
    }

    /// Started by `bash -c "<shell> exec server ..."` (for `ulimit`), with
    /// warnings logged to `log`.
    pub fn start_in_shell(data: &Path, shell: &str, log: &Path) -> ServerProc {
        Self::spawn(data, &[], Some((log, "warn")), Some(shell))
    }

    /// Logs everything (`trace`) into `log`.
    /// Logs to `log` at `level` (an `AUCTION_LOG` value).
    pub fn start_logging(data: &Path, extra: &[&str], log: &Path, level: &str) -> ServerProc {
        Self::spawn(data, extra, Some((log, level)), None)
    }

    fn spawn(
        data: &Path,
        extra: &[&str],
        log: Option<(&Path, &str)>,
        shell: Option<&str>,
    ) -> ServerProc {
        let bin = env!("CARGO_BIN_EXE_auction-server");
        let mut cmd = match shell {
            None => Process::new(bin),
            Some(shell) => {
                let mut bash = Process::new("bash");
                let script = format!("{shell} exec \"$0\" \"$@\"");
                bash.args(["-c", &script, bin]);
                bash
            }
        };
        cmd.args([
            "--data",
            data.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--ssh-listen",
            "127.0.0.1:0",
        ])
        .args(extra)
        .env(
            "AUCTION_LOG",
            std::env::var("AUCTION_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
        if let Some((log, level)) = log {
            cmd.env("AUCTION_LOG", level)
                .stderr(std::fs::File::create(log).unwrap());
        }
        for user in ACCOUNTS {
            if user != "viewer" {
                cmd.env(
                    format!("AUCTION_PASSWORD_{}", user.to_uppercase()),
                    password(user),
                );
            }
        }
        let mut child = cmd.spawn().expect("start auction-server");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut stdout = Vec::new();
        let mut ssh = None;
        let (scheme, addr) = loop {
            let line = lines
                .next()
                .expect("the server exited before listening")
                .unwrap();
            stdout.push(line.clone());
            if let Some((scheme, rest)) = line
                .strip_prefix("listening on ")
                .and_then(|l| l.split_once("://"))
            {
                break (
                    scheme.to_string(),
                    rest.split('/').next().unwrap().to_string(),
                );
            }
        };
        // The SSH line follows the data line.
        for _ in 0..4 {
            let Some(Ok(line)) = lines.next() else { break };
            stdout.push(line.clone());
            if let Some(rest) = line.strip_prefix("ssh on ") {
                ssh = rest.split(' ').next().map(str::to_string);
            }
            if line.starts_with("connect:") {
                break;
            }
        }
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        ServerProc {
            child,
            url: format!("{scheme}://{addr}/ws"),
            addr,
            data: data.to_path_buf(),
            stdout,
            ssh,
        }
    }

    /// SIGKILL: no goodbye, no flush beyond what was acknowledged.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// How the process ended, if it did within `limit`.
    pub fn exit_within(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let until = std::time::Instant::now() + limit;
        while std::time::Instant::now() < until {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Process::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the server did not stop within 5 s of SIGTERM");
    }
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The server started in this process as the binary starts it (on
/// 127.0.0.1 port 0, with SSH when `ssh` is given), every account's
/// password [`password`].
pub async fn in_process(
    dir: &Path,
    ssh: Option<auction_server::ssh::SshLimits>,
) -> auction_server::startup::Running {
    in_process_with(dir, ssh, auction_server::league::bundled()).await
}

/// [`in_process`] on another league.
pub async fn in_process_with(
    dir: &Path,
    ssh: Option<auction_server::ssh::SshLimits>,
    league: auction_server::league::LeagueConfig,
) -> auction_server::startup::Running {
    let opts = auction_server::startup::Options {
        data_dir: dir.to_path_buf(),
        league,
        listen: "127.0.0.1:0".into(),
        limits: auction_server::limits::Limits::default(),
        engine: auction_server::engine::EngineConfig::default(),
        ssh_listen: ssh.is_some().then(|| "127.0.0.1:0".into()),
        ssh_limits: ssh.unwrap_or_default(),
        origins: Default::default(),
        tls: None,
    };
    auction_server::startup::start(opts, |var| {
        let user = var.strip_prefix("AUCTION_PASSWORD_")?.to_lowercase();
        (user != "viewer").then(|| password(&user))
    })
    .await
    .unwrap()
}

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A protocol client that keeps its own copy of the state.
pub struct Client {
    pub ws: Ws,
    pub user: String,
    pub token: String,
    /// The team's shortlist, as the welcome gave it (team accounts only).
    pub shortlist: Option<Vec<auction_proto::msg::ShortlistEntry>>,
    pub seq: u64,
    pub state: State,
    /// Request ids are remembered by the server (even across restarts):
    /// each client instance uses its own prefix.
    id_prefix: u64,
    next_id: u64,
}

pub async fn connect(url: &str) -> Ws {
    tokio_tungstenite::connect_async(url)
        .await
        .expect("connect")
        .0
}

/// A WebSocket from the loopback address `source` (127.0.0.2, ...), which
/// the server sees as another machine.
pub async fn connect_from(url: &str, source: &str) -> Ws {
    let addr: std::net::SocketAddr = url
        .trim_start_matches("ws://")
        .trim_end_matches("/ws")
        .parse()
        .unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    let stream = socket.connect(addr).await.expect("connect");
    tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream))
        .await
        .expect("handshake")
        .0
}

/// Logs in on `ws` with `password`; the server's answer.
pub async fn try_login(ws: &mut Ws, user: &str, password: &str) -> ServerMsg {
    let login = ClientMsg::Login {
        v: PROTOCOL_VERSION,
        user: user.into(),
        password: password.into(),
    };
    send(ws, &login).await;
    recv(ws).await
}

pub async fn send(ws: &mut Ws, msg: &ClientMsg) {
    ws.send(Message::Text(serde_json::to_string(msg).unwrap().into()))
        .await
        .unwrap();
}

/// The next protocol message (5 s at most).
pub async fn recv(ws: &mut Ws) -> ServerMsg {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("no message within 5 s")
            .expect("connection closed")
            .expect("websocket error");
        match msg {
            Message::Text(t) => {
                return serde_json::from_str(&t).unwrap_or_else(|e| panic!("{e}: {t}"));
            }
            Message::Close(f) => panic!("closed by the server: {f:?}"),
            _ => {}
        }
    }
}

/// Nothing arrives for `ms` milliseconds.
pub async fn silent(ws: &mut Ws, ms: u64) -> bool {
    loop {
        match tokio::time::timeout(Duration::from_millis(ms), ws.next()).await {
            Err(_) => return true,
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            Ok(other) => {
                eprintln!("unexpected: {other:?}");
                return false;
            }
        }
    }
}

pub fn login_msg(user: &str) -> ClientMsg {
    ClientMsg::Login {
        v: PROTOCOL_VERSION,
        user: user.into(),
        password: if user == "viewer" {
            String::new()
        } else {
            password(user)
        },
    }
}

impl Client {
    pub async fn login(url: &str, user: &str) -> Client {
        let mut ws = connect(url).await;
        send(&mut ws, &login_msg(user)).await;
        match recv(&mut ws).await {
            ServerMsg::Welcome {
                token,
                snapshot: Some(snap),
                shortlist,
                ..
            } => Client {
                ws,
                user: user.into(),
                token,
                shortlist,
                seq: snap.seq,
                state: snap.state,
                id_prefix: rand::random(),
                next_id: 0,
            },
            other => panic!("login as {user}: {other:?}"),
        }
    }

    /// Sends a command with a fresh id; returns the id.
    pub async fn send_cmd(&mut self, command: Command) -> String {
        self.next_id += 1;
        let id = format!("{}-{:x}-{}", self.user, self.id_prefix, self.next_id);
        self.send_cmd_id(&id, command).await;
        id
    }

    pub async fn send_cmd_id(&mut self, id: &str, command: Command) {
        send(
            &mut self.ws,
            &ClientMsg::Command {
                id: id.into(),
                command,
            },
        )
        .await;
    }

    /// Sends a command and waits for its answer, folding events that arrive meanwhile.
    pub async fn cmd(&mut self, command: Command) -> Result<u64, (RejectCode, String)> {
        let id = self.send_cmd(command).await;
        self.answer(&id).await
    }

    pub async fn answer(&mut self, id: &str) -> Result<u64, (RejectCode, String)> {
        loop {
            match recv(&mut self.ws).await {
                ServerMsg::Accepted { id: got, seq } if got == id => return Ok(seq),
                ServerMsg::Rejected {
                    id: got,
                    code,
                    message,
                } if got == id => return Err((code, message)),
                ServerMsg::Event(e) => self.fold(e),
                ServerMsg::Error { code, message } => panic!("error {code:?}: {message}"),
                _ => {}
            }
        }
    }

    pub fn fold(&mut self, e: Entry) {
        assert_eq!(
            e.seq,
            self.seq + 1,
            "{}: gap or repeat in the event feed",
            self.user
        );
        self.state.apply(&e.event);
        self.seq = e.seq;
    }

    /// Waits for the next event and folds it.
    pub async fn next_event(&mut self) -> Entry {
        loop {
            if let ServerMsg::Event(e) = recv(&mut self.ws).await {
                self.fold(e.clone());
                return e;
            }
        }
    }

    /// Folds events until `seq` is reached.
    pub async fn catch_up(&mut self, seq: u64) {
        while self.seq < seq {
            self.next_event().await;
        }
    }

    pub async fn expect_error(&mut self) -> (ErrorCode, String) {
        match recv(&mut self.ws).await {
            ServerMsg::Error { code, message } => (code, message),
            other => panic!("expected an error, got {other:?}"),
        }
    }
}

/// `GET path` over plain HTTP; returns (status line, body).
pub async fn http_get(addr: &str, path: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = String::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_string(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let (head, body) = buf.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_string(), body.to_string())
}

/// The presenter, with the auction started and `player` on the block.
pub async fn presenter_with_lot(url: &str, player: u32) -> Client {
    let mut presenter = Client::login(url, "presenter").await;
    presenter
        .cmd(Command::Start { seed: Some(1) })
        .await
        .unwrap();
    presenter
        .cmd(Command::Nominate {
            player: auction_proto::PlayerId(player),
        })
        .await
        .unwrap();
    presenter
}

/// Sends `msg` and returns the code of the error it must get.
pub async fn error_for(ws: &mut Ws, msg: &ClientMsg) -> ErrorCode {
    send(ws, msg).await;
    match recv(ws).await {
        ServerMsg::Error { code, .. } => code,
        other => panic!("{msg:?}: expected an error, got {other:?}"),
    }
}

/// An SSH client that takes any host key (the test server's is new each run).
pub struct AcceptAnyHost;

impl russh::client::Handler for AcceptAnyHost {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}
pub mod screen;
