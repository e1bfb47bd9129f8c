//! `auction-tui`: flags only; the work is in the library.

use std::process::ExitCode;

use auction_tui::ctl::{self, CtlArgs, CtlCommand};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "auction-tui",
    version,
    about = "Terminal screens and a headless client for the auction"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Headless client for scripts: one command, exit 0 accepted / 1 rejected / 2 error.
    Ctl(CtlArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
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
        None => {
            eprintln!("the interactive screens are not built yet; use `auction-tui ctl --help`");
            ExitCode::from(2)
        }
    }
}
