//! `nnc serve` in a real browser: headless Chromium, driven over the DevTools protocol.
//! The page loads and checks the program, Run trains it until the loss is below 0.01, the
//! decision boundary image changes while it trains, a syntax error shows its diagnostic
//! code, the fixed program runs again, and a change to the file on disk is offered and
//! taken. Screenshots of those moments are written to
//! `NNC_SCREENSHOTS` when it names a folder (docs/views/serve.md shows them).
//!
//! Chromium is `NNC_CHROMIUM`, else `chromium` on the PATH (`.ci/run` installs Debian's);
//! without it the test says SKIPPED.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use serde_json::{Value, json};
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use tungstenite::{Message, WebSocket, stream::MaybeTlsStream};

fn chromium() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("NNC_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    ["chromium", "chromium-browser", "google-chrome"].iter().find_map(|name| {
        let found = Command::new("which").arg(name).output().ok()?;
        found.status.success().then(|| PathBuf::from(String::from_utf8_lossy(&found.stdout).trim()))
    })
}

struct Browser {
    child: Child,
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    next: u64,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    fn launch(executable: &Path) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let child = Command::new(executable)
            .args(["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-port=0"])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(["--window-size=1280,860", "about:blank"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Chromium writes the port it chose into the profile folder.
        let port_file = profile.path().join("DevToolsActivePort");
        let started = Instant::now();
        let port = loop {
            if let Some(port) =
                std::fs::read_to_string(&port_file).ok().and_then(|t| t.lines().next()?.parse::<u16>().ok())
            {
                break port;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "Chromium did not start");
            std::thread::sleep(Duration::from_millis(100));
        };
        let pages: Value = serde_json::from_str(&http_get(port, "/json/list")).unwrap();
        let page = pages.as_array().unwrap().iter().find(|p| p["type"] == "page").unwrap();
        let (socket, _) = tungstenite::connect(page["webSocketDebuggerUrl"].as_str().unwrap()).unwrap();
        Browser { child, socket, next: 0, _profile: profile }
    }

    /// One DevTools call: its result.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        self.socket.send(Message::text(json!({ "id": id, "method": method, "params": params }).to_string())).unwrap();
        loop {
            let Message::Text(text) = self.socket.read().unwrap() else { continue };
            let reply: Value = serde_json::from_str(&text).unwrap();
            if reply["id"] == id {
                assert!(reply.get("error").is_none(), "{method}: {reply}");
                return reply["result"].clone();
            }
        }
    }

    /// The value of a JavaScript expression in the page.
    fn eval(&mut self, expression: &str) -> Value {
        let params = json!({ "expression": expression, "returnByValue": true, "awaitPromise": true });
        let result = self.call("Runtime.evaluate", params);
        result["result"]["value"].clone()
    }

    /// Waits until `expression` is true in the page.
    fn wait_for(&mut self, expression: &str, what: &str) {
        let started = Instant::now();
        while self.eval(expression) != json!(true) {
            let status = self.eval("document.getElementById('status').textContent");
            assert!(started.elapsed() < Duration::from_secs(60), "waited for {what}; status {status}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn screenshot(&mut self, name: &str) {
        let Ok(folder) = std::env::var("NNC_SCREENSHOTS") else { return };
        let shot = self.call("Page.captureScreenshot", json!({ "format": "png" }));
        use base64::Engine;
        let png = base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().unwrap()).unwrap();
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(Path::new(&folder).join(format!("{name}.png")), png).unwrap();
    }

    /// Replaces the editor's text as typing would (the page checks on `input`).
    fn type_program(&mut self, source: &str) {
        let text = serde_json::to_string(source).unwrap();
        self.eval(&format!(
            "(() => {{ const s = document.getElementById('source'); s.value = {text}; \
             s.dispatchEvent(new Event('input')); return true; }})()"
        ));
    }
}

/// A GET to Chromium's DevTools server, read up to its Content-Length (it may keep the
/// connection open).
fn http_get(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    std::io::Write::write_all(&mut stream, request.as_bytes()).unwrap();
    let mut reply = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&reply).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse::<usize>().ok())?
            });
            if length.is_some_and(|n| body.len() >= n) {
                return body.to_string();
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default(),
            Ok(n) => reply.extend_from_slice(&chunk[..n]),
        }
    }
}

#[test]
fn a_student_runs_xor_breaks_it_and_fixes_it_in_a_browser() {
    let Some(executable) = chromium() else {
        nnc_testkit::skip("nnc serve in headless Chromium", "Chromium is not installed (NNC_CHROMIUM, chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // Long enough (two seconds or so) to see the boundary move while it trains.
    let source =
        std::fs::read_to_string(root.join("examples/xor.nn")).unwrap().replace("epochs 2000", "epochs 3000000");
    let file = dir.path().join("xor.nn");
    std::fs::write(&file, &source).unwrap();
    let server = nnc_serve::Server::bind(&file, IpAddr::V4(Ipv4Addr::LOCALHOST), 0).unwrap();
    let url = server.url();
    let stop = Arc::new(AtomicU32::new(0));
    let flag = Arc::clone(&stop);
    let serving = std::thread::spawn(move || server.serve(&flag));

    let mut browser = Browser::launch(&executable);
    browser.call("Page.navigate", json!({ "url": url }));
    browser.wait_for("document.getElementById('status').textContent === 'valid'", "the program to check");
    // Coloured by the editors' grammar, under the editor's text, character for character.
    browser.wait_for("document.querySelector('#colours .t-layer') !== null", "the program's colours");
    let coloured = browser.eval(
        "(() => { const c = document.getElementById('colours'); const kinds = (k) => \
         [...c.querySelectorAll(k)].map((s) => s.textContent); return { same: c.textContent === \
         document.getElementById('source').value + '\\n', blocks: kinds('.t-block'), layers: kinds('.t-layer'), \
         comments: kinds('.t-comment').length, invalid: kinds('.t-invalid') }; })()",
    );
    assert_eq!(coloured["same"], true, "{coloured}");
    assert_eq!(coloured["blocks"], json!(["data", "model", "train", "on"]), "{coloured}");
    assert_eq!(coloured["layers"], json!(["input", "dense", "dense"]), "{coloured}");
    assert!(coloured["comments"].as_u64().unwrap() > 0 && coloured["invalid"] == json!([]), "{coloured}");
    browser.screenshot("serve-loaded");

    // Every image the decision boundary shows is recorded as it arrives, so that its
    // changes are seen however the events are batched.
    browser.eval(
        "window.boundaries = new Set(); new MutationObserver(() => \
         window.boundaries.add(document.getElementById('decision').src)).observe(\
         document.getElementById('decision'), { attributes: true, attributeFilter: ['src'] }), true",
    );
    browser.eval("document.getElementById('run').click(), true");
    browser.wait_for("!document.getElementById('decision').hidden", "the first decision boundary");
    browser.wait_for("Number(document.getElementById('chart').dataset.points) > 3", "a few epochs");
    browser.screenshot("serve-training");
    browser.wait_for("document.getElementById('status').textContent === 'done'", "the run to end");
    let last = browser.eval("Number(document.getElementById('chart').dataset.last)").as_f64().unwrap();
    assert!(last < 0.01, "the loss fell to {last}");
    let shown = browser.eval("window.boundaries.size").as_u64().unwrap();
    assert!(shown >= 2, "the decision boundary changed while training: {shown} distinct images");
    browser.screenshot("serve-trained");

    browser.type_program(&source.replace("loss mse", "loss mse("));
    browser.wait_for("document.getElementById('diagnostics').textContent.includes('E0')", "a diagnostic");
    let shown = browser.eval("document.getElementById('diagnostics').textContent");
    assert!(shown.as_str().unwrap().contains("E0"), "{shown}");
    browser.screenshot("serve-diagnostic");

    browser.type_program(&source.replace("epochs 3000000", "epochs 3000"));
    browser.wait_for("document.getElementById('status').textContent === 'valid'", "the fixed program to check");
    browser.eval("document.getElementById('run').click(), true");
    browser.wait_for("document.getElementById('status').textContent === 'done'", "the second run to end");
    let results = browser.eval("document.getElementById('results').textContent");
    assert!(results.as_str().unwrap().contains("after 3000 epochs"), "{results}");

    // The learning rate and seed fields override the program's.
    browser.eval("document.getElementById('lr').value = '0.5', document.getElementById('seed').value = '7', true");
    browser.eval("document.getElementById('run').click(), true");
    browser.wait_for(
        "document.getElementById('results').textContent.includes('(learning rate 0.5, seed 7)')",
        "the run with the page's learning rate and seed",
    );

    // Step shows the matrices of the next step, as `nnc trace` prints them.
    browser.eval("document.getElementById('reset').click(), true");
    browser.eval("document.getElementById('step').click(), true");
    browser.wait_for("document.getElementById('trace').textContent.startsWith('step 1 of')", "the first step's trace");
    browser.eval("document.getElementById('step').click(), true");
    browser.wait_for("document.getElementById('trace').textContent.startsWith('step 2 of')", "the second step's trace");
    browser.screenshot("serve-step");

    // Another editor changes the file: the page offers it, and takes it when asked.
    let edited = source.replace("epochs 3000000", "epochs 12");
    std::fs::write(&file, &edited).unwrap();
    browser.wait_for("!document.getElementById('changed').hidden", "the offer to reload");
    browser.screenshot("serve-changed-on-disk");
    browser.eval("document.getElementById('take').click(), true");
    browser.wait_for("document.getElementById('changed').hidden", "the reload");
    assert_eq!(browser.eval("document.getElementById('source').value"), json!(edited));

    stop.store(1, Ordering::SeqCst);
    serving.join().unwrap();
}
