//! `wss://` end to end: the real server with a certificate, and the
//! terminal client's connection trusting it (or not).

#[path = "common/server.rs"]
mod server;

use auction_proto::Command;
use auction_proto::msg::{ClientMsg, ServerMsg};
use auction_tui::net::WsClient;
use server::{pw, start_server_with};

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
    let mut conn = WsClient::connect(&server.url, Some(&cert)).await.unwrap();
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
    let untrusted = WsClient::connect(&server.url, None).await;
    assert!(untrusted.is_err(), "an unknown certificate was accepted");
    let plain = server.url.replacen("wss://", "ws://", 1);
    assert!(tokio_tungstenite::connect_async(plain).await.is_err());
    // A CA file that holds no certificate is a clear error.
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let err = WsClient::connect(&server.url, Some(&empty))
        .await
        .err()
        .expect("an empty CA file was accepted")
        .to_string();
    assert!(err.contains("no certificate"), "{err}");
}
