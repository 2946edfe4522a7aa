//! The Telemetry API's records, typed where this crate knows them, the raw JSON always kept
//! (the schema grows: unknown types and fields are not lost).

use serde_json::Value;

/// The streams a subscription can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TelemetryType {
    /// `platform.*`: the lifecycle, reports, metrics.
    Platform,
    /// The function's log lines.
    Function,
    /// Extensions' log lines.
    Extension,
}

impl TelemetryType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TelemetryType::Platform => "platform",
            TelemetryType::Function => "function",
            TelemetryType::Extension => "extension",
        }
    }
}

/// One event of a batch: `{"time", "type", "record"}`.
#[derive(Debug, Clone, PartialEq)]
pub struct TelemetryEvent {
    pub time: String,
    /// `platform.report`, `function`, ...
    pub event_type: String,
    pub record: Record,
    /// The whole event as it came.
    pub raw: Value,
}

/// What an event's record says, by its type.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Platform(PlatformRecord),
    /// A line the function logged.
    Function(LogRecord),
    /// A line an extension logged.
    Extension(LogRecord),
    /// A type this crate does not know: see the event's `raw`.
    Other,
}

/// A log line: text, or a JSON object when the function logs in the JSON format.
#[derive(Debug, Clone, PartialEq)]
pub enum LogRecord {
    Text(String),
    Json(Value),
}

/// The `platform.*` records. Those without fields here have theirs in the event's `raw`.
#[derive(Debug, Clone, PartialEq)]
pub enum PlatformRecord {
    InitStart,
    InitRuntimeDone,
    InitReport,
    Start {
        request_id: String,
    },
    RuntimeDone {
        request_id: String,
        status: String,
    },
    Report(Report),
    Extension,
    TelemetrySubscription,
    LogsDropped,
    /// Another `platform.*` type (its name after `platform.`), or one whose record did not
    /// have the fields its type requires.
    Other(String),
}

/// `platform.report`: what an invocation cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub request_id: String,
    /// `success`, `failure`, `timeout`, ...
    pub status: String,
    pub duration_ms: f64,
    pub billed_duration_ms: u64,
    pub memory_size_mb: u64,
    pub max_memory_used_mb: u64,
    /// On the first invocation of an environment (a cold start).
    pub init_duration_ms: Option<f64>,
}

/// Reads a batch (a JSON array of events); `Err` with the reason when it is not one. An element
/// that is not an event object is kept with an empty type and `Record::Other`.
pub(crate) fn parse_batch(body: &[u8]) -> Result<Vec<TelemetryEvent>, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let Value::Array(events) = value else {
        return Err("a batch is a JSON array of events".into());
    };
    Ok(events.into_iter().map(event).collect())
}

fn event(raw: Value) -> TelemetryEvent {
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    let time = text(&raw, "time").unwrap_or_default();
    let event_type = text(&raw, "type").unwrap_or_default();
    let record = raw.get("record").unwrap_or(&Value::Null);
    let record = match event_type.as_str() {
        "function" => Record::Function(log_record(record)),
        "extension" => Record::Extension(log_record(record)),
        t => match t.strip_prefix("platform.") {
            Some(name) => Record::Platform(platform(name, record)),
            None => Record::Other,
        },
    };
    TelemetryEvent {
        time,
        event_type,
        record,
        raw,
    }
}

fn log_record(record: &Value) -> LogRecord {
    match record {
        Value::String(line) => LogRecord::Text(line.clone()),
        other => LogRecord::Json(other.clone()),
    }
}

fn platform(name: &str, record: &Value) -> PlatformRecord {
    let text = |key: &str| record.get(key).and_then(Value::as_str).map(str::to_owned);
    let other = || PlatformRecord::Other(name.to_owned());
    match name {
        "initStart" => PlatformRecord::InitStart,
        "initRuntimeDone" => PlatformRecord::InitRuntimeDone,
        "initReport" => PlatformRecord::InitReport,
        "start" => {
            text("requestId").map_or_else(other, |request_id| PlatformRecord::Start { request_id })
        }
        "runtimeDone" => match text("requestId") {
            Some(request_id) => PlatformRecord::RuntimeDone {
                request_id,
                status: text("status").unwrap_or_default(),
            },
            None => other(),
        },
        "report" => report(record).map_or_else(other, PlatformRecord::Report),
        "extension" => PlatformRecord::Extension,
        "telemetrySubscription" => PlatformRecord::TelemetrySubscription,
        "logsDropped" => PlatformRecord::LogsDropped,
        _ => other(),
    }
}

/// A report needs its request id and its three figures; memory size and init are optional.
fn report(record: &Value) -> Option<Report> {
    let metrics = record.get("metrics")?;
    let number = |key: &str| metrics.get(key).and_then(Value::as_f64);
    // Whole numbers of milliseconds and megabytes, though sent as JSON numbers of any form.
    let whole = |key: &str| number(key).filter(|n| *n >= 0.0).map(|n| n.round() as u64);
    Some(Report {
        request_id: record.get("requestId")?.as_str()?.to_owned(),
        status: record
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        duration_ms: number("durationMs")?,
        billed_duration_ms: whole("billedDurationMs")?,
        memory_size_mb: whole("memorySizeMB").unwrap_or(0),
        max_memory_used_mb: whole("maxMemoryUsedMB")?,
        init_duration_ms: number("initDurationMs"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_typed_and_the_raw_event_kept() {
        let batch = br#"[
          {"time":"t1","type":"platform.report","record":{"requestId":"r-1","status":"success",
            "metrics":{"durationMs":12.5,"billedDurationMs":13,"memorySizeMB":128,"maxMemoryUsedMB":20,"initDurationMs":80.25},"new":1}},
          {"time":"t2","type":"platform.start","record":{"requestId":"r-2","version":"$LATEST"}},
          {"time":"t3","type":"function","record":"hello\n"},
          {"time":"t4","type":"extension","record":{"message":"json"}},
          {"time":"t5","type":"platform.somethingNew","record":{}},
          {"time":"t6","type":"brand.new","record":1},
          {"time":"t7","type":"platform.report","record":{"requestId":"r-3"}},
          7
        ]"#;
        let events = parse_batch(batch).unwrap();
        assert_eq!(events.len(), 8);
        match &events[0].record {
            Record::Platform(PlatformRecord::Report(r)) => {
                assert_eq!(r.request_id, "r-1");
                assert_eq!((r.duration_ms, r.billed_duration_ms), (12.5, 13));
                assert_eq!((r.memory_size_mb, r.max_memory_used_mb), (128, 20));
                assert_eq!(r.init_duration_ms, Some(80.25));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(events[0].raw["record"]["new"], 1, "unknown fields kept");
        assert_eq!(
            events[1].record,
            Record::Platform(PlatformRecord::Start {
                request_id: "r-2".into()
            })
        );
        assert_eq!(
            events[2].record,
            Record::Function(LogRecord::Text("hello\n".into()))
        );
        assert!(matches!(
            &events[3].record,
            Record::Extension(LogRecord::Json(_))
        ));
        assert_eq!(
            events[4].record,
            Record::Platform(PlatformRecord::Other("somethingNew".into()))
        );
        assert_eq!(events[5].record, Record::Other);
        assert_eq!(
            events[6].record,
            Record::Platform(PlatformRecord::Other("report".into())),
            "a report without its metrics is not a Report"
        );
        assert_eq!(
            (events[7].event_type.as_str(), &events[7].record),
            ("", &Record::Other)
        );
    }

    #[test]
    fn what_is_not_a_batch_is_an_error() {
        assert!(parse_batch(b"{\"type\":\"function\"}").is_err());
        assert!(parse_batch(b"[{\"time\":").is_err());
        assert!(parse_batch(b"").is_err());
    }
}
