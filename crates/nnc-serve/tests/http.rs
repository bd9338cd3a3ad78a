//! `nnc serve` without a browser: the token, the Host and Origin checks, the paths it
//! refuses, checking, saving only the program file, and a run whose events (the decision
//! boundary among them) end with the loss `nnc run` reaches for the same program.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

struct Running {
    url: String,
    port: u16,
    token: String,
    stop: Arc<AtomicU32>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(1, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Running {
    /// A request as the page makes it: the server's own Host and the token.
    fn call(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let host = format!("127.0.0.1:{}", self.port);
        request(self.port, method, path, &[("Host", &host), ("X-NNC-Token", &self.token)], body)
    }
}

fn start(file: &Path) -> Running {
    let server = nnc_serve::Server::bind(file, IpAddr::V4(Ipv4Addr::LOCALHOST), 0).unwrap();
    let url = server.url();
    let (_, rest) = url.split_once("127.0.0.1:").unwrap();
    let (port, token) = rest.split_once("/?token=").unwrap();
    let stop = Arc::new(AtomicU32::new(0));
    let flag = Arc::clone(&stop);
    let thread = std::thread::spawn(move || server.serve(&flag));
    Running { url: url.clone(), port: port.parse().unwrap(), token: token.to_string(), stop, thread: Some(thread) }
}

/// One request (`headers` as written); the status code and the body.
fn request(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut text = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    stream.write_all(text.as_bytes()).unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    let status = reply.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = reply.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

fn example(dir: &Path) -> std::path::PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let file = dir.join("xor.nn");
    std::fs::copy(root.join("examples/xor.nn"), &file).unwrap();
    file
}

#[test]
fn the_url_is_loopback_with_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&example(dir.path()));
    assert!(server.url.starts_with("http://127.0.0.1:"), "{}", server.url);
    assert_eq!(server.token.len(), 32);
    assert!(server.token.chars().all(|c| c.is_ascii_hexdigit()));
}

#[test]
fn every_request_needs_the_token_its_own_host_and_origin() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(&example(dir.path()));
    let host = format!("127.0.0.1:{}", s.port);
    let with_token = format!("/?token={}", s.token);
    assert_eq!(request(s.port, "GET", "/", &[("Host", &host)], "").0, 403);
    assert_eq!(request(s.port, "GET", "/?token=00000000000000000000000000000000", &[("Host", &host)], "").0, 403);
    let (status, page) = request(s.port, "GET", &with_token, &[("Host", &host)], "");
    assert_eq!(status, 200);
    assert!(page.contains("<title>nnc serve</title>") && !page.contains("http://") && !page.contains("https://"));
    // DNS rebinding: another name for this address.
    assert_eq!(request(s.port, "GET", &with_token, &[("Host", &format!("evil.example:{}", s.port))], "").0, 403);
    assert_eq!(request(s.port, "GET", &with_token, &[], "").0, 403);
    // A request from another site's page.
    let token = [("Host", host.as_str()), ("X-NNC-Token", s.token.as_str()), ("Origin", "http://evil.example")];
    assert_eq!(request(s.port, "POST", "/api/check", &token, "model m { input 2; dense 1 }").0, 403);
    let own = format!("http://{host}");
    let token = [("Host", host.as_str()), ("X-NNC-Token", s.token.as_str()), ("Origin", own.as_str())];
    assert_eq!(request(s.port, "POST", "/api/check", &token, "model m { input 2; dense 1 }").0, 200);
}

#[test]
fn no_path_reaches_files_but_the_program() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(&example(dir.path()));
    for path in ["/xor.nn", "/../Cargo.toml", "/%2e%2e/Cargo.toml", "/etc/passwd", "/api/nothing", "/api/program/../x"]
    {
        assert_eq!(s.call("GET", path, "").0, 404, "{path}");
    }
    let (status, body) = s.call("GET", "/api/program", "");
    assert_eq!(status, 200);
    let program: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(program["source"].as_str().unwrap().contains("model mlp"));
    // The editors' grammar, which the page colours the program with.
    let (status, body) = s.call("GET", "/api/grammar", "");
    assert_eq!(status, 200);
    let grammar: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(grammar["scopeName"], "source.nn");
}

#[test]
fn checking_gives_the_clis_codes_and_saving_writes_only_the_program() {
    let dir = tempfile::tempdir().unwrap();
    let file = example(dir.path());
    let s = start(&file);
    let source = std::fs::read_to_string(&file).unwrap();
    let (_, body) = s.call("POST", "/api/check", &source);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap()["diagnostics"], serde_json::json!([]));
    let broken = source.replace("loss mse", "loss mse(");
    let (_, body) = s.call("POST", "/api/check", &broken);
    let diagnostics: serde_json::Value = serde_json::from_str(&body).unwrap();
    let first = &diagnostics["diagnostics"][0];
    assert!(first["code"].as_str().unwrap().starts_with("E0"), "{diagnostics}");
    assert!(first["line"].as_u64().unwrap() > 1, "{diagnostics}");
    let before: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    let edited = source.replace("epochs 2000", "epochs 50");
    assert_eq!(s.call("PUT", "/api/program", &edited).0, 200);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), edited);
    let after: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(before, after, "no other file written");
}

#[test]
fn a_run_streams_its_epochs_and_ends_with_what_nnc_run_gives() {
    let dir = tempfile::tempdir().unwrap();
    let file = example(dir.path());
    let s = start(&file);
    let host = format!("127.0.0.1:{}", s.port);
    let source = std::fs::read_to_string(&file).unwrap();
    let (status, body) = s.call("POST", "/api/run", &source);
    assert_eq!(status, 200, "{body}");
    let (status, events) =
        request(s.port, "GET", &format!("/api/events?from=0&token={}", s.token), &[("Host", &host)], "");
    assert_eq!(status, 200);
    let events: Vec<serde_json::Value> = events
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .map(|data| serde_json::from_str::<serde_json::Value>(data).unwrap()["data"].clone())
        .collect();
    let epochs: Vec<&serde_json::Value> = events.iter().filter(|e| e["event"] == "epoch").collect();
    assert!(!epochs.is_empty() && epochs.len() <= 2000, "{} epoch events", epochs.len());
    assert_eq!(epochs.last().unwrap()["epoch"], 2000);
    // The decision boundary, drawn by nnc plot's code, at the first epoch and the last.
    let figures: Vec<&serde_json::Value> = events.iter().filter(|e| e["name"] == "decision").collect();
    assert!(figures.len() >= 2, "{} figures", figures.len());
    assert!(figures.iter().all(|f| f["event"] == "figure" && f["svg"].as_str().unwrap().contains("<svg")));
    // The network with its weights, from the same code as `nnc plot`'s figure.
    let networks: Vec<&serde_json::Value> = events.iter().filter(|e| e["name"] == "network").collect();
    assert!(networks.len() >= 2, "{} network figures", networks.len());
    assert_ne!(networks[0]["svg"], networks.last().unwrap()["svg"], "the weights changed");
    assert_eq!(figures[0]["epoch"], 1);
    assert_eq!(figures.last().unwrap()["epoch"], 2000);
    assert_ne!(figures[0]["svg"], figures.last().unwrap()["svg"], "the boundary moved");
    // The hidden states, live, as nnc plot draws them.
    let hidden: Vec<&serde_json::Value> = events.iter().filter(|e| e["name"] == "hidden").collect();
    assert!(hidden.len() >= 2, "{} hidden-state figures", hidden.len());
    assert_ne!(hidden[0]["svg"], hidden.last().unwrap()["svg"], "the hidden states moved");
    // The diagnosis as it appears: xor's first layer loses ReLU units while it trains.
    let live = events.iter().find(|e| e["event"] == "diagnosis").expect("a live diagnosis");
    assert_eq!(live["findings"][0]["kind"], "dead_relu", "{live}");
    assert!(live["findings"][0]["evidence"][0].as_str().unwrap().contains("at epoch"), "{live}");
    let done = events.last().unwrap();
    assert_eq!(done["event"], "done", "{done}");
    let reference = nnc_driver::run(&source, dir.path(), nnc_driver::Overrides::default()).unwrap();
    let served = done["jobs"][0]["final_loss"].as_f64().unwrap();
    assert_eq!(served as f32, reference.jobs[0].final_loss, "the same compiled run as nnc run");
}

#[test]
fn one_run_at_a_time_and_stop_ends_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = example(dir.path());
    let s = start(&file);
    let host = format!("127.0.0.1:{}", s.port);
    let long = std::fs::read_to_string(&file).unwrap().replace("epochs 2000", "epochs 100000000");
    assert_eq!(s.call("POST", "/api/run", &long).0, 200);
    assert_eq!(s.call("POST", "/api/run", &long).0, 409);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(s.call("POST", "/api/stop", "").0, 200);
    let (_, events) = request(s.port, "GET", &format!("/api/events?from=0&token={}", s.token), &[("Host", &host)], "");
    let last = events.lines().rev().find_map(|l| l.strip_prefix("data: ")).unwrap();
    let last: serde_json::Value = serde_json::from_str(last).unwrap();
    assert_eq!(last["data"]["event"], "done");
    assert_eq!(last["data"]["jobs"][0]["interrupted"], true);
}

/// The events of the current run, waiting for its end: the `data` of each.
fn events_until_done(s: &Running) -> Vec<serde_json::Value> {
    let host = format!("127.0.0.1:{}", s.port);
    let (status, events) =
        request(s.port, "GET", &format!("/api/events?from=0&token={}", s.token), &[("Host", &host)], "");
    assert_eq!(status, 200);
    events
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .map(|data| serde_json::from_str::<serde_json::Value>(data).unwrap()["data"].clone())
        .collect()
}

#[test]
fn a_run_takes_the_pages_learning_rate_seed_and_pace() {
    let dir = tempfile::tempdir().unwrap();
    let file = example(dir.path());
    let s = start(&file);
    let source = std::fs::read_to_string(&file).unwrap().replace("epochs 2000", "epochs 20");
    for bad in ["?lr=-1", "?lr=abc", "?seed=1.5", "?eps=0", "?eps=inf"] {
        let (status, body) = s.call("POST", &format!("/api/run{bad}"), &source);
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let started = std::time::Instant::now();
    let (status, body) = s.call("POST", "/api/run?lr=0.5&seed=7&eps=40", &source);
    assert_eq!(status, 200, "{body}");
    let events = events_until_done(&s);
    let elapsed = started.elapsed().as_secs_f64();
    // 20 epochs at 40 a second: half a second, however fast the machine.
    assert!(elapsed >= 0.45, "20 epochs at 40 a second took {elapsed:.3} s");
    let done = events.last().unwrap();
    assert_eq!(done["event"], "done", "{done}");
    let job = &done["jobs"][0];
    assert_eq!((job["learning_rate"].as_f64(), job["seed"].as_u64()), (Some(0.5), Some(7)));
    let overrides = nnc_driver::Overrides { learning_rate: Some(0.5), seed: Some(7), ..Default::default() };
    let reference = nnc_driver::run(&source, dir.path(), overrides).unwrap();
    assert_eq!(job["final_loss"].as_f64().unwrap() as f32, reference.jobs[0].final_loss);
    let epochs = events.iter().filter(|e| e["event"] == "epoch").count();
    assert!((2..=20).contains(&epochs), "{epochs} epoch events");
}

#[test]
fn a_run_ends_with_nncs_diagnosis() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let file = dir.path().join("dead_relu.nn");
    std::fs::copy(root.join("tests/views/diagnosis/dead_relu.nn"), &file).unwrap();
    let s = start(&file);
    let source = std::fs::read_to_string(&file).unwrap();
    assert_eq!(s.call("POST", "/api/run", &source).0, 200);
    let events = events_until_done(&s);
    let done = events.last().unwrap();
    let kinds: Vec<&str> =
        done["jobs"][0]["diagnosis"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"dead_relu"), "{kinds:?}");
    let finding = &done["jobs"][0]["diagnosis"][0];
    assert!(!finding["message"].as_str().unwrap().is_empty() && !finding["hint"].as_str().unwrap().is_empty());
}

#[test]
fn stop_ends_a_slowed_run_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = example(dir.path());
    let s = start(&file);
    let source = std::fs::read_to_string(&file).unwrap();
    // 2000 epochs at one a second would take half an hour.
    assert_eq!(s.call("POST", "/api/run?eps=1", &source).0, 200);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let stopped = std::time::Instant::now();
    assert_eq!(s.call("POST", "/api/stop", "").0, 200);
    let events = events_until_done(&s);
    assert!(stopped.elapsed().as_secs_f64() < 5.0, "the run took {:?} to stop", stopped.elapsed());
    let done = events.last().unwrap();
    assert_eq!(done["jobs"][0]["interrupted"], true, "{done}");
}

/// A server on a copy of `example` (with the data files it names) in a fresh folder.
fn start_example(dir: &Path, example: &str) -> (Running, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let file = dir.join(example);
    std::fs::copy(root.join("examples").join(example), &file).unwrap();
    let source = std::fs::read_to_string(&file).unwrap();
    std::fs::create_dir_all(dir.join("data")).unwrap();
    for line in source.lines() {
        if let Some(name) = line.trim().strip_prefix("file \"data/").and_then(|rest| rest.strip_suffix('"')) {
            std::fs::copy(root.join("examples/data").join(name), dir.join("data").join(name)).unwrap();
        }
    }
    (start(&file), source)
}

/// The figure events named `name`, with the epochs they were drawn at.
fn figures<'a>(events: &'a [serde_json::Value], name: &str) -> Vec<&'a serde_json::Value> {
    events.iter().filter(|e| e["event"] == "figure" && e["name"] == name).collect()
}

#[test]
fn predictions_filters_and_descent_paths_are_drawn_while_training() {
    let dir = tempfile::tempdir().unwrap();
    // Regression with a validation split: its predictions against the targets, live,
    // then the test rows' at the end, as the file shows them.
    let (s, source) = start_example(dir.path(), "house_price.nn");
    // (A smaller training split may lack a city: the model takes what the data gives.)
    let source = source.replace("split 0.8 0.2", "split 0.7 0.15 0.15").replace("input 45", "input auto");
    assert_eq!(s.call("POST", "/api/run", &source).0, 200);
    let events = events_until_done(&s);
    let predictions = figures(&events, "predictions");
    assert!(predictions.len() >= 3, "{} predictions figures", predictions.len());
    assert!(predictions[0]["svg"].as_str().unwrap().contains("validation rows"));
    assert!(predictions[0]["epoch"].as_u64().unwrap() < 150, "drawn while training");
    assert!(predictions.last().unwrap()["svg"].as_str().unwrap().contains("test rows"), "the file's figure last");
    drop(s);

    // A convolution's filters and feature maps, live.
    let (s, source) = start_example(dir.path(), "digits_cnn.nn");
    let source = source.replace("epochs 30", "epochs 4");
    assert_eq!(s.call("POST", "/api/run?eps=8", &source).0, 200);
    let events = events_until_done(&s);
    for name in ["filters", "feature-maps", "hidden"] {
        let drawn = figures(&events, name);
        assert!(drawn.len() >= 2, "{name}: {} figures", drawn.len());
        assert_eq!(drawn[0]["epoch"], 1, "{name}");
        assert_ne!(drawn[0]["svg"], drawn.last().unwrap()["svg"], "{name} changed");
    }
    assert!(figures(&events, "cnn-filters").is_empty(), "not sent again at the end");
    drop(s);

    // A `minimize` block's path grows step by step (slowed to 40 steps a second).
    let (s, source) = start_example(dir.path(), "gd_parabola.nn");
    assert_eq!(s.call("POST", "/api/run?eps=40", &source).0, 200);
    let events = events_until_done(&s);
    let done = events.iter().position(|e| e["event"] == "done").unwrap();
    let paths: Vec<&serde_json::Value> =
        events[..done].iter().filter(|e| e["event"] == "figure" && e["name"] == "converges-descent").collect();
    let steps: Vec<u64> = paths.iter().map(|e| e["epoch"].as_u64().unwrap()).collect();
    assert!(steps.len() >= 3 && steps.windows(2).any(|w| w[0] < w[1]), "steps drawn: {steps:?}");
    assert!(steps.contains(&20), "the whole path: {steps:?}");
}

#[test]
fn one_feature_regression_shows_its_loss_surface_and_minimize_blocks_their_paths() {
    let dir = tempfile::tempdir().unwrap();
    let (s, source) = start_example(dir.path(), "linreg.nn");
    assert_eq!(s.call("POST", "/api/run", &source).0, 200);
    let events = events_until_done(&s);
    let surfaces: Vec<&serde_json::Value> = events.iter().filter(|e| e["name"] == "surface").collect();
    assert!(surfaces.len() >= 2, "{} loss surfaces", surfaces.len());
    assert!(surfaces.iter().all(|f| f["svg"].as_str().unwrap().contains("<svg")));
    assert_ne!(surfaces[0]["svg"], surfaces.last().unwrap()["svg"], "the path grew");
    assert_eq!(surfaces.last().unwrap()["epoch"], 20000);
    // At the end, nnc plot's figures of the finished block that were not drawn live.
    assert!(events.iter().any(|e| e["name"] == "line-predictions"), "no predictions figure");
    drop(s);

    let (s, source) = start_example(dir.path(), "gd_parabola.nn");
    assert_eq!(s.call("POST", "/api/run", &source).0, 200);
    let events = events_until_done(&s);
    let figures: Vec<&serde_json::Value> = events.iter().filter(|e| e["event"] == "figure").collect();
    let models: Vec<&str> = figures.iter().map(|f| f["model"].as_str().unwrap()).collect();
    for block in ["converges", "oscillates"] {
        assert!(models.contains(&block), "{block}: {models:?}");
    }
    assert_eq!(events.last().unwrap()["event"], "done");
}

#[test]
fn a_step_is_traced_as_nnc_trace_prints_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = example(dir.path());
    let s = start(&file);
    let source = std::fs::read_to_string(&file).unwrap();
    let (status, body) = s.call("POST", "/api/trace?step=2", &source);
    assert_eq!(status, 200, "{body}");
    let reply: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reply["step"], 2);
    let checked = nnc_driver::check(&source, dir.path(), nnc_driver::Overrides::default()).unwrap();
    let options = nnc_inspect::trace::TraceOptions { step: Some(2), rows: None };
    let expected = nnc_inspect::trace::render(&nnc_inspect::trace::trace_job(&checked.jobs[0], &options).unwrap());
    assert_eq!(reply["text"], expected.as_str());
    assert!(expected.starts_with("step 2 of `mlp`"), "{expected}");
    for bad in ["?step=0", "?step=x"] {
        assert_eq!(s.call("POST", &format!("/api/trace{bad}"), &source).0, 400, "{bad}");
    }
    let (_, body) = s.call("POST", "/api/trace", "model m {");
    let reply: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(reply["diagnostics"][0]["code"].as_str().unwrap().starts_with('E'), "{reply}");
}

/// The last epoch among the events the server has sent so far (read for `wait`).
fn last_epoch_so_far(s: &Running, wait: std::time::Duration) -> u64 {
    let mut stream = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    stream.set_read_timeout(Some(wait)).unwrap();
    let request = format!("GET /api/events?from=0&token={} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n", s.token, s.port);
    stream.write_all(request.as_bytes()).unwrap();
    let (mut text, mut chunk) = (Vec::new(), [0u8; 65536]);
    // A running stream never ends: read what arrives within `wait`.
    let until = std::time::Instant::now() + wait;
    while std::time::Instant::now() < until {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => text.extend_from_slice(&chunk[..n]),
        }
    }
    String::from_utf8_lossy(&text)
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter_map(|data| serde_json::from_str::<serde_json::Value>(data).ok())
        .filter_map(|event| event["data"]["epoch"].as_u64())
        .max()
        .unwrap_or(0)
}

#[test]
fn pause_holds_a_run_and_resume_lets_it_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let file = example(dir.path());
    let s = start(&file);
    let long = std::fs::read_to_string(&file).unwrap().replace("epochs 2000", "epochs 100000000");
    let moment = std::time::Duration::from_millis(300);
    assert_eq!(s.call("POST", "/api/run", &long).0, 200);
    std::thread::sleep(moment);
    assert_eq!(s.call("POST", "/api/pause", "").0, 200);
    std::thread::sleep(moment);
    let held = last_epoch_so_far(&s, moment);
    std::thread::sleep(moment);
    assert_eq!(last_epoch_so_far(&s, moment), held, "a paused run went on");
    assert_eq!(s.call("POST", "/api/resume", "").0, 200);
    std::thread::sleep(moment);
    assert!(last_epoch_so_far(&s, moment) > held, "a resumed run did not go on");
    // Stop ends a paused run too.
    assert_eq!(s.call("POST", "/api/pause", "").0, 200);
    assert_eq!(s.call("POST", "/api/stop", "").0, 200);
    let events = events_until_done(&s);
    assert_eq!(events.last().unwrap()["jobs"][0]["interrupted"], true);
}
