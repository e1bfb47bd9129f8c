//! A real headless Chromium, driven over the DevTools protocol (a
//! WebSocket, JSON messages): open a page, read its DOM, take screenshots,
//! and collect JavaScript errors.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Debian's Chromium, or `$CHROMIUM`.
pub fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

pub struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
    ws: Ws,
    next_id: u64,
    session: Option<String>,
    /// JavaScript errors seen so far: exceptions and `console.error`.
    pub errors: Vec<String>,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    /// Starts Chromium with nothing of its own on the network (this
    /// machine's network is closed) and a fresh profile.
    pub async fn launch() -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(chromium())
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--remote-debugging-port=0",
                "about:blank",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e} (apt-get install chromium)", chromium()));
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let url = loop {
            let line = lines.next().expect("chromium exited").unwrap();
            if let Some(url) = line.strip_prefix("DevTools listening on ") {
                break url.trim().to_string();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        let (ws, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .unwrap();
        Browser {
            child,
            _profile: profile,
            ws,
            next_id: 0,
            session: None,
            errors: Vec::new(),
        }
    }

    /// Calls a DevTools method (on the page, once one is open); events that
    /// arrive meanwhile are looked through for errors.
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = &self.session {
            msg["sessionId"] = json!(s);
        }
        self.ws
            .send(Message::Text(msg.to_string().into()))
            .await
            .unwrap();
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(20), self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("{method}: no answer"))
                .expect("devtools closed")
                .unwrap();
            let Message::Text(text) = frame else { continue };
            let v: Value = serde_json::from_str(&text).unwrap();
            if v["id"] == id {
                if let Some(e) = v.get("error") {
                    panic!("{method}: {e}");
                }
                return v["result"].clone();
            }
            self.note(&v);
        }
    }

    fn note(&mut self, v: &Value) {
        let p = &v["params"];
        match v["method"].as_str() {
            Some("Runtime.exceptionThrown") => self.errors.push(p["exceptionDetails"].to_string()),
            Some("Runtime.consoleAPICalled") if p["type"] == "error" => {
                self.errors.push(p["args"].to_string())
            }
            // The browser's own network messages (a refused reconnect while
            // the server is down) are not the page's errors.
            Some("Log.entryAdded")
                if p["entry"]["level"] == "error" && p["entry"]["source"] != "network" =>
            {
                self.errors.push(p["entry"].to_string())
            }
            _ => {}
        }
    }

    /// Opens `url` in a new tab of `width` x `height` CSS pixels.
    pub async fn open(&mut self, url: &str, width: u32, height: u32, mobile: bool) {
        let target = self
            .call("Target.createTarget", json!({"url": "about:blank"}))
            .await;
        let attached = self
            .call(
                "Target.attachToTarget",
                json!({"targetId": target["targetId"], "flatten": true}),
            )
            .await;
        self.session = Some(attached["sessionId"].as_str().unwrap().to_string());
        for domain in ["Runtime.enable", "Page.enable", "Log.enable"] {
            self.call(domain, json!({})).await;
        }
        self.resize(width, height, mobile).await;
        self.call("Page.navigate", json!({"url": url})).await;
    }

    pub async fn resize(&mut self, width: u32, height: u32, mobile: bool) {
        let metrics =
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile});
        self.call("Emulation.setDeviceMetricsOverride", metrics)
            .await;
    }

    /// The value of a JavaScript expression in the page.
    pub async fn eval(&mut self, expression: &str) -> Value {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true}),
            )
            .await;
        if let Some(e) = r.get("exceptionDetails") {
            panic!("{expression}: {e}");
        }
        r["result"]["value"].clone()
    }

    /// The text of the element with id `id` ("" when it has none).
    pub async fn text(&mut self, id: &str) -> String {
        let expr = format!("(document.getElementById({id:?}) || {{}}).textContent || ''");
        self.eval(&expr)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits until `expression` is true; how long it took. Panics after
    /// `within`, showing `show` (an expression) for the failure.
    pub async fn wait_for(&mut self, expression: &str, within: Duration) -> Duration {
        let start = Instant::now();
        loop {
            if self.eval(expression).await == json!(true) {
                return start.elapsed();
            }
            if start.elapsed() > within {
                let body = self.eval("document.body.innerText").await;
                panic!(
                    "`{expression}` not true within {within:?}; page:\n{}",
                    body.as_str().unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Asks the page for reduced motion, as a user's setting would.
    pub async fn reduce_motion(&mut self) {
        let features = json!([{"name": "prefers-reduced-motion", "value": "reduce"}]);
        self.call("Emulation.setEmulatedMedia", json!({"features": features}))
            .await;
    }

    /// A PNG of the page as shown.
    pub async fn screenshot(&mut self, path: &Path) {
        let shot = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }
}
