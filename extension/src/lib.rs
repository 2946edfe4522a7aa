//! Blocking AWS Lambda extensions: the Extensions API, the Telemetry API and a listener for its
//! batches, on the same wire layer as `lambda-blocking-rt` (no async runtime).
//!
//! An external extension is an executable in a layer's `extensions/` folder; Lambda starts it
//! before the runtime. It registers, then asks for events for as long as the environment lives:
//!
//! ```no_run
//! use lambda_blocking_ext::{Event, EventType, Extension};
//!
//! fn main() -> std::process::ExitCode {
//!     let mut extension = match Extension::register_external(&[EventType::Invoke, EventType::Shutdown]) {
//!         Ok(extension) => extension,
//!         Err(e) => {
//!             eprintln!("error: {e}");
//!             return std::process::ExitCode::FAILURE;
//!         }
//!     };
//!     loop {
//!         match extension.next_event() {
//!             Ok(Event::Invoke(invoke)) => eprintln!("invoked: {}", invoke.request_id),
//!             Ok(Event::Shutdown(_)) => return std::process::ExitCode::SUCCESS,
//!             Ok(Event::Other(_)) => {}
//!             Err(e) => {
//!                 extension.exit_error("Extension.EventLoop", &e.to_string());
//!                 return std::process::ExitCode::FAILURE;
//!             }
//!         }
//!     }
//! }
//! ```
//!
//! An internal extension is the same calls on a thread of the function's own process, registered
//! (with [`Extension::register`]) before the runtime's first `/next`, for `INVOKE` only: Lambda
//! does not send `SHUTDOWN` to internal extensions (the runtime gets SIGTERM instead).
//!
//! [`TelemetryListener`] receives the Telemetry API's batches on one thread and hands each, parsed
//! into [`TelemetryEvent`]s, to a callback; [`Extension::subscribe_telemetry`] subscribes it.

mod error;
mod event;
mod extension;
mod listener;
mod telemetry;

pub use error::ExtensionError;
pub use event::{Event, EventType, Invoke, Shutdown, Tracing};
pub use extension::{Extension, FunctionInfo};
pub use listener::{ListenerConfig, TelemetryListener};
pub use telemetry::{LogRecord, PlatformRecord, Record, Report, TelemetryEvent, TelemetryType};
