//! The binary's offline sub-commands on a data directory (the server
//! stopped): `log`, `verify`, `replay`, `export`. Part of `main.rs`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use auction_proto::State;
use auction_screens::describe;
use auction_server::record;
use auction_server::store::Store;

/// Opens an existing data directory (never creates one).
pub fn open(data: &Path) -> anyhow::Result<Store> {
    if !data.join("db").exists() {
        bail!("there is no auction data in {}", data.display());
    }
    Store::open(data).with_context(|| {
        format!(
            "cannot open {} (is the server still running? stop it, or copy the directory and read the copy)",
            data.display()
        )
    })
}

/// `log`: the entries after `since`, as text or JSON lines.
pub fn log(
    store: &Store,
    fallback: &auction_proto::League,
    since: u64,
    json: bool,
) -> anyhow::Result<()> {
    let mut state = State::new(&record::league_of(store, fallback)?);
    let mut out = std::io::stdout().lock();
    for entry in store.all_entries() {
        let entry = entry?;
        if entry.seq > since {
            if json {
                writeln!(out, "{}", serde_json::to_string(&entry)?)?;
            } else {
                writeln!(out, "{}", describe::entry(&state, &entry))?;
            }
        }
        state.apply(&entry.event);
    }
    Ok(())
}

/// `verify`: exit 0 when intact, 1 at the first problem.
pub fn verify(store: &Store, fallback: &auction_proto::League) -> anyhow::Result<bool> {
    let v = record::verify(store, fallback)?;
    match &v.problem {
        None => {
            println!(
                "ok: {} entries, chained and replayable; head {}",
                v.entries, v.head
            );
            if v.unchained > 0 {
                println!(
                    "note: the first {} entries predate the hash chain and were not hash-checked",
                    v.unchained
                );
            }
            Ok(true)
        }
        Some(p) => {
            println!("TAMPERED OR CORRUPT at {p}");
            println!("the {} entries before it are intact", v.entries);
            Ok(false)
        }
    }
}

/// `replay`: the state after `to`.
pub fn replay(
    store: &Store,
    fallback: &auction_proto::League,
    to: Option<u64>,
    json: bool,
) -> anyhow::Result<()> {
    let (state, seq) = record::replay(store, fallback, to)?;
    if let Some(to) = to
        && seq < to
    {
        bail!("the log ends at seq {seq}, before {to}");
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&state)?);
    } else {
        print!("{}", describe::summary(&state, seq));
    }
    Ok(())
}

/// Where an export goes.
pub fn write_out(text: &str, out: Option<&PathBuf>) -> anyhow::Result<()> {
    match out {
        Some(path) => {
            std::fs::write(path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("written to {}", path.display());
        }
        None => print!("{}", for_stdout(text)),
    }
    Ok(())
}

/// What goes to standard output: exact when it is a file or a pipe; on a
/// terminal, control characters shown instead of acted on.
pub fn for_stdout(text: &str) -> std::borrow::Cow<'_, str> {
    if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        auction_proto::printable_lines(text).into()
    } else {
        text.into()
    }
}

/// `import-players`: true when imported (or, with `dry_run`, importable).
pub fn import(
    data: &Path,
    league: auction_proto::League,
    file: &Path,
    dry_run: bool,
) -> anyhow::Result<bool> {
    use auction_proto::{Access, Actor, Command};
    let csv =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let command = Command::ImportPlayers {
        csv,
        file: file.display().to_string(),
    };
    let admin = Actor::new("admin", Access::Admin);
    std::fs::create_dir_all(data).with_context(|| format!("cannot create {}", data.display()))?;
    let store = Store::open(data).with_context(|| {
        format!(
            "cannot open {} (is the server running? then use the admin console or `auction-tui ctl import-players`)",
            data.display()
        )
    })?;
    let league = record::league_of(&store, &league)?;
    if dry_run {
        let (state, _) = record::replay(&store, &league, None)?;
        let now = auction_server::engine::actor::system_now_ms();
        return Ok(
            match auction_server::engine::decide(&state, &command, &admin, now) {
                Ok(auction_proto::Event::PlayersImported { players }) => {
                    println!(
                        "ok: {} players would be imported (nothing changed)",
                        players.len()
                    );
                    true
                }
                Ok(other) => bail!("unexpected event {other:?}"),
                Err(r) => {
                    println!("refused: {}", r.message);
                    false
                }
            },
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let (engine, task) = auction_server::engine::spawn(store, &league, Default::default())?;
        let result = engine.submit(admin, None, command).await;
        drop(engine);
        task.await??;
        Ok(match result {
            Ok(seq) => {
                println!("imported (seq {seq})");
                true
            }
            Err(r) => {
                println!("refused: {}", r.message);
                false
            }
        })
    })
}
