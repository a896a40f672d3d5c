use std::process::ExitCode;

use clap::Parser;
use tally::app::{self, App};
use tally::config::{Cli, Command};
use tally::replay::Target;
use tally::{db, telemetry};

/// mimalloc, with `--features mimalloc`: fewer instructions per call, more memory held after
/// rendering documents (see benches/BENCHMARKS.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init_logs(&cli.log, cli.log_format);
    // One socket per connection: take the whole open-files allowance the system grants.
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        tracing::warn!(error = %e, "could not raise the open-files limit");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("tally: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli.command));
    // Everything has finished by now, but a blocking read on stdin (stdio, after the client
    // closed stdout) would hold a plain drop of the runtime forever: give it a moment only.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line an operator can act on; the cause chain is joined with ": ".
            eprintln!("tally: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => {
            let app = App::build(&args, None).await?;
            app.run_until_stopped(shutdown_signal()).await;
            Ok(())
        }
        Command::Stdio(args) => app::run_stdio(&args).await,
        Command::Replay(args) => {
            let recordings = tally::replay::load_all(&args.paths).map_err(anyhow::Error::msg)?;
            let target = match (args.url, args.database_url) {
                (Some(url), _) => Target::Url { url, token: args.token },
                (None, Some(db)) => {
                    Target::Stdio { tally: std::env::current_exe()?, database_url: db.0, token: args.token }
                }
                (None, None) => {
                    anyhow::bail!("--stdio needs DATABASE_URL (or --database-url) for the server it starts")
                }
            };
            match tally::replay::replay_all(&recordings, &target).await {
                0 => Ok(()),
                n => anyhow::bail!("{n} of {} sessions differ", recordings.len()),
            }
        }
        Command::Bench(args) => {
            let mut plan =
                if args.smoke { tally::bench::Plan::smoke() } else { tally::bench::Plan::full(args.duration) };
            plan.only = args.only;
            plan.growth = args.growth;
            if let Some(callers) = args.callers {
                plan.create_callers = vec![callers];
                plan.read_callers = callers;
            }
            let target = tally::bench::Target {
                url: args.url,
                database_url: args.database_url.0,
                server_pid: args.server_pid,
                pgbench: args.pgbench,
                peer: args.peer_url.map(|url| tally::bench::Peer { url, pid: args.peer_pid }),
            };
            eprintln!("{}", tally::bench::Report::HEADER);
            let report = tally::bench::run(&target, &plan).await?;
            println!("{}", report.table());
            if let Some(out) = args.out {
                std::fs::write(&out, serde_json::to_string_pretty(&report)?)?;
            }
            Ok(())
        }
        Command::Tenant(args) => tally::admin::tenant(&args).await,
        Command::Token(args) => tally::admin::token(&args).await,
        Command::Render(args) => tally::app::render(&args).await,
        Command::Migrate(args) => {
            let pool = db::connect(&args.settings()).await?;
            db::migrate(&pool).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
    }
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutdown signal received");
}
