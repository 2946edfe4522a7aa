//! Log records as Lambda wants them, and the request id each one belongs to.
//!
//! The loop tells this module which invocation the current thread serves ([`enter`], [`leave`]);
//! with the `logging` feature (on by default), [`install`] sets up `env_logger` the Lambda way
//! unless the program installed a logger of its own:
//!
//! - level: `AWS_LAMBDA_LOG_LEVEL` (`TRACE`…`FATAL`), else `RUST_LOG`, else `INFO`;
//! - format: one line per record, `[LEVEL] request-id message` as text, or with
//!   `AWS_LAMBDA_LOG_FORMAT=JSON` one JSON object per line with `timestamp`, `level`, `message`,
//!   `requestId` and `tenantId` (when the invocation has them);
//! - ureq's records (`ureq`, `ureq_proto`, for a handler that calls out with it) stay off
//!   whatever the level, because at TRACE they hex-dump every body, which is customer data.
//!   `RUST_LOG` can still turn them on by name (`RUST_LOG=debug,ureq=trace`).

use std::cell::RefCell;

/// What a log line says about the invocation its thread serves.
#[derive(Default)]
struct Invocation {
    request_id: String,
    tenant_id: Option<String>,
}

thread_local! {
    static CURRENT: RefCell<Invocation> = RefCell::new(Invocation::default());
}

/// Records, for this thread's log lines, that it now serves the invocation `ctx` describes.
/// Reuses the thread's buffers: nothing is allocated once warm.
pub(crate) fn enter(ctx: &crate::Context) {
    if !cfg!(feature = "logging") {
        return;
    }
    CURRENT.with_borrow_mut(|current| {
        current.request_id.clear();
        current.request_id.push_str(&ctx.request_id);
        match (&mut current.tenant_id, &ctx.tenant_id) {
            (Some(mine), Some(theirs)) => {
                mine.clear();
                mine.push_str(theirs);
            }
            (mine, theirs) => *mine = theirs.clone(),
        }
    });
}

/// This thread serves no invocation any more.
pub(crate) fn leave() {
    if !cfg!(feature = "logging") {
        return;
    }
    CURRENT.with_borrow_mut(|current| {
        current.request_id.clear();
        current.tenant_id = None;
    });
}

/// Logs an error the runtime cannot go on after. Said on stderr when no logger would show it
/// (none installed, or one that filters errors out), so a fatal exit never goes unexplained.
macro_rules! fatal {
    ($($arg:tt)+) => {
        if log::log_enabled!(log::Level::Error) {
            log::error!($($arg)+);
        } else {
            eprintln!("error: {}", format_args!($($arg)+));
        }
    };
}
pub(crate) use fatal;

#[cfg(feature = "logging")]
pub(crate) use with_env_logger::install;

/// Without the `logging` feature the program brings its own logger, or none.
#[cfg(not(feature = "logging"))]
pub(crate) fn install() {}

#[cfg(feature = "logging")]
mod with_env_logger {
    use std::io::Write;
    use std::time::{SystemTime, UNIX_EPOCH};

    use log::LevelFilter;
    use serde::Serialize;

    use super::CURRENT;

    /// ureq's modules: off unless `RUST_LOG` names them.
    const QUIET_MODULES: [&str; 2] = ["ureq", "ureq_proto"];

    /// Installs the Lambda-style logger, unless the program has set up a logger already.
    pub(crate) fn install() {
        let json =
            std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
        let mut builder = env_logger::Builder::new();
        builder.filter_level(LevelFilter::Info);
        for module in QUIET_MODULES {
            builder.filter_module(module, LevelFilter::Off);
        }
        match std::env::var("AWS_LAMBDA_LOG_LEVEL")
            .ok()
            .and_then(|l| lambda_level(&l))
        {
            Some(level) => {
                builder.filter_level(level);
            }
            None => {
                if let Ok(spec) = std::env::var("RUST_LOG") {
                    builder.parse_filters(&spec);
                }
            }
        }
        builder.format(move |buf, record| {
            CURRENT.with_borrow(|current| {
                let request_id = &current.request_id;
                if json {
                    let line = JsonLine {
                        timestamp: Rfc3339(SystemTime::now()),
                        level: record.level().as_str(),
                        message: record.args(),
                        request_id: (!request_id.is_empty()).then_some(request_id.as_str()),
                        tenant_id: current.tenant_id.as_deref(),
                    };
                    serde_json::to_writer(&mut *buf, &line).map_err(std::io::Error::other)?;
                    writeln!(buf)
                } else {
                    if request_id.is_empty() {
                        write!(buf, "[{}] ", record.level())?;
                    } else {
                        write!(buf, "[{}] {} ", record.level(), request_id)?;
                    }
                    std::fmt::write(&mut OneLine(&mut *buf), *record.args())
                        .map_err(std::io::Error::other)?;
                    writeln!(buf)
                }
            })
        });
        // Fails only when the program installed a logger of its own: that one is kept.
        let _ = builder.try_init();
    }

    /// Writes a message on one line: a line break in it (a panic or error message carries event
    /// data) is written as `\n` or `\r`, so the message cannot start a log line of its own.
    pub(super) struct OneLine<'a, W>(pub(super) &'a mut W);

    impl<W: Write> std::fmt::Write for OneLine<'_, W> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            let mut rest = s;
            while let Some(at) = rest.bytes().position(|b| b == b'\n' || b == b'\r') {
                let escaped: &[u8] = if rest.as_bytes()[at] == b'\n' {
                    b"\\n"
                } else {
                    b"\\r"
                };
                self.0
                    .write_all(&rest.as_bytes()[..at])
                    .and_then(|()| self.0.write_all(escaped))
                    .map_err(|_| std::fmt::Error)?;
                rest = &rest[at + 1..];
            }
            self.0
                .write_all(rest.as_bytes())
                .map_err(|_| std::fmt::Error)
        }
    }

    /// Lambda's log levels; FATAL has no `log` equivalent and maps to ERROR.
    pub(super) fn lambda_level(level: &str) -> Option<LevelFilter> {
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
        #[serde(serialize_with = "collect_display")]
        message: &'a std::fmt::Arguments<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        request_id: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        tenant_id: Option<&'a str>,
    }

    fn collect_display<S: serde::Serializer>(
        value: &&std::fmt::Arguments<'_>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(*value)
    }

    /// A UTC time written as `2026-11-22T23:04:05.123Z`.
    pub(super) struct Rfc3339(pub(super) SystemTime);

    impl Serialize for Rfc3339 {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_str(self)
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
}

#[cfg(all(test, feature = "logging"))]
mod tests {
    use super::with_env_logger::{OneLine, Rfc3339, lambda_level};
    use log::LevelFilter;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn timestamps_are_rfc3339_utc_with_millis() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_820_645_123);
        assert_eq!(Rfc3339(t).to_string(), "2026-11-27T23:04:05.123Z");
        assert_eq!(Rfc3339(UNIX_EPOCH).to_string(), "1970-01-01T00:00:00.000Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(Rfc3339(leap).to_string(), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn a_message_stays_on_one_line() {
        let mut out = Vec::new();
        let message = "boom\n[ERROR] forged\r\nend";
        std::fmt::write(&mut OneLine(&mut out), format_args!("{message}")).unwrap();
        assert_eq!(out, br"boom\n[ERROR] forged\r\nend");
    }

    #[test]
    fn lambda_levels_map_to_log_levels() {
        assert_eq!(lambda_level("fatal"), Some(LevelFilter::Error));
        assert_eq!(lambda_level("WARN"), Some(LevelFilter::Warn));
        assert_eq!(lambda_level("loud"), None);
    }
}
