//! The server benches' shared parts: the recording they stream, and the server as a process: started on a free loopback port, its CPU and memory
//! read from /proc (with every process below it), stopped with SIGTERM. Shared by serve_load.rs
//! and serve_soak.rs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

/// A path in the repository.
pub fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

/// The recording as 48 kHz stereo s16le bytes (each sample three times, both channels).
pub fn speech_48k_stereo() -> Vec<u8> {
    let mut reader = hound::WavReader::open(repo("manifests/data/arctic_a0007.wav")).unwrap();
    let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
    samples
        .iter()
        .flat_map(|&s| std::iter::repeat_n(s, 6))
        .flat_map(i16::to_le_bytes)
        .collect()
}

/// (CPU seconds used, RSS in MB) of one process.
pub fn proc_stat(pid: u32) -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks = 100.0; // USER_HZ on Linux
    let cpu = (fields[11].parse::<f64>().ok()? + fields[12].parse::<f64>().ok()?) / ticks;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    Some((cpu, rss_kb / 1024.0))
}

/// (CPU seconds used, RSS in MB) of `root` and every process below it.
pub fn tree_stat(root: u32) -> (f64, f64) {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let ppid = stat.rsplit(')').next()?.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(parents.iter().filter(|(_, p)| *p == parent).map(|(pid, _)| *pid));
        i += 1;
    }
    tree.iter()
        .filter_map(|&pid| proc_stat(pid))
        .fold((0.0, 0.0), |(c, r), (cpu, rss)| (c + cpu, r + rss))
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `remotemedia-runtime serve MANIFESTS --bind 127.0.0.1:PORT EXTRA...`: the release binary, or
/// `REMOTEMEDIA_RUNTIME_BIN`.
pub fn spawn_binary(manifests: &[&Path], port: u16, extra: &[&str]) -> std::process::Child {
    let bin = std::env::var("REMOTEMEDIA_RUNTIME_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo("target/release/remotemedia-runtime"));
    std::process::Command::new(&bin)
        .arg("serve")
        .args(manifests)
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .args(extra)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {}: {e} (cargo build --release -p remotemedia-cli)",
                bin.display()
            )
        })
}

/// The server process, stopped with SIGTERM (then SIGKILL after 30 s) when dropped.
pub struct Server {
    pub child: std::process::Child,
    pub port: u16,
}

impl Server {
    /// Sends SIGTERM and waits up to `limit` for the exit status.
    pub fn terminate(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..(limit.as_millis() / 100).max(1) {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM first, so that a peer can stop what it started (Ray's processes).
        if self.terminate(Duration::from_secs(30)).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits until `port` accepts connections.
#[allow(clippy::zombie_processes)] // `Server`'s drop stops and waits for it
pub fn wait_listening(child: std::process::Child, port: u16) -> Server {
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Server { child, port };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the server did not start");
}
