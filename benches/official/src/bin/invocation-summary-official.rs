//! The extensions benchmark's reference: `invocation-summary` (extension/src/bin) written on the
//! official `lambda-extension` crate, as its telemetry example does (tokio, a telemetry
//! processor, an events processor). Same behaviour: registers for INVOKE and SHUTDOWN, subscribes
//! to `platform` telemetry, prints one `SUMMARY` line per `platform.report`, and on SHUTDOWN
//! flushes and exits 0. The telemetry listener's port: `INVOCATION_SUMMARY_PORT` (default 9003,
//! the crate's).

use std::io::Write;

use lambda_extension::{
    Error, Extension, LambdaEvent, LambdaTelemetry, LambdaTelemetryRecord, NextEvent,
    SharedService, service_fn,
};

async fn telemetry(events: Vec<LambdaTelemetry>) -> Result<(), Error> {
    let mut out = String::new();
    for event in events {
        if let LambdaTelemetryRecord::PlatformReport {
            request_id,
            metrics,
            ..
        } = event.record
        {
            out.push_str(&format!(
                "SUMMARY requestId={request_id} durationMs={} billedMs={} maxMemoryMB={}",
                metrics.duration_ms, metrics.billed_duration_ms, metrics.max_memory_used_mb
            ));
            if let Some(init) = metrics.init_duration_ms {
                out.push_str(&format!(" initMs={init}"));
            }
            out.push('\n');
        }
    }
    if !out.is_empty() {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(out.as_bytes())?;
        stdout.flush()?;
    }
    Ok(())
}

async fn events(event: LambdaEvent) -> Result<(), Error> {
    if let NextEvent::Shutdown(_) = event.next {
        // The crate's run loop never returns on SHUTDOWN: exiting is the extension's job.
        std::io::stdout().flush()?;
        std::process::exit(0);
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let port = match std::env::var("INVOCATION_SUMMARY_PORT") {
        Ok(port) => port.parse()?,
        Err(_) => 9003,
    };
    Extension::new()
        .with_events(&["INVOKE", "SHUTDOWN"])
        .with_events_processor(service_fn(events))
        .with_telemetry_types(&["platform"])
        .with_telemetry_port_number(port)
        .with_telemetry_processor(SharedService::new(service_fn(telemetry)))
        .run()
        .await
}
