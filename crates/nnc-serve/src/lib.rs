//! `nnc serve FILE`: a local page that shows a program training live. The server binds to
//! loopback (unless told otherwise), prints `http://127.0.0.1:PORT/?token=TOKEN`, and
//! answers only requests that carry the token, name it in `Host` and come from its own
//! page (`guard.rs`). The page edits, checks, saves and runs the program (`api.rs`); runs
//! happen in this process by nnc's compiled code, one at a time, and their progress
//! reaches the page as Server-Sent Events (`session.rs`). Every script and style is part
//! of the page (`page.rs`): nothing is loaded from the internet.

mod api;
mod guard;
mod page;
mod session;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// A bound server, not yet answering.
pub struct Server {
    http: Arc<tiny_http::Server>,
    addr: SocketAddr,
    guard: Arc<guard::Guard>,
    app: Arc<api::App>,
}

impl Server {
    /// Binds to `host:port` (port 0: a free one) for the program in `file`.
    pub fn bind(file: &Path, host: IpAddr, port: u16) -> Result<Server, String> {
        let http = tiny_http::Server::http(SocketAddr::new(host, port))
            .map_err(|e| format!("cannot listen on {host}:{port}: {e}"))?;
        let addr = http.server_addr().to_ip().ok_or("the server has no IP address")?;
        let base_dir = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
        let app = api::App { file: file.to_path_buf(), base_dir, log: Arc::default() };
        Ok(Server { http: Arc::new(http), addr, guard: Arc::new(guard::Guard::new(addr)), app: Arc::new(app) })
    }

    /// `http://127.0.0.1:PORT/?token=TOKEN`: the line to open.
    pub fn url(&self) -> String {
        let host = match self.addr {
            SocketAddr::V4(v4) => v4.ip().to_string(),
            SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
        };
        format!("http://{host}:{}/?token={}", self.addr.port(), self.guard.token)
    }

    pub fn program(&self) -> &PathBuf {
        &self.app.file
    }

    /// Answers requests, each on a thread of its own (a page's event stream stays open),
    /// until `stop` is set; then stops any run and returns.
    pub fn serve(&self, stop: &AtomicU32) {
        while stop.load(Ordering::Relaxed) == 0 {
            let Ok(Some(request)) = self.http.recv_timeout(Duration::from_millis(100)) else { continue };
            let (guard, app) = (Arc::clone(&self.guard), Arc::clone(&self.app));
            std::thread::spawn(move || answer(&guard, &app, request));
        }
        self.app.log.stop();
    }
}

fn answer(guard: &guard::Guard, app: &api::App, request: tiny_http::Request) {
    let header = |name: &'static str| {
        request.headers().iter().find(|h| h.field.equiv(name)).map(|h| h.value.as_str().to_string())
    };
    let (path, query) = request.url().split_once('?').unwrap_or((request.url(), ""));
    let (path, query) = (path.to_string(), query.to_string());
    let token = guard::query_value(&query, "token").map(str::to_string).or_else(|| header("X-NNC-Token"));
    match guard.check(header("Host").as_deref(), header("Origin").as_deref(), token.as_deref()) {
        Ok(()) => app.handle(request, &path, &query),
        Err(refusal) => {
            let _ = request.respond(api::error(403, refusal.message()));
        }
    }
}
