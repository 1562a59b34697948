//! The real `parley` binary on a throwaway data directory and a port of its choosing,
//! with its output collected, and raw HTTP/1.1 over TCP to reach it as a hostile client
//! would (unfinished heads, trickled bodies).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

/// Tests that hold over a thousand connections run one at a time: the machine is shared.
pub static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub struct Server {
    child: Child,
    pub port: u16,
    _dir: TempDir,
    output: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `parley` with `env`; `ulimit` (e.g. `-Sn 1024`) is applied first when given.
    pub fn start(ulimit: Option<&str>, env: &[(&str, &str)]) -> Self {
        let bin = env!("CARGO_BIN_EXE_parley");
        let mut command = match ulimit {
            Some(limit) => {
                let mut c = Command::new("bash");
                c.args(["-c", &format!("ulimit {limit} && exec \"$0\""), bin]);
                c
            }
            None => Command::new(bin),
        };
        let dir = tempfile::tempdir().expect("tempdir");
        for name in [
            "PARLEY_MODE",
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
            "GEMINI_API_KEY",
            "PARLEY_LOG_FORMAT",
            "CORS_ORIGINS",
            "PARLEY_PUBLIC_URL",
        ] {
            command.env_remove(name);
        }
        command
            .env("PORT", "0")
            .env("PARLEY_DATA_DIR", dir.path())
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start parley");
        let output = Arc::new(Mutex::new(String::new()));
        let (port_tx, port_rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        for (stream, port_tx) in [
            (Box::new(stdout) as Box<dyn std::io::Read + Send>, Some(port_tx)),
            (Box::new(stderr), None),
        ] {
            let output = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let (Some(tx), Some(rest)) = (&port_tx, line.split("running at http://127.0.0.1:").nth(1)) {
                        let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                        let _ = tx.send(port.parse::<u16>().expect("a port in the banner"));
                    }
                    let mut out = output.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    out.push_str(&line);
                    out.push('\n');
                }
            });
        }
        let port = match port_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(port) => port,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "parley did not start: {}",
                    output.lock().map(|o| o.clone()).unwrap_or_default()
                );
            }
        };
        Self {
            child,
            port,
            _dir: dir,
            output,
        }
    }

    /// Everything the server wrote so far.
    pub fn output(&self) -> String {
        self.output.lock().map(|o| o.clone()).unwrap_or_default()
    }

    /// Where the server keeps its data (it outlives the process, not this value).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// The exit status, if the process ends within `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends a request with `Connection: close` and returns the status, the head and the
    /// body; `None` if the server does not answer within `limit`.
    pub async fn request(
        &self,
        limit: Duration,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Option<Answer> {
        let host = self.host();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nconnection: close\r\ncontent-length: {}\r\n",
            body.len()
        );
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            head.push_str(&format!("host: {host}\r\n"));
        }
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        head.push_str(body);
        let port = self.port;
        tokio::time::timeout(limit, async move {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
            stream.write_all(head.as_bytes()).await.ok()?;
            let mut raw = Vec::new();
            stream.read_to_end(&mut raw).await.ok()?;
            Answer::parse(&raw)
        })
        .await
        .ok()
        .flatten()
    }

    pub async fn get(&self, path: &str) -> Option<Answer> {
        self.request(Duration::from_secs(10), "GET", path, &[], "").await
    }

    /// A development sign-in's ID token.
    pub async fn sign_in(&self, email: &str) -> String {
        let answer = self
            .request(
                Duration::from_secs(10),
                "POST",
                "/dev/sign-in",
                &[("content-type", "application/json")],
                &format!("{{\"email\":\"{email}\"}}"),
            )
            .await
            .expect("sign-in answers");
        assert_eq!(answer.status, 200, "{answer:?}");
        answer.json()["idToken"].as_str().expect("an idToken").to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Answer {
    fn parse(raw: &[u8]) -> Option<Self> {
        let text = String::from_utf8_lossy(raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n")?;
        let status = head.split(' ').nth(1)?.parse().ok()?;
        Some(Self {
            status,
            head: head.to_ascii_lowercase(),
            body: body.to_owned(),
        })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The value of a response header (names compared in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.trim() == name)
                .map(|(_, v)| v.trim())
        })
    }
}

/// Opens `n` connections, each with an unfinished request head, and watches each from
/// its opening: a task per connection ends with the instant the server closed it.
/// Returns the watchers (dropping them closes the connections) and the instant the
/// last connection was opened.
pub async fn hold_unfinished_heads(port: u16, n: usize) -> (JoinSet<Instant>, Instant) {
    let mut held = JoinSet::new();
    for i in 0..n {
        let mut stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap_or_else(|e| panic!("connection {i} of {n}: {e}"));
        // The server may close it at once (at its cap): a failed write is not an error.
        let _ = stream
            .write_all(b"GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nx-never-finished: ")
            .await;
        held.spawn(closed(stream));
    }
    (held, Instant::now())
}

/// Resolves when the server closes `stream` (end of file or reset), with that instant.
pub async fn closed(mut stream: TcpStream) -> Instant {
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return Instant::now(),
            Ok(_) => {}
        }
    }
}

/// Makes sure this test process may hold `needed` descriptors.
pub fn allow_open_files(needed: u64) {
    let soft = rlimit::increase_nofile_limit(needed).expect("raise the open-files limit");
    assert!(
        soft >= needed,
        "this test holds {needed} connections but the hard open-files limit allows {soft}"
    );
}
