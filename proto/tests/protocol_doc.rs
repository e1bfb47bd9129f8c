//! Every example in docs/protocol.md is a real message, and every message,
//! command, event and rejection code has an example there.

use std::collections::BTreeSet;

use auction_proto::command::CommandKind;
use auction_proto::event::EventKind;
use auction_proto::msg::{ClientMsg, ClientMsgKind, ServerMsg, ServerMsgKind};
use auction_proto::{Command, Event, RejectCode};
use strum::VariantArray;

const DOC: &str = include_str!("../../docs/protocol.md");

/// (info string, body) of every fenced block.
fn blocks() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = DOC.lines();
    while let Some(line) = lines.next() {
        if let Some(info) = line.strip_prefix("```")
            && !info.is_empty()
        {
            let body: Vec<&str> = lines
                .by_ref()
                .take_while(|l| !l.starts_with("```"))
                .collect();
            out.push((info.trim().to_string(), body.join("\n")));
        }
    }
    out
}

fn names<K: Copy + Into<&'static str>>(kinds: &[K]) -> Vec<&'static str> {
    kinds.iter().map(|&k| k.into()).collect()
}

fn tag(json: &str, key: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v[key].as_str().unwrap().to_string()
}

#[test]
fn every_example_parses_and_round_trips() {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for (info, body) in blocks() {
        match info.as_str() {
            "json client" => {
                let msg: ClientMsg =
                    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}:\n{body}"));
                let again: ClientMsg =
                    serde_json::from_str(&serde_json::to_string(&msg).unwrap()).unwrap();
                assert_eq!(msg, again);
                seen.insert(format!("client:{}", tag(&body, "type")));
            }
            "json server" => {
                let msg: ServerMsg =
                    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}:\n{body}"));
                let again: ServerMsg = serde_json::from_str(&msg.to_json()).unwrap();
                assert_eq!(msg, again);
                seen.insert(format!("server:{}", tag(&body, "type")));
            }
            "json command" => {
                let cmd: Command =
                    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}:\n{body}"));
                assert_eq!(cmd.name(), tag(&body, "cmd"), "the name is serde's tag");
                seen.insert(format!("command:{}", cmd.name()));
            }
            "json event" => {
                let ev: Event =
                    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}:\n{body}"));
                assert_eq!(ev.kind(), tag(&body, "kind"), "the kind is serde's tag");
                seen.insert(format!("event:{}", ev.kind()));
            }
            "python" => {
                let file = include_str!("../../server/tests/python/bid.py");
                assert_eq!(
                    body.trim(),
                    file.trim(),
                    "the Python example differs from server/tests/python/bid.py"
                );
            }
            other => panic!("unexpected block type `{other}`"),
        }
    }
    // The lists come from the types: a new message, command or event
    // cannot go undocumented.
    let every = |kind: &str, names: Vec<&'static str>| {
        for name in names {
            assert!(
                seen.contains(&format!("{kind}:{name}")),
                "no example of {kind} `{name}` in docs/protocol.md"
            );
        }
    };
    every("client", names(ClientMsgKind::VARIANTS));
    every("server", names(ServerMsgKind::VARIANTS));
    every("command", names(CommandKind::VARIANTS));
    every("event", names(EventKind::VARIANTS));
}

#[test]
fn every_rejection_code_is_documented() {
    for &code in RejectCode::ALL {
        assert!(
            DOC.contains(&format!("| `{}` |", code.as_str())),
            "`{code}` is not in the table"
        );
    }
}
