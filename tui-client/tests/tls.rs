//! `wss://` end to end: the real server with a certificate, and the
//! terminal client's connection trusting it (or not).

#[path = "common/server.rs"]
mod server;

use auction_proto::Command;
use auction_proto::msg::{ClientMsg, ServerMsg};
use auction_tui::net::{Trust, WsClient};
use server::{pw, start_server_with};

fn ca(file: &std::path::Path) -> Trust {
    Trust {
        ca: Some(file.to_path_buf()),
        ..Trust::default()
    }
}

/// A self-signed certificate for 127.0.0.1, written as PEM files.
fn certificate(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    (cert_path, key_path)
}

#[tokio::test]
async fn wss_with_a_generated_certificate_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(dir.path());
    let data = dir.path().join("data");
    let server = start_server_with(
        &data,
        "127.0.0.1:0",
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(server.url.starts_with("wss://"), "{}", server.url);
    // The terminal client's connection, trusting the league's certificate.
    let mut conn = WsClient::connect(&server.url, &ca(&cert)).await.unwrap();
    let welcome = conn.login("presenter", &pw("presenter")).await.unwrap();
    assert_eq!(welcome.user, "presenter");
    conn.send(&ClientMsg::Command {
        id: "tls-1".into(),
        command: Command::Start { seed: Some(1) },
    })
    .await
    .unwrap();
    // The answer, and the event itself (queued by the fan-out and written
    // through TLS by the session).
    let (mut accepted, mut event) = (false, false);
    while !(accepted && event) {
        match conn.recv_raw().await.unwrap().0 {
            ServerMsg::Accepted { id, seq } => {
                assert_eq!((id.as_str(), seq), ("tls-1", 1));
                accepted = true;
            }
            ServerMsg::Event(e) => {
                assert_eq!(e.seq, 1);
                event = true;
            }
            ServerMsg::Presence { .. } => {}
            other => panic!("{other:?}"),
        }
    }
    // Without the certificate trusted, or without TLS, there is no session.
    let untrusted = WsClient::connect(&server.url, &Trust::default()).await;
    assert!(untrusted.is_err(), "an unknown certificate was accepted");
    let plain = server.url.replacen("wss://", "ws://", 1);
    assert!(tokio_tungstenite::connect_async(plain).await.is_err());
    // A CA file that holds no certificate is a clear error.
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let err = WsClient::connect(&server.url, &ca(&empty))
        .await
        .err()
        .expect("an empty CA file was accepted")
        .to_string();
    assert!(err.contains("no certificate"), "{err}");
}

/// The README's TLS recipe, run as written: its commands through bash, with
/// the binaries on PATH, in a fresh directory, with this machine's loopback
/// address and a free port for the room's, and the fingerprint the server
/// printed where the README shows an example one.
#[test]
fn the_readme_tls_recipe_works_as_written() {
    let readme = include_str!("../../README.md");
    let block = readme
        .split("```sh tls-recipe\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("README has no tls-recipe block");
    let lines: Vec<&str> = block
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let [addr_line, server_line, pinned_line, ca_line] = lines.as_slice() else {
        panic!("the recipe changed shape: {lines:?}");
    };
    assert!(addr_line.starts_with("ADDR="), "{addr_line}");
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port().to_string()
    };
    let here = |line: &str| line.replace(":7878", &format!(":{port}"));
    let dir = tempfile::tempdir().unwrap();
    let bin_dir = server::server_bin().parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let bash = |line: &str| {
        let mut cmd = std::process::Command::new("bash");
        cmd.args(["-c", &format!("ADDR=127.0.0.1; {}", here(line))])
            .current_dir(dir.path())
            .env("PATH", &path)
            .env("AUCTION_SSH_LISTEN", "127.0.0.1:0")
            .env("AUCTION_LOG", "warn")
            .env_remove("AUCTION_PASSWORD");
        cmd
    };
    let mut server = bash(server_line)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = std::io::BufReader::new(server.stdout.take().unwrap());
    let mut lines = std::io::BufRead::lines(stdout).map(Result::unwrap);
    let fingerprint = lines
        .find_map(|l| {
            l.strip_prefix("tls certificate ")
                .map(|rest| rest.split(':').take(2).collect::<Vec<_>>().join(":"))
        })
        .expect("the server printed no fingerprint");
    // Keep reading, so the server never writes into a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    assert!(fingerprint.starts_with("SHA256:"), "{fingerprint}");
    let with_fingerprint = pinned_line.replace("SHA256:Xy3w...", &fingerprint);
    for line in [with_fingerprint.as_str(), *ca_line] {
        let out = bash(line).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("(seq 0"),
            "{line}: {}\n{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Another certificate's fingerprint is refused.
    let wrong = pinned_line.replace("SHA256:Xy3w...", &format!("SHA256:{}", "A".repeat(43)));
    let out = bash(&wrong).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "a wrong fingerprint was accepted"
    );
    let _ = server.kill();
    let _ = server.wait();
}
