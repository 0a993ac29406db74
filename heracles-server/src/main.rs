//! The `heracles-server` binary: loads the configuration (exit status 2 when it is
//! invalid), starts the server, prints the address it listens on, and serves until SIGTERM
//! or SIGINT, then finishes in-flight requests and exits 0. See the library's docs
//! (`heracles_server`) and `heracles-server --help`.

use std::future::Future;
use std::process::ExitCode;

use clap::Parser;
use heracles_core::error::ErrorCode;
use heracles_server::config::{Args, Config};
use heracles_server::server::Server;

/// mimalloc instead of glibc's malloc: under load, glibc's malloc/free (chunk consolidation
/// and unlinking) took about 45% of the server's CPU on list pages, most of it from the
/// many small allocations of BER decoding; mimalloc's thread-local free lists make that
/// a few percent (README, Performance). It keeps freed memory committed until a later
/// allocation or free purges it, which an idle server never makes, so one-off large blocks
/// do not come from it: Argon2's 19 MiB of working memory is taken from the C library and
/// unmapped after each hash (`heracles_core::password`), which keeps the idle RSS after a
/// first start (the bootstrap hashes the administrator's password) at ~15 MB, not 36 MB.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit status for an invalid configuration (the same as clap's usage errors).
const EXIT_CONFIG: u8 = 2;
/// Exit status for any other startup failure.
const EXIT_FAILURE: u8 = 1;

fn main() -> ExitCode {
    let args = Args::parse();
    let config = match Config::from_process(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("heracles-server: configuration error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    heracles_server::init_logging(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("heracles-server: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    runtime.block_on(run(config))
}

async fn run(config: Config) -> ExitCode {
    // Install the signal handlers before anything can ask for the address and signal us.
    let shutdown = match shutdown_signal() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("heracles-server: cannot install signal handlers: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let directory = config.describe_directory();
    let server = match Server::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "heracles-server: cannot start: {} ({})",
                e.message(),
                e.code()
            );
            return ExitCode::from(if e.code() == ErrorCode::InvalidConfig {
                EXIT_CONFIG
            } else {
                EXIT_FAILURE
            });
        }
    };
    println!(
        "heracles-server listening on {} ({directory})",
        server.url()
    );
    server.serve(shutdown).await;
    tracing::info!("stopped");
    ExitCode::SUCCESS
}

/// Completes on the first SIGTERM or SIGINT. The handlers are registered when this is
/// called, not when the future is first polled.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "shutdown requested");
    })
}

/// Completes on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    Ok(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("shutdown requested");
        }
    })
}
