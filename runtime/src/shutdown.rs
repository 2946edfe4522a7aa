//! Graceful shutdown: on SIGTERM (sent by Lambda when extensions are registered) or SIGINT
//! (Ctrl-C in a local run), run the user's hook if there is one, then exit 0.
//!
//! Without a hook the signal handler ends the process itself (`_exit(0)` is async-signal-safe),
//! so the common case costs no thread and no request. With a hook, a small thread waits on a
//! socket pair the handler writes the signal number to, and runs the hook outside signal context.
//!
//! Lambda sends SIGTERM to the runtime only when at least one extension is registered; otherwise
//! the process is simply killed and the hook never runs. So with a hook, the runtime registers an
//! internal extension of its own during init, for no events (an internal extension may not take
//! SHUTDOWN), and a thread keeps it polling `/extension/event/next`, which Init waits for and
//! which never holds up an invocation.

use std::io::Read;
use std::os::fd::IntoRawFd;
use std::os::raw::{c_int, c_void};
use std::os::unix::net::UnixStream;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI32, Ordering};

use crate::client::BaseUrl;
use crate::client::extension::ExtensionApi;

const SIGINT: c_int = 2;
const SIGTERM: c_int = 15;

type Hook = Box<dyn FnOnce() + Send>;
type StartHookThread = fn(&BaseUrl) -> std::io::Result<()>;

/// The internal extension's name: any name will do for an internal one.
const INTERNAL_EXTENSION_NAME: &str = "lambda-blocking-rt-shutdown";

static HOOK: Mutex<Option<Hook>> = Mutex::new(None);
/// Set by `on_shutdown` only, so a binary that registers no hook links no thread spawning (std's
/// thread code is a noticeable part of a small binary: docs/binary-size.md).
static START_HOOK_THREAD: Mutex<Option<StartHookThread>> = Mutex::new(None);
/// The write end of the hook thread's socket pair; -1 when there is no hook.
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);

unsafe extern "C" {
    fn signal(signum: c_int, handler: extern "C" fn(c_int)) -> usize;
    fn write(fd: c_int, buf: *const c_void, count: usize) -> isize;
    fn _exit(status: c_int) -> !;
}

/// Registers `hook` to run when the process is told to stop (SIGTERM or SIGINT); the process
/// then exits with code 0. Call it before [`run`](crate::run). A later call replaces the hook.
///
/// Lambda allows a few hundred milliseconds between SIGTERM and SIGKILL: keep the hook short
/// (flush telemetry, close a connection).
///
/// ```no_run
/// lambda_blocking_rt::on_shutdown(|| eprintln!("flushing metrics before the sandbox goes away"));
/// ```
pub fn on_shutdown(hook: impl FnOnce() + Send + 'static) {
    *HOOK.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(hook));
    *START_HOOK_THREAD.lock().unwrap_or_else(|e| e.into_inner()) = Some(start_hook_thread);
}

/// Installs the signal handlers, and with a hook registers the internal extension; called once
/// by `run` before init, so before the first `/next`.
pub(crate) fn install(base: &BaseUrl) {
    let start = *START_HOOK_THREAD.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(start) = start
        && let Err(e) = start(base)
    {
        log::warn!("the shutdown hook cannot run ({e}); SIGTERM will exit without it");
    }
    // SAFETY: `on_signal` only does async-signal-safe things (an atomic load, write, _exit).
    unsafe {
        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
    }
}

fn start_hook_thread(base: &BaseUrl) -> std::io::Result<()> {
    register_internal_extension(base);
    let (mut reader, writer) = UnixStream::pair()?;
    std::thread::Builder::new()
        .name("lambda-blocking-rt-shutdown".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            let mut signo = [0u8; 1];
            if reader.read_exact(&mut signo).is_ok() {
                let name = if c_int::from(signo[0]) == SIGINT {
                    "SIGINT"
                } else {
                    "SIGTERM"
                };
                log::info!("{name} received: running the shutdown hook, then exiting");
                if let Some(hook) = HOOK.lock().ok().and_then(|mut h| h.take()) {
                    hook();
                }
                std::process::exit(0);
            }
        })?;
    WAKE_FD.store(writer.into_raw_fd(), Ordering::SeqCst);
    Ok(())
}

/// Registers the internal extension and starts the thread that polls its `/event/next`; returns
/// once registration is over (whatever its outcome), so it happens before the first `/next`.
/// A failure is logged and the function serves as without it: a 404 (no Extensions API, a local
/// emulator) at DEBUG, anything else at WARN, since then the hook will not run on Lambda.
fn register_internal_extension(base: &BaseUrl) {
    let (registered, outcome) = std::sync::mpsc::channel::<()>();
    let mut api = ExtensionApi::new(base);
    let spawned = std::thread::Builder::new()
        .name("lambda-blocking-rt-extension".into())
        // The HTTP calls go deeper than the hook thread's read; pages only count when touched.
        .stack_size(256 * 1024)
        .spawn(move || {
            let registration = api.register(INTERNAL_EXTENSION_NAME, &[], false);
            let _ = registered.send(());
            let identifier = match registration {
                Ok(registration) => registration.identifier,
                Err(e) if e.status() == Some(404) => {
                    log::debug!(
                        "no Extensions API here (POST /extension/register answered 404, as a local emulator does): the shutdown hook runs when the process gets SIGTERM or SIGINT"
                    );
                    return;
                }
                Err(e) => {
                    log::warn!(
                        "the internal extension for the shutdown hook could not register ({e}): Lambda sends SIGTERM only to a runtime with an extension, so the hook may not run there"
                    );
                    return;
                }
            };
            // Registered for no events: nothing ever arrives, but Init ends only once this
            // has asked. An answer (none is expected) is taken as done with, and asked again.
            let mut event = Vec::new();
            loop {
                if let Err(e) = api.next_event(&identifier, &mut event) {
                    log::warn!("the shutdown hook's internal extension stopped polling: {e}");
                    return;
                }
            }
        });
    match spawned {
        // Err: the thread ended before it sent, which it does not do; nothing to wait for.
        Ok(_) => {
            let _ = outcome.recv();
        }
        Err(e) => log::warn!(
            "the internal extension for the shutdown hook could not start ({e}): Lambda sends SIGTERM only to a runtime with an extension, so the hook may not run there"
        ),
    }
}

extern "C" fn on_signal(signo: c_int) {
    let fd = WAKE_FD.load(Ordering::SeqCst);
    let byte = signo as u8;
    // SAFETY: write(2) and _exit(2) are async-signal-safe; `byte` outlives the call.
    unsafe {
        if fd < 0 || write(fd, (&byte as *const u8).cast(), 1) != 1 {
            _exit(0);
        }
    }
}
