//! `mnist-burn serve` in a real browser: headless Chromium, driven by Playwright
//! (`tests/browser/e2e.mjs`), on a server this test starts over runs it trains. The browser
//! script only acts and reports what the page showed; the checks against `predict` and
//! `eval` are here. And the server against clients that never finish a request.

use std::path::Path;
use std::process::Command;

use crate::support;
use mnist_data::{DatasetKind, ImageSet, Split};

use support::{
    COMMAND_SECONDS, Running, TrainArgs, binary, browser, can_run, output_within, repo_root,
    succeed,
};

/// Writes 784 pixels as a 28x28 grayscale PNG.
fn write_png(path: &Path, pixels: &[u8]) {
    image::GrayImage::from_raw(28, 28, pixels.to_vec())
        .expect("784 pixels")
        .save(path)
        .unwrap();
}

/// The class `mnist-burn predict` gives a picture.
fn predicted(dir: &Path, run: &str, picture: &Path) -> String {
    let stdout = succeed(dir, &["predict", run, picture.to_str().unwrap()]);
    let (_, rest) = stdout.trim().split_once(": ").expect("predict's line");
    rest.split_whitespace().next().unwrap().to_string()
}

/// The picture the page sent for a stroke has the stroke's shape, row by row as drawn: the
/// vertical bar is much taller than wide; the loop is a ring around an empty centre.
fn assert_stroke_shape(stroke: &str, input: &[u8]) {
    let inked = |row: usize, column: usize| input[row * 28 + column] > 100;
    let rows = (0..28).filter(|&r| (0..28).any(|c| inked(r, c))).count();
    let columns = (0..28).filter(|&c| (0..28).any(|r| inked(r, c))).count();
    let picture: String = (0..28)
        .map(|r| {
            (0..28)
                .map(|c| if inked(r, c) { '#' } else { '.' })
                .collect::<String>()
                + "\n"
        })
        .collect();
    match stroke {
        "bar" => assert!(
            rows >= 16 && columns * 2 < rows,
            "the bar: {rows} rows, {columns} columns\n{picture}"
        ),
        _ => {
            let centre = !inked(14, 14) && !inked(13, 13);
            let around = (0..13).any(|c| inked(14, c))
                && (15..28).any(|c| inked(14, c))
                && (0..13).any(|r| inked(r, 14))
                && (15..28).any(|r| inked(r, 14));
            assert!(centre && around, "the loop\n{picture}");
        }
    }
}

#[test]
fn the_page_lists_runs_live_and_classifies_drawings_like_predict() {
    let Some(chromium) = browser()
        .map_err(|reason| {
            can_run(
                Err(reason),
                "the_page_lists_runs_live_and_classifies_drawings_like_predict",
            )
        })
        .ok()
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    succeed(
        dir.path(),
        &TrainArgs::shipped("default")
            .set("epochs=3")
            .out("runs/first")
            .plain()
            .list(),
    );

    let (server, url) = serve_runs(dir.path());
    let url = url.as_str();

    let test_images = ImageSet::load(DatasetKind::Mnist, Split::Test).unwrap();
    let upload = dir.path().join("test-0.png");
    write_png(&upload, test_images.image(0));
    let live = dir.path().join("runs/live");
    let live_train = TrainArgs::shipped("default")
        .set("epochs=20")
        .out(&live)
        .plain();
    let program = binary();
    let mut live_command = vec![program.to_str().unwrap()];
    live_command.extend(live_train.list());
    let mut driver = Command::new("node");
    driver
        .arg(repo_root().join("tests/browser/e2e.mjs"))
        .env("SERVE_URL", format!("http://{url}"))
        .env("CHROMIUM", chromium)
        .env("LIVE_COMMAND", serde_json::json!(live_command).to_string())
        .env("LIVE_RUN_ID", "live")
        .env("UPLOAD_IMAGE", &upload);
    if let Some(shots) = std::env::var_os("MNIST_BURN_SCREENSHOTS") {
        driver.env("SCREENSHOT_DIR", shots);
    }
    let output = output_within(driver, COMMAND_SECONDS);
    drop(server);
    assert!(
        output.status.success(),
        "browser: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one line of JSON");

    assert_eq!(seen["drawn_on"], "first", "{seen}");
    assert!(
        seen["runs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|id| id == "first"),
        "{seen}"
    );
    let epochs: Vec<u64> = seen["live_epochs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_u64().unwrap())
        .collect();
    assert!(
        epochs.len() >= 3 && epochs.windows(2).all(|pair| pair[0] < pair[1]),
        "{epochs:?}"
    );
    for stroke in ["bar", "loop"] {
        let input: Vec<u8> = seen[stroke]["input"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u8)
            .collect();
        assert_eq!(input.len(), 784);
        assert_stroke_shape(stroke, &input);
        let picture = dir.path().join(format!("{stroke}.png"));
        write_png(&picture, &input);
        assert_eq!(
            seen[stroke]["shown"],
            predicted(dir.path(), "runs/first", &picture),
            "{stroke}"
        );
    }
    succeed(dir.path(), &["eval", "runs/first"]);
    let predictions =
        std::fs::read_to_string(dir.path().join("runs/first/predictions.csv")).unwrap();
    let first = predictions
        .lines()
        .nth(1)
        .unwrap()
        .rsplit(',')
        .next()
        .unwrap();
    assert_eq!(seen["upload"]["shown"], first);
    let uploaded: Vec<u64> = seen["upload"]["input"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    // The default config deskews: the page shows the upright picture the model was given.
    let original: Vec<u64> = mnist_data::deskew(test_images.image(0))
        .iter()
        .map(|&p| u64::from(p))
        .collect();
    assert_eq!(
        uploaded, original,
        "a 28x28 MNIST picture reaches the model deskewed, and only that"
    );
    // The Train tab: the browser build beside the binary (`serve`'s default), trained in.
    match crate::web::web_folder() {
        Ok(_) => {
            let report = &seen["train_view"];
            assert_eq!(report["epoch"], 1, "{seen}");
            assert!(report["test_acc"].as_f64().unwrap() > 70.0, "{seen}");
        }
        Err(reason) => {
            assert_eq!(seen["train_view"], "absent", "{seen}");
            support::report_skip("serve's Train view", &reason);
        }
    }
}

/// Starts `serve` on `dir/runs` (made if missing) at a free port; returns it and its address.
fn serve_runs(dir: &Path) -> (Running, String) {
    std::fs::create_dir_all(dir.join("runs")).unwrap();
    let mut server = support::start(dir, &["serve", "runs", "--port", "0"]);
    let line = server.first_line(60);
    let address = line.split("http://").nth(1).expect("the address");
    let address = address.split('/').next().unwrap().to_string();
    (server, address)
}

/// Clients that open a connection and never finish their request headers (slowloris) are
/// dropped after the header timeout, while the API keeps answering everyone else.
#[test]
fn clients_that_never_finish_a_request_are_dropped_while_the_api_answers() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().unwrap();
    let (server, address) = serve_runs(dir.path());
    let stalled: Vec<TcpStream> = (0..200)
        .map(|_| {
            let mut stream = TcpStream::connect(&address).unwrap();
            stream
                .write_all(b"GET /api/runs HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            stream
        })
        .collect();

    let mut client = TcpStream::connect(&address).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    client
        .write_all(b"GET /api/runs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    client.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // The header timeout is 5 s; each stalled connection must be closed well within 15 s.
    let deadline = Instant::now() + Duration::from_secs(15);
    for (index, mut stream) in stalled.into_iter().enumerate() {
        let left = deadline.saturating_duration_since(Instant::now());
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        let mut rest = Vec::new();
        match stream.read_to_end(&mut rest) {
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {}
            Err(error) => panic!("stalled connection {index} still open: {error}"),
        }
    }
    drop(server);
}

/// Opens `count` connections to `address` that send half a request's headers and stop.
fn stalled_clients(address: &str, count: usize) -> Vec<std::net::TcpStream> {
    use std::io::Write;
    (0..count)
        .map(|_| {
            let mut stream = std::net::TcpStream::connect(address).unwrap();
            stream
                .write_all(b"GET /api/runs HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            stream
        })
        .collect()
}

/// `requests` requests from another client, one connection each: every one answered 200
/// within half the header timeout, so none waited for a stalled client to time out to free its
/// place.
fn assert_everyone_else_is_answered(address: &str, requests: usize) {
    use std::io::{Read, Write};
    use std::time::Instant;

    let bound = mnist_serve::HEADER_READ_TIMEOUT / 2;
    for request in 0..requests {
        let started = Instant::now();
        let mut client = std::net::TcpStream::connect(address).unwrap();
        client.set_read_timeout(Some(bound)).unwrap();
        client
            .write_all(b"GET /api/runs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        client.read_to_string(&mut answer).unwrap_or_else(|error| {
            panic!("request {request}: no answer within {bound:?}: {error}")
        });
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "request {request}: {answer}"
        );
        assert!(
            started.elapsed() < bound,
            "request {request} took {:?}",
            started.elapsed()
        );
    }
}

/// Whether the server has closed `stream` (its end read, or reset); never waits.
fn closed_by_server(stream: &std::net::TcpStream) -> bool {
    use std::io::Read;
    stream.set_nonblocking(true).unwrap();
    let closed = match (&*stream).read(&mut [0; 64]) {
        Ok(_) => true,
        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => false,
        Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => true,
        Err(error) => panic!("reading a stalled connection: {error}"),
    };
    stream.set_nonblocking(false).unwrap();
    closed
}

/// Idle connections do not crowd out real ones: the cap is what the file-descriptor limit
/// allows, so 2,000 clients stalled in their headers leave room for everyone else.
#[test]
fn two_thousand_stalled_clients_keep_no_one_else_out() {
    // This test process needs a descriptor per connection too: raised as serve raises its own.
    mnist_serve::default_connection_cap();
    let dir = tempfile::tempdir().unwrap();
    let (server, address) = serve_runs(dir.path());
    let stalled = stalled_clients(&address, 2000);
    assert_everyone_else_is_answered(&address, 100);
    drop(stalled);
    drop(server);
}

/// At the cap, the oldest idle connection is closed to make room for a new one, never the
/// new one turned away, nor the newest idle one: all seen before the header timeout could have
/// closed any of them.
#[test]
fn at_the_connection_cap_the_oldest_idle_client_makes_room() {
    use std::time::Instant;

    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let device = mnist_train::BackendKind::Flex.device().unwrap();
    let state = mnist_serve::AppState::new(dir.path().to_path_buf(), device);
    runtime.spawn(mnist_serve::run(listener, state, 64));
    // Three times the cap of 64 (its own here, not the descriptor limit's), so the check
    // takes a moment, far inside the header timeout.
    let first = stalled_clients(&address, 1).remove(0);
    let opened = Instant::now();
    let mut stalled = stalled_clients(&address, 3 * 64);
    assert_everyone_else_is_answered(&address, 10);
    let newest = stalled.pop().unwrap();
    // The server sees a stalled connection a moment after it is opened: give it that moment.
    std::thread::sleep(std::time::Duration::from_millis(100));
    let (first_closed, newest_closed) = (closed_by_server(&first), closed_by_server(&newest));
    assert!(
        opened.elapsed() < mnist_serve::HEADER_READ_TIMEOUT,
        "the check ran {:?} after the first stalled client, past the header timeout, which \
         closes stalled clients whatever the cap does",
        opened.elapsed()
    );
    assert!(first_closed, "the oldest stalled connection is still open");
    assert!(!newest_closed, "the newest stalled connection was closed");
}
