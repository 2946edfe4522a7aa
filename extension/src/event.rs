//! The events `/event/next` gives: `INVOKE` and `SHUTDOWN`, typed; anything else kept as it came.

use serde::Deserialize;

/// The events an extension registers for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Invoke,
    /// External extensions only.
    Shutdown,
}

impl EventType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EventType::Invoke => "INVOKE",
            EventType::Shutdown => "SHUTDOWN",
        }
    }
}

/// One event from `/event/next`.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Invoke(Invoke),
    Shutdown(Shutdown),
    /// An event type this crate does not know (the API may grow): the whole event, as JSON.
    Other(serde_json::Value),
}

/// `INVOKE`: the function was invoked.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invoke {
    pub request_id: String,
    /// When the invocation times out, in milliseconds since the Unix epoch.
    pub deadline_ms: u64,
    #[serde(default)]
    pub invoked_function_arn: String,
    #[serde(default)]
    pub tracing: Option<Tracing>,
}

/// The X-Ray tracing header of an invocation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Tracing {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

/// `SHUTDOWN`: the environment is going away; finish before `deadline_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shutdown {
    /// `spindown`, `timeout` or `failure`.
    pub shutdown_reason: String,
    /// Milliseconds since the Unix epoch.
    pub deadline_ms: u64,
}

impl Event {
    /// Reads an event; `Err` with the reason when it is not one.
    pub(crate) fn parse(body: &[u8]) -> Result<Event, String> {
        let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        let kind = value
            .get("eventType")
            .and_then(|t| t.as_str())
            .ok_or("it has no eventType")?;
        match kind {
            "INVOKE" => Invoke::deserialize(&value)
                .map(Event::Invoke)
                .map_err(|e| format!("INVOKE: {e}")),
            "SHUTDOWN" => Shutdown::deserialize(&value)
                .map(Event::Shutdown)
                .map_err(|e| format!("SHUTDOWN: {e}")),
            _ => Ok(Event::Other(value)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invoke_shutdown_and_unknown_events_are_read() {
        let invoke = br#"{"eventType":"INVOKE","deadlineMs":1676051349000,"requestId":"r-1","invokedFunctionArn":"arn:x","tracing":{"type":"X-Amzn-Trace-Id","value":"Root=1"}}"#;
        match Event::parse(invoke) {
            Ok(Event::Invoke(i)) => {
                assert_eq!(
                    (i.request_id.as_str(), i.deadline_ms),
                    ("r-1", 1676051349000)
                );
                assert_eq!(i.tracing.map(|t| t.value), Some("Root=1".to_owned()));
            }
            other => panic!("{other:?}"),
        }
        let shutdown = br#"{"eventType":"SHUTDOWN","shutdownReason":"spindown","deadlineMs":5}"#;
        assert_eq!(
            Event::parse(shutdown),
            Ok(Event::Shutdown(Shutdown {
                shutdown_reason: "spindown".into(),
                deadline_ms: 5
            }))
        );
        assert!(matches!(
            Event::parse(br#"{"eventType":"RESTORE"}"#),
            Ok(Event::Other(_))
        ));
    }

    #[test]
    fn what_is_not_an_event_is_an_error_with_the_reason() {
        assert!(Event::parse(b"not json").is_err());
        assert_eq!(Event::parse(b"{}"), Err("it has no eventType".into()));
        let no_id = Event::parse(br#"{"eventType":"INVOKE","deadlineMs":1}"#).unwrap_err();
        assert!(no_id.contains("requestId"), "{no_id}");
    }
}
