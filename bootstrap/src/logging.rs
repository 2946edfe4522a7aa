//! Log records as Lambda wants them: one line each, as text, or as a JSON object
//! (`timestamp`, `level`, `message`, `requestId`) when `AWS_LAMBDA_LOG_FORMAT=JSON`.

use std::cell::RefCell;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use lambda_blocking_rt::{Context, Error, Handler};
use log::LevelFilter;
use serde::Serialize;

thread_local! {
    /// The request id of the invocation being served, for log lines.
    static REQUEST_ID: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Makes the invocation's request id available to log lines written while it runs.
pub struct WithRequestId<H>(pub H);

impl<H: Handler> Handler for WithRequestId<H> {
    fn call(&mut self, event: &[u8], ctx: &Context, response: &mut Vec<u8>) -> Result<(), Error> {
        REQUEST_ID.with_borrow_mut(|id| {
            id.clear();
            id.push_str(&ctx.request_id);
        });
        self.0.call(event, ctx, response)
    }
}

/// Sets up `env_logger`: the level from `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else INFO.
pub fn init() {
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let mut builder = env_logger::Builder::new();
    match std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .ok()
        .and_then(|l| lambda_level(&l))
    {
        Some(level) => builder.filter_level(level),
        None => match std::env::var("RUST_LOG") {
            Ok(spec) => builder.parse_filters(&spec),
            Err(_) => builder.filter_level(LevelFilter::Info),
        },
    };
    builder.format(move |buf, record| {
        REQUEST_ID.with_borrow(|request_id| {
            if json {
                let line = JsonLine {
                    timestamp: Rfc3339(SystemTime::now()),
                    level: record.level().as_str(),
                    message: record.args().to_string(),
                    request_id: (!request_id.is_empty()).then_some(request_id.as_str()),
                };
                serde_json::to_writer(&mut *buf, &line).map_err(std::io::Error::other)?;
                writeln!(buf)
            } else if request_id.is_empty() {
                writeln!(buf, "[{}] {}", record.level(), record.args())
            } else {
                writeln!(buf, "[{}] {} {}", record.level(), request_id, record.args())
            }
        })
    });
    builder.init();
}

/// Lambda's log levels; FATAL has no `log` equivalent and maps to ERROR.
fn lambda_level(level: &str) -> Option<LevelFilter> {
    Some(match level.trim().to_ascii_uppercase().as_str() {
        "TRACE" => LevelFilter::Trace,
        "DEBUG" => LevelFilter::Debug,
        "INFO" => LevelFilter::Info,
        "WARN" => LevelFilter::Warn,
        "ERROR" | "FATAL" => LevelFilter::Error,
        _ => return None,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonLine<'a> {
    timestamp: Rfc3339,
    level: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

/// A UTC time written as `2026-11-22T23:04:05.123Z`.
struct Rfc3339(SystemTime);

impl Serialize for Rfc3339 {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("{}", self))
    }
}

impl std::fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let since_epoch = self.0.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = since_epoch.as_secs();
        let (year, month, day) = civil_from_days((secs / 86_400) as i64);
        let rem = secs % 86_400;
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
            rem / 3600,
            rem / 60 % 60,
            rem % 60,
            since_epoch.subsec_millis()
        )
    }
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_rfc3339_utc_with_millis() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_820_645_123);
        assert_eq!(Rfc3339(t).to_string(), "2026-11-27T23:04:05.123Z");
        assert_eq!(Rfc3339(UNIX_EPOCH).to_string(), "1970-01-01T00:00:00.000Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(Rfc3339(leap).to_string(), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn lambda_levels_map_to_log_levels() {
        assert_eq!(lambda_level("fatal"), Some(LevelFilter::Error));
        assert_eq!(lambda_level("WARN"), Some(LevelFilter::Warn));
        assert_eq!(lambda_level("loud"), None);
    }
}
