//! Spawning the real `bootstrap` binary with a clean Lambda-like environment.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// The bootstrap under test: `$BOOTSTRAP` when set (a release, musl or arm64 build), else the
/// workspace's debug build, built on first use.
pub fn bootstrap_path() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        if let Some(path) = std::env::var_os("BOOTSTRAP") {
            return PathBuf::from(path);
        }
        // A release build of the tests (the soak) runs a release bootstrap.
        release_binary(shipped_package(), "bootstrap")
    })
    .clone()
}

/// One shipped function's own binary (`bootstrap/src/bin/<name>.rs`, one handler): from
/// `$BOOTSTRAP_FUNCTIONS/<name>/bootstrap` when set (the packaged builds), else built on first
/// use.
pub fn function_binary_path(name: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("BOOTSTRAP_FUNCTIONS") {
        return Path::new(&dir).join(name).join("bootstrap");
    }
    release_binary(shipped_package(), name)
}

/// The `bootstrap` package, whose binaries are the shipped functions.
fn shipped_package() -> escargot::CargoBuild {
    escargot::CargoBuild::new()
        .manifest_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml"))
        .package("bootstrap")
}

/// Binary `name` of the package `build` names, built with the tests' own profile (release when
/// the tests are) on first use.
fn release_binary(build: escargot::CargoBuild, name: &str) -> PathBuf {
    build
        .bin(name)
        .current_release()
        .run()
        .unwrap_or_else(|e| panic!("building {name}: {e}"))
        .path()
        .to_path_buf()
}

/// A binary of the extension crate (`extension/src/bin/<name>.rs`): from
/// `$EXTENSION_BINARIES/<name>/<name>` when set (the packaged builds, `target/lambda/<arch>`),
/// else built on first use. It keeps its name, which an external extension registers under.
pub fn extension_binary_path(name: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("EXTENSION_BINARIES") {
        return Path::new(&dir).join(name).join(name);
    }
    release_binary(
        escargot::CargoBuild::new().manifest_path(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../extension/Cargo.toml"
        )),
        name,
    )
}

/// A binary of this test crate (a user's function written with `lambda-blocking-rt`), built on first use.
pub fn test_binary_path(name: &str) -> PathBuf {
    release_binary(
        escargot::CargoBuild::new()
            .manifest_path(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")),
        name,
    )
}

/// A running bootstrap; killed when dropped.
pub struct Bootstrap {
    child: Child,
    stderr: Arc<Mutex<Vec<u8>>>,
    stdout: Arc<Mutex<Vec<u8>>>,
    /// The threads copying the pipes; they end when the process closes them.
    collectors: Vec<thread::JoinHandle<()>>,
}

impl Bootstrap {
    /// Starts the bootstrap with only `env` (plus `PATH`) in its environment.
    /// `$BOOTSTRAP_RUNNER` (e.g. `qemu-aarch64-static`) runs it under an emulator.
    ///
    /// With `$BOOTSTRAP_FUNCTIONS` set to a directory of per-function builds
    /// (`<dir>/<name>/bootstrap`, each holding one handler), the binary is the one for the
    /// `_HANDLER` in `env`; an empty or unknown name runs `echo`'s.
    pub fn spawn<K: AsRef<OsStr>, V: AsRef<OsStr>>(env: &[(K, V)]) -> Bootstrap {
        let runner = std::env::var_os("BOOTSTRAP_RUNNER").filter(|r| !r.is_empty());
        let binary = match std::env::var_os("BOOTSTRAP_FUNCTIONS") {
            Some(dir) => {
                let handler = env
                    .iter()
                    .find(|(k, _)| k.as_ref() == "_HANDLER")
                    .map(|(_, v)| v.as_ref());
                let own = handler
                    .map(|h| Path::new(&dir).join(h).join("bootstrap"))
                    .filter(|p| p.is_file());
                own.unwrap_or_else(|| Path::new(&dir).join("echo").join("bootstrap"))
            }
            None => bootstrap_path(),
        };
        Bootstrap::spawn_binary(&binary, runner.as_deref(), env)
    }

    /// Like [`Bootstrap::spawn`], for another binary written with the runtime, optionally run
    /// by `runner` (an emulator).
    pub fn spawn_binary<K: AsRef<OsStr>, V: AsRef<OsStr>>(
        binary: &Path,
        runner: Option<&OsStr>,
        env: &[(K, V)],
    ) -> Bootstrap {
        let mut command = match runner {
            Some(runner) => {
                let mut c = Command::new(runner);
                c.arg(binary);
                c
            }
            None => Command::new(binary),
        };
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {e}", binary.display()));
        let (stderr, err_thread) = collect(child.stderr.take().expect("piped stderr"));
        let (stdout, out_thread) = collect(child.stdout.take().expect("piped stdout"));
        Bootstrap {
            child,
            stderr,
            stdout,
            collectors: vec![err_thread, out_thread],
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // Everything the process wrote is collected once its pipes close.
                for collector in self.collectors.drain(..) {
                    let _ = collector.join();
                }
                return Some(status);
            }
            if start.elapsed() > limit {
                return None;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// True while the process runs.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Sends a signal (e.g. `"TERM"`) with kill(1).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status();
        assert!(status.is_ok_and(|s| s.success()), "kill -{name} failed");
    }

    /// What the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// Fails the test, showing all of stderr, unless stderr holds `text` by now.
    #[track_caller]
    pub fn assert_stderr_contains(&self, text: &str) {
        let stderr = self.stderr();
        assert!(stderr.contains(text), "{text:?} not in stderr: {stderr}");
    }

    /// Waits up to `limit` for stderr to contain `text`; returns all of stderr either way, for
    /// the assertion message.
    pub fn wait_stderr(&self, text: &str, limit: Duration) -> (bool, String) {
        let start = Instant::now();
        loop {
            let stderr = self.stderr();
            if stderr.contains(text) || start.elapsed() > limit {
                return (stderr.contains(text), stderr);
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// What the process wrote to stdout so far.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned()
    }
}

impl Drop for Bootstrap {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect(mut pipe: impl Read + Send + 'static) -> (Arc<Mutex<Vec<u8>>>, thread::JoinHandle<()>) {
    let sink = Arc::new(Mutex::new(Vec::new()));
    let writer = Arc::clone(&sink);
    let handle = thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            writer.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    (sink, handle)
}
