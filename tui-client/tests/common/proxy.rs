//! A fault-injecting TCP proxy on loopback, between a client and the server:
//! it can cut every connection, stall all traffic for a while, or leave the
//! client's connections half-open (the server side gone, the client told
//! nothing, as after a laptop sleeps or the Wi-Fi drops).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::AbortHandle;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    Pass,
    /// Hold every byte (both ways) until the flow passes again.
    Stall,
    /// Swallow every byte and never close: a half-open connection.
    Blackhole,
}

struct Piped {
    flow: watch::Sender<Flow>,
    task: AbortHandle,
}

pub struct Proxy {
    pub addr: SocketAddr,
    global: watch::Sender<Flow>,
    conns: Arc<Mutex<Vec<Piped>>>,
    accept: AbortHandle,
}

impl Proxy {
    pub async fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let global = watch::Sender::new(Flow::Pass);
        let conns: Arc<Mutex<Vec<Piped>>> = Arc::default();
        let (upstream, g, c) = (upstream.to_string(), global.clone(), conns.clone());
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                let flow = watch::Sender::new(Flow::Pass);
                let task = tokio::spawn(pipe(client, server, g.subscribe(), flow.subscribe()));
                c.lock().unwrap().push(Piped {
                    flow,
                    task: task.abort_handle(),
                });
            }
        });
        Proxy {
            addr,
            global,
            conns,
            accept: accept.abort_handle(),
        }
    }

    /// Closes every connection now (both sides see it end).
    pub fn cut(&self) {
        for c in self.conns.lock().unwrap().drain(..) {
            c.task.abort();
        }
    }

    /// Holds all traffic, on open and new connections, until `resume`.
    pub fn stall(&self) {
        self.global.send_replace(Flow::Stall);
    }

    pub fn resume(&self) {
        self.global.send_replace(Flow::Pass);
    }

    /// Every open connection goes silent for good, without being closed.
    pub fn half_open(&self) {
        for c in self.conns.lock().unwrap().iter() {
            c.flow.send_replace(Flow::Blackhole);
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

async fn pipe(
    client: TcpStream,
    server: TcpStream,
    global: watch::Receiver<Flow>,
    own: watch::Receiver<Flow>,
) {
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    tokio::select! {
        () = pump(cr, sw, global.clone(), own.clone()) => {}
        () = pump(sr, cw, global, own) => {}
    }
}

/// Copies `src` to `dst` as the flow allows; returns when either side ends
/// (except in a black hole, which never ends on its own).
async fn pump(
    mut src: OwnedReadHalf,
    mut dst: OwnedWriteHalf,
    mut global: watch::Receiver<Flow>,
    mut own: watch::Receiver<Flow>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match src.read(&mut buf).await {
            Ok(0) | Err(_) => 0,
            Ok(n) => n,
        };
        // Wait while stalled; a black hole swallows (and never closes).
        let flow = loop {
            let flow = match (*own.borrow(), *global.borrow()) {
                (Flow::Blackhole, _) => Flow::Blackhole,
                (_, g) => g,
            };
            if flow != Flow::Stall {
                break flow;
            }
            tokio::select! {
                _ = global.changed() => {}
                _ = own.changed() => {}
            }
        };
        match (flow, n) {
            (Flow::Blackhole, 0) => std::future::pending::<()>().await,
            (Flow::Blackhole, _) => continue,
            (_, 0) => return,
            _ => {
                if dst.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}
