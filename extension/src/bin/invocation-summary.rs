//! `invocation-summary`: an external Lambda extension that prints one line per invocation from
//! the platform telemetry:
//!
//! ```text
//! SUMMARY requestId=<id> durationMs=<ms> billedMs=<ms> maxMemoryMB=<mb>[ initMs=<ms>]
//! ```
//!
//! It registers for INVOKE and SHUTDOWN, subscribes to `platform` telemetry with a listener on
//! `INVOCATION_SUMMARY_LISTEN` (default `0.0.0.0:4243`), and on SHUTDOWN lets the batch in hand
//! finish, flushes and exits 0. When it cannot register it says so in one line on stderr and
//! exits 1; when it cannot start after registering it reports `init/error`, and when its event
//! loop breaks `exit/error`, then exits 1.

use std::io::Write;
use std::process::ExitCode;

use lambda_blocking_ext::{
    Event, EventType, Extension, ListenerConfig, PlatformRecord, Record, Report, TelemetryEvent,
    TelemetryListener, TelemetryType,
};

const NAME: &str = "invocation-summary";

fn main() -> ExitCode {
    let mut extension =
        match Extension::register_external(&[EventType::Invoke, EventType::Shutdown]) {
            Ok(extension) => extension,
            Err(e) => {
                eprintln!(
                    "{NAME}: could not register with the Extensions API, so it does not run: {e}"
                );
                return ExitCode::FAILURE;
            }
        };
    let mut config = ListenerConfig::default();
    if let Ok(address) = std::env::var("INVOCATION_SUMMARY_LISTEN") {
        config.address = address;
    }
    let listener = match TelemetryListener::start(config, print_summaries) {
        Ok(listener) => listener,
        Err(e) => return fail_init(&mut extension, "Extension.ListenerFailed", &e.to_string()),
    };
    if let Err(e) = extension.subscribe_telemetry(&listener, &[TelemetryType::Platform]) {
        return fail_init(&mut extension, "Extension.SubscribeFailed", &e.to_string());
    }
    loop {
        match extension.next_event() {
            Ok(Event::Shutdown(_)) => {
                listener.wait_idle();
                let _ = std::io::stdout().flush();
                return ExitCode::SUCCESS;
            }
            // The summaries come with the telemetry; INVOKE only keeps the loop going.
            Ok(Event::Invoke(_) | Event::Other(_)) => {}
            Err(e) => {
                eprintln!("{NAME}: the event loop broke, so it exits: {e}");
                extension.exit_error("Extension.EventLoopBroken", &e.to_string());
                return ExitCode::FAILURE;
            }
        }
    }
}

fn fail_init(extension: &mut Extension, error_type: &str, message: &str) -> ExitCode {
    eprintln!("{NAME}: could not start: {message}");
    extension.init_error(error_type, message);
    ExitCode::FAILURE
}

/// One `SUMMARY` line per `platform.report` of the batch, written together.
fn print_summaries(events: Vec<TelemetryEvent>) {
    let mut out = String::new();
    for event in &events {
        if let Record::Platform(PlatformRecord::Report(report)) = &event.record {
            summary(report, &mut out);
        }
    }
    if !out.is_empty() {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(out.as_bytes());
        let _ = stdout.flush();
    }
}

fn summary(report: &Report, out: &mut String) {
    use std::fmt::Write;
    let _ = write!(
        out,
        "SUMMARY requestId={} durationMs={} billedMs={} maxMemoryMB={}",
        report.request_id, report.duration_ms, report.billed_duration_ms, report.max_memory_used_mb
    );
    if let Some(init) = report.init_duration_ms {
        let _ = write!(out, " initMs={init}");
    }
    out.push('\n');
}
