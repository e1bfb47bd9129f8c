//! `auction-tui`: flags only; the work is in the library.

use std::process::ExitCode;

use auction_screens::app::App;
use auction_screens::event_loop::{self, Host, LoginRequest};
use auction_screens::link::Input;
use auction_tui::ctl::{self, CtlArgs, CtlCommand};
use auction_tui::host::LocalHost;
use auction_tui::net::Trust;
use clap::{Args, Parser, Subcommand};
use futures_util::StreamExt;
use tokio::sync::mpsc;

#[derive(Parser)]
#[command(
    name = "auction-tui",
    version,
    about = "Terminal screens and a headless client for the auction"
)]
struct Cli {
    #[command(flatten)]
    login: LoginArgs,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Args, Clone)]
struct LoginArgs {
    /// The server's WebSocket URL (default: the last one used, or the config's).
    #[arg(long, env = "AUCTION_SERVER")]
    server: Option<String>,
    /// The account to log in as. With AUCTION_PASSWORD set too, logs in at once.
    #[arg(long, env = "AUCTION_USER")]
    user: Option<String>,
    #[command(flatten)]
    trust: Trust,
}

#[derive(Subcommand)]
enum Cmd {
    /// The big screen for a projector, as the viewer account.
    View {
        #[arg(long, env = "AUCTION_SERVER")]
        server: Option<String>,
        #[command(flatten)]
        trust: Trust,
    },
    /// Headless client for scripts: one command, exit 0 accepted / 1 rejected / 2 error.
    Ctl(CtlArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Some(Cmd::Ctl(args)) => {
            let password = ctl::password(&args.user);
            let watch = matches!(args.command, CtlCommand::Watch);
            let outcome = runtime.block_on(async {
                if watch {
                    ctl::run(args, password).await
                } else {
                    match tokio::time::timeout(ctl::TIMEOUT, ctl::run(args, password)).await {
                        Ok(o) => o,
                        Err(_) => {
                            eprintln!(
                                "error: no answer from the server within {} s",
                                ctl::TIMEOUT.as_secs()
                            );
                            ctl::Outcome::Failed
                        }
                    }
                }
            });
            ExitCode::from(outcome.code())
        }
        Some(Cmd::View { server, trust }) => {
            interactive(&runtime, server, Some("viewer".into()), trust, true)
        }
        None => interactive(
            &runtime,
            cli.login.server,
            cli.login.user,
            cli.login.trust,
            false,
        ),
    }
}

fn interactive(
    runtime: &tokio::runtime::Runtime,
    server: Option<String>,
    user: Option<String>,
    trust: Trust,
    view: bool,
) -> ExitCode {
    let settings = match auction_tui::config::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let last = auction_tui::config::last_login();
    let server = server.or(last.server).unwrap_or(settings.server);
    let user = user.or(last.user).unwrap_or_default();
    let password = std::env::var("AUCTION_PASSWORD").ok();
    runtime.block_on(async move {
        let mut host = LocalHost::new(trust);
        let mut app = App::with_login(settings.keymap, host.now_ms(), &server, &user);
        app.set_request_prefix(rand::random());
        app.ui.no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        // Log in at once for the big screen, or when the password is given.
        let login = match (&password, view) {
            (_, true) => Some(LoginRequest {
                server: server.clone(),
                user: "viewer".into(),
                password: password.clone().unwrap_or_default(),
            }),
            (Some(pw), false) if !user.is_empty() => Some(LoginRequest {
                server: server.clone(),
                user: user.clone(),
                password: pw.clone(),
            }),
            _ => None,
        };
        if login.is_some() {
            app.session.server = Some(server.clone());
        }
        let link = login.clone().map(|l| host.connect(l));
        let (tx, rx) = mpsc::channel(256);
        tokio::spawn(async move {
            let mut events = crossterm::event::EventStream::new();
            while let Some(ev) = events.next().await {
                let input = match ev {
                    Ok(crossterm::event::Event::Key(k)) => Input::Key(k),
                    Ok(crossterm::event::Event::Resize(w, h)) => Input::Resize(w, h),
                    Ok(_) => continue,
                    Err(_) => Input::Closed,
                };
                if tx.send(input).await.is_err() {
                    break;
                }
            }
        });
        let mut terminal = ratatui::init();
        let result = event_loop::run(&mut terminal, &mut app, rx, &mut host, link).await;
        ratatui::restore();
        match result {
            Ok(ended) => {
                // A login given on the command line counts once it got in.
                let succeeded = ended
                    .logged_in
                    .or(login.filter(|_| app.session.access.is_some()));
                if let Some(l) = succeeded.filter(|_| !view) {
                    auction_tui::config::remember(&l.server, &l.user);
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        }
    })
}
