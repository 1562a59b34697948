//! `parley`: the local server; `parley bootstrap` prepares a local AWS emulator;
//! `parley openapi` prints the API's OpenAPI document; `parley dynamodb-table` prints the
//! table's shape as the deployment reads it (`docs/dynamodb-table.json`).

mod bootstrap;

use anyhow::Context;
use parley_local::{LocalConfig, build};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    parley_pdf::serve_worker_if_asked(); // `parley --parley-pdf-worker`: see parley-pdf
    // Before logging starts: its stdout is for `eval`.
    if std::env::args().nth(1).as_deref() == Some("bootstrap") {
        return bootstrap::run().await;
    }
    if std::env::args().nth(1).as_deref() == Some("openapi") {
        print!("{}", parley_api::openapi::document_json());
        return Ok(());
    }
    if std::env::args().nth(1).as_deref() == Some("dynamodb-table") {
        print!("{}", parley_aws::bootstrap::table_definition_json());
        return Ok(());
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    if std::env::var("PARLEY_LOG_FORMAT").as_deref() == Ok("json") {
        tracing_subscriber::fmt().json().with_env_filter(filter).init();
    } else {
        let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
        tracing_subscriber::fmt()
            .compact()
            .with_ansi(ansi)
            .with_env_filter(filter)
            .init();
    }
    let config = LocalConfig::from_env()?;
    let serving = parley_local::serve::ServeConfig::from_env()?;
    let aws_mode = std::env::var("PARLEY_MODE").as_deref() == Ok("aws");
    let (router, parley) = if aws_mode {
        (parley_local::build_aws().await?, None)
    } else {
        let app = build(&config, None)?;
        (app.router, Some(app.parley))
    };
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], config.port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let web = parley_local::web::WebConfig::from_env();
    if aws_mode {
        println!(
            "\nParley (PARLEY_MODE=aws) is running at http://{}\n",
            listener.local_addr()?
        );
        print_web(listener.local_addr()?, web.available());
    } else {
        print_banner(&config, listener.local_addr()?, web.available());
    }
    let router = parley_local::web::attach(router, &web);
    let hosts = parley_local::host::AllowedHosts::new(listener.local_addr()?.port(), &config.public_url);
    let router = parley_local::host::guard(router, hosts);
    parley_local::serve::run(listener, router, &serving, shutdown()).await?;
    // Replies being written when the signal came: they finish, up to the same bound;
    // what is left is stored as failed rather than left `streaming`.
    if let Some(parley) = parley {
        let failed = parley.drain(serving.shutdown_timeout).await;
        if failed > 0 {
            tracing::warn!(failed, "replies still being written at shutdown were failed");
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// Where the web app opens, or how to get one.
fn print_web(addr: std::net::SocketAddr, available: bool) {
    if available {
        println!("Open http://{addr} in a browser for the web app.\n");
    } else {
        println!("(No web app: `make run` builds it, or PARLEY_WEB_DIR names a built `web/dist`.)\n");
    }
}

fn print_banner(config: &LocalConfig, addr: std::net::SocketAddr, web: bool) {
    let url = format!("http://{addr}");
    println!("\nParley is running at {url} (data in {})\n", config.data_dir.display());
    print_web(addr, web);
    // The quick start signs in with the development sign-in; without it there is none.
    if config.dev_sign_in {
        println!(
            "Quick start (see the README):\n  \
             ALICE=$(curl -s -X POST {url}/dev/sign-in -H 'content-type: application/json' -d '{{\"email\":\"alice@example.com\"}}' | jq -r .idToken)\n  \
             curl -s -X POST {url}/create-chat -H \"authorization: Bearer $ALICE\" -H 'content-type: application/json' -d '{{\"title\":\"Pirate\",\"systemPrompt\":\"Talk like a pirate.\"}}'\n"
        );
    }
    if config.dev_sign_in {
        let notice = "development sign-in is on: anyone who can reach this server can sign in as anyone \
                      (PARLEY_DEV_SIGN_IN=off turns it off)";
        println!("NOTICE: {notice}\n");
        tracing::warn!("{notice}");
    }
    println!("Press Ctrl-C to stop.\n");
}

/// Resolves on Ctrl-C or SIGTERM, so in-flight requests finish before the process ends.
async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}
