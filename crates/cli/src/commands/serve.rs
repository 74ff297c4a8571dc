//! `mnist-burn serve`: the web page of the runs in a folder, and its JSON API.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use mnist_serve::AppState;
use mnist_train::BackendKind;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The folder whose runs to show (and sweeps' trials, one level down).
    #[arg(default_value = "runs", value_name = "RUNS_DIR")]
    runs_dir: PathBuf,
    /// Port to listen on (0: any free one; the address is printed).
    #[arg(long, short, default_value_t = 8080)]
    port: u16,
    /// Address to listen on. The default lets only this machine in; anything else exposes
    /// your runs and models to the network.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// Backend the models run on for predictions and evaluations (default: the first
    /// compiled one).
    #[arg(long, short, value_parser = crate::values::backend())]
    backend: Option<BackendKind>,
    /// The browser build to serve as the Train view, at /train/ (default: the one `just web`
    /// wrote beside this binary, if it did).
    #[arg(long, value_name = "DIR")]
    web: Option<PathBuf>,
}

/// What `just web` writes for this binary: `<target>/web` beside `<target>/release`.
fn browser_build_beside_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let folder = exe.parent()?.parent()?.join("web");
    folder.join("mnist_web_bg.wasm").is_file().then_some(folder)
}

pub fn exec(args: Args) -> anyhow::Result<()> {
    let backend = BackendKind::or_preferred(args.backend)?;
    let device = backend.usable_device()?;
    if !args.host.is_loopback() {
        tell!(
            "warning: listening on {}: anyone who can reach this machine can see your runs and \
             use your models; there is no authentication",
            args.host
        );
    }
    let mut state = AppState::new(args.runs_dir, device);
    match args.web {
        Some(folder) if !folder.join("index.html").is_file() => anyhow::bail!(
            "{}: not a browser build (no index.html; `just web` writes one)",
            folder.display()
        ),
        Some(folder) => state = state.with_browser_build(folder),
        None => {
            if let Some(folder) = browser_build_beside_binary() {
                state = state.with_browser_build(folder);
            }
        }
    }
    let address = SocketAddr::new(args.host, args.port);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .map_err(|error| anyhow::anyhow!("cannot listen on {address}: {error}"))?;
            mnist_serve::run(listener, state, mnist_serve::default_connection_cap()).await
        })
}
