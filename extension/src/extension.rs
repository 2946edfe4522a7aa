//! A registered extension: its `/event/next` loop, its error reports, its telemetry subscription.

use lambda_blocking_rt::extension_api::{ErrorPhase, ExtensionApi};
use serde::Deserialize;

use crate::event::{Event, EventType};
use crate::telemetry::TelemetryType;
use crate::{ExtensionError, TelemetryListener};

/// The function an extension was registered beside (the `/register` answer's body).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionInfo {
    #[serde(default)]
    pub function_name: String,
    #[serde(default)]
    pub function_version: String,
    #[serde(default)]
    pub handler: String,
}

/// An extension registered with the Extensions API.
pub struct Extension {
    api: ExtensionApi,
    identifier: String,
    function: FunctionInfo,
    /// The last event's bytes; reused.
    event: Vec<u8>,
}

impl Extension {
    /// Registers an external extension for `events`, under its executable's file name (Lambda
    /// starts `/opt/extensions/<name>` and expects that name), at `AWS_LAMBDA_RUNTIME_API`.
    pub fn register_external(events: &[EventType]) -> Result<Extension, ExtensionError> {
        let name = executable_name().ok_or(ExtensionError::NoName)?;
        Extension::register(&name, events)
    }

    /// Registers an extension named `name` for `events` at `AWS_LAMBDA_RUNTIME_API`. An internal
    /// extension (a thread of the function's process) must do this before the runtime's first
    /// `/next`, and may register for `INVOKE` only.
    pub fn register(name: &str, events: &[EventType]) -> Result<Extension, ExtensionError> {
        Extension::register_with(ExtensionApi::from_env()?, name, events)
    }

    /// Like [`Extension::register`], with the API at `runtime_api` (written as
    /// `AWS_LAMBDA_RUNTIME_API` is) instead of the environment's: for tests and local runs.
    pub fn register_at(
        runtime_api: &str,
        name: &str,
        events: &[EventType],
    ) -> Result<Extension, ExtensionError> {
        Extension::register_with(ExtensionApi::at(runtime_api)?, name, events)
    }

    fn register_with(
        mut api: ExtensionApi,
        name: &str,
        events: &[EventType],
    ) -> Result<Extension, ExtensionError> {
        let names: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
        let registration = api.register(name, &names, false)?;
        // The answer's body is informative only: a body that does not parse is no reason to fail.
        let function = serde_json::from_slice(&registration.body).unwrap_or_default();
        Ok(Extension {
            api,
            identifier: registration.identifier,
            function,
            event: Vec::new(),
        })
    }

    /// The identifier `/register` gave, sent on every call.
    pub fn identifier(&self) -> &str {
        &self.identifier
    }

    /// The function this extension runs beside.
    pub fn function(&self) -> &FunctionInfo {
        &self.function
    }

    /// Waits (with no time limit) for the next event. Calling it tells Lambda the extension is
    /// done with the last one: an extension registered for `INVOKE` holds the environment until
    /// it asks again.
    pub fn next_event(&mut self) -> Result<Event, ExtensionError> {
        self.api.next_event(&self.identifier, &mut self.event)?;
        Event::parse(&self.event).map_err(|reason| ExtensionError::BadEvent {
            reason,
            body: String::from_utf8_lossy(&self.event[..self.event.len().min(1024)]).into_owned(),
        })
    }

    /// Reports that the extension cannot start (`POST /extension/init/error`), with
    /// `error_type` as `Category.Reason`; Lambda then fails the Init. Exit after it. A failure
    /// to report is logged, not returned: the extension is on its way out either way.
    pub fn init_error(&mut self, error_type: &str, message: &str) {
        self.report(ErrorPhase::Init, error_type, message);
    }

    /// Reports that the extension is going away on an error (`POST /extension/exit/error`).
    /// Exit after it.
    pub fn exit_error(&mut self, error_type: &str, message: &str) {
        self.report(ErrorPhase::Exit, error_type, message);
    }

    fn report(&mut self, phase: ErrorPhase, error_type: &str, message: &str) {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body<'a> {
            error_message: &'a str,
            error_type: &'a str,
            stack_trace: [&'a str; 0],
        }
        let body = serde_json::to_vec(&Body {
            error_message: message,
            error_type,
            stack_trace: [],
        })
        .unwrap_or_default();
        // A header value must be visible ASCII; the body has the type as given.
        let header_type: String = error_type
            .chars()
            .map(|c| if c.is_ascii_graphic() { c } else { '_' })
            .collect();
        if let Err(e) = self
            .api
            .report_error(phase, &self.identifier, &header_type, &body)
        {
            log::error!("the extension's error report could not be sent ({e}): {message}");
        }
    }

    /// Subscribes `listener` to the telemetry `types` (`PUT /2022-07-01/telemetry`, schema
    /// `2022-12-13`, the listener's buffering). Any 2xx is a subscription; AWS's Runtime Interface
    /// Emulator answers 202 and delivers nothing.
    pub fn subscribe_telemetry(
        &mut self,
        listener: &TelemetryListener,
        types: &[TelemetryType],
    ) -> Result<(), ExtensionError> {
        let body = listener.subscription(types);
        self.api.subscribe_telemetry(&self.identifier, &body)?;
        Ok(())
    }
}

/// The file name this executable was started as (argv[0], as Lambda runs
/// `/opt/extensions/<name>`), else the one the kernel knows.
fn executable_name() -> Option<String> {
    let from = |path: std::path::PathBuf| {
        path.file_name()
            .and_then(|n| n.to_str())
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
    };
    std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(from)
        .or_else(|| std::env::current_exe().ok().and_then(from))
}
