//! The invoke loop: init, then poll `/next` → call the handler → answer, forever.

use std::any::Any;
use std::convert::Infallible;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::client::{Posted, RuntimeApi};
use crate::error::{AddressError, ApiError, HeaderError};
use crate::protocol::*;
use crate::{Context, Error, Handler, config};

/// How long a failing connection to the Runtime API is retried before the runtime gives up.
const RETRY_BUDGET: Duration = Duration::from_secs(10);
/// The first retry is immediate (a keep-alive connection closed by the other side is the usual
/// cause); later ones wait this long, doubling up to `MAX_RETRY_DELAY`.
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(10);
const MAX_RETRY_DELAY: Duration = Duration::from_millis(500);
/// An error report refused as too large is sent again with its message cut to this size.
const SHORT_ERROR_MESSAGE: usize = 4096;

/// Runs `handler` for every invocation until the process is stopped.
///
/// Returns only when the runtime cannot go on, with the exit code to end the process with:
/// 2 when `AWS_LAMBDA_RUNTIME_API` is missing or unusable, 1 when the Runtime API failed.
///
/// ```no_run
/// use lambda_blocking_rt::{Context, Error};
///
/// fn main() -> std::process::ExitCode {
///     lambda_blocking_rt::run(|event: &[u8], _ctx: &Context| Ok::<_, Error>(event.to_vec()))
/// }
/// ```
pub fn run<H: Handler>(handler: H) -> ExitCode {
    run_with_init(move || Ok::<_, Error>(handler))
}

/// Like [`run`], but builds the handler first and reports a failure to build it (an `Err` or a
/// panic) to Lambda as an init error, then returns exit code 1.
///
/// ```no_run
/// use lambda_blocking_rt::{Context, Error, Router};
///
/// fn main() -> std::process::ExitCode {
///     let router = Router::new()
///         .route("echo", |e: &[u8], _: &Context| Ok::<_, Error>(e.to_vec()));
///     lambda_blocking_rt::run_with_init(|| router.select_from_env())
/// }
/// ```
pub fn run_with_init<H, F>(init: F) -> ExitCode
where
    H: Handler,
    F: FnOnce() -> Result<H, Error>,
{
    let base = match std::env::var(ENV_RUNTIME_API) {
        Ok(value) => config::base_url(&value),
        Err(_) => Err(AddressError::Missing),
    };
    let base = match base {
        Ok(base) => base,
        Err(e) => {
            // Said plainly on stderr: a logger may not be set up, and this is a person's mistake.
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    install_panic_hook();
    crate::shutdown::install();
    let mut api = RuntimeApi::new(base);

    let handler = match catch_unwind(AssertUnwindSafe(init)) {
        Ok(Ok(handler)) => handler,
        Ok(Err(error)) => return fail_init(&mut api, error),
        Err(payload) => {
            return fail_init(
                &mut api,
                Error::new(ERROR_HANDLER_PANIC, panic_message(&*payload)),
            );
        }
    };
    match serve(&mut api, handler) {
        Err(e) => {
            log::error!("the Runtime API failed, so this runtime exits: {e}");
            ExitCode::FAILURE
        }
    }
}

fn fail_init(api: &mut RuntimeApi, error: Error) -> ExitCode {
    log::error!("init failed: {error}");
    match report(&error, |e| api.report_init_error(e)) {
        Ok(Posted::Accepted) => {}
        Ok(other) => log::error!("POST /runtime/init/error was not accepted: {other:?}"),
        Err(e) => log::error!("could not report the init error: {e}"),
    }
    ExitCode::FAILURE
}

/// The loop. Buffers live across invocations, so a warm invocation allocates only what the
/// HTTP layer and the handler do.
fn serve<H: Handler>(api: &mut RuntimeApi, mut handler: H) -> Result<Infallible, ApiError> {
    let mut ctx = Context::from_env();
    let mut event = Vec::new();
    let mut response = Vec::new();
    let mut scratch = Vec::new();
    // SAFETY: as in `set_trace_id`; no handler code has run yet.
    unsafe { std::env::remove_var(ENV_TRACE_ID) };
    let mut trace_id: Option<String> = None;
    loop {
        let next = with_retries(|| api.next_invocation(&mut event))?;
        let outcome = match ctx.update_from_headers(&next.headers) {
            Err(HeaderError::MissingRequestId) => {
                return Err(ApiError::Unanswerable(HeaderError::MissingRequestId));
            }
            Err(invalid) => Err(Error::new(ERROR_INVALID_EVENT, invalid.to_string())),
            Ok(()) => match next.body_error {
                Some(cut) => Err(Error::new(
                    ERROR_INVALID_EVENT,
                    format!(
                        "the event body did not arrive whole ({} bytes read): {cut}",
                        event.len()
                    ),
                )),
                None => {
                    set_trace_id(&mut trace_id, ctx.xray_trace_id.as_deref());
                    response.clear();
                    match catch_unwind(AssertUnwindSafe(|| {
                        handler.call(&event, &ctx, &mut response)
                    })) {
                        Ok(result) => result,
                        Err(payload) => {
                            Err(Error::new(ERROR_HANDLER_PANIC, panic_message(&*payload)))
                        }
                    }
                }
            },
        };
        answer(api, &ctx.request_id, outcome, &response, &mut scratch)?;
    }
}

/// Sends exactly one answer for `request_id`: the response, or the error (including the error
/// that replaces a response the API refused as too large).
fn answer(
    api: &mut RuntimeApi,
    request_id: &str,
    outcome: Result<(), Error>,
    response: &[u8],
    scratch: &mut Vec<u8>,
) -> Result<(), ApiError> {
    let error = match outcome {
        Ok(()) => match with_retries(|| api.post_response(request_id, response))? {
            Posted::Accepted => return Ok(()),
            Posted::TooLarge => Error::new(
                ERROR_RESPONSE_TOO_LARGE,
                format!(
                    "the response is {} bytes, more than the Runtime API accepts",
                    response.len()
                ),
            ),
            Posted::Refused(status) => {
                log::error!("the response for {request_id} was refused with HTTP {status}");
                return Ok(());
            }
        },
        Err(error) => {
            log::debug!("invocation {request_id} failed: {error}");
            error
        }
    };
    match report(&error, |e| api.post_error(request_id, e, scratch))? {
        Posted::Accepted => {}
        refused => {
            log::error!("the error report for {request_id} was refused ({refused:?}): {error}")
        }
    }
    Ok(())
}

/// Sends `error` with `post` (retrying transport failures); an error report the API refuses as
/// too large is sent once more with its message cut to `SHORT_ERROR_MESSAGE`.
fn report(
    error: &Error,
    mut post: impl FnMut(&Error) -> Result<Posted, ApiError>,
) -> Result<Posted, ApiError> {
    match with_retries(|| post(error))? {
        Posted::TooLarge => {
            let short = error.truncated(SHORT_ERROR_MESSAGE);
            with_retries(|| post(&short))
        }
        other => Ok(other),
    }
}

/// Runs `op`, retrying transport failures with a short, growing pause until `RETRY_BUDGET` is
/// spent. Statuses are never retried: the API meant them.
fn with_retries<T>(mut op: impl FnMut() -> Result<T, ApiError>) -> Result<T, ApiError> {
    let mut first_failure: Option<Instant> = None;
    let mut delay = Duration::ZERO;
    loop {
        match op() {
            Err(ApiError::Transport { endpoint, source }) => {
                let since = *first_failure.get_or_insert_with(Instant::now);
                if since.elapsed() + delay > RETRY_BUDGET {
                    return Err(ApiError::Transport { endpoint, source });
                }
                if delay.is_zero() {
                    log::debug!("{endpoint} failed ({source}); retrying on a new connection");
                } else {
                    log::warn!("{endpoint} failed ({source}); retrying in {delay:?}");
                }
                std::thread::sleep(delay);
                delay = (delay * 2).clamp(FIRST_RETRY_DELAY, MAX_RETRY_DELAY);
            }
            other => return other,
        }
    }
}

/// `_X_AMZN_TRACE_ID` follows the current invocation's trace header, and is removed when it has
/// none, so no invocation sees the previous one's trace. `current` is what the variable holds
/// (the loop clears it before the first invocation), so an unchanged value costs nothing.
fn set_trace_id(current: &mut Option<String>, trace_id: Option<&str>) {
    if current.as_deref() == trace_id {
        return;
    }
    // SAFETY: the runtime's loop is the only thread the runtime runs, and it changes the
    // variable between invocations, while no handler code runs on it.
    unsafe {
        match trace_id {
            Some(id) => std::env::set_var(ENV_TRACE_ID, id),
            None => std::env::remove_var(ENV_TRACE_ID),
        }
    }
    match (current.as_mut(), trace_id) {
        (Some(s), Some(id)) => {
            s.clear();
            s.push_str(id);
        }
        (_, id) => *current = id.map(str::to_owned),
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "the handler panicked with a payload that is not a string".to_owned()
    }
}

/// Panics are reported to Lambda by the loop; the hook only logs where it happened, through
/// `log` when a logger is set (so JSON log lines stay JSON), else on stderr.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = panic_message(info.payload());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        if log::log_enabled!(log::Level::Error) {
            log::error!("handler panicked{place}: {message}");
        } else {
            eprintln!("handler panicked{place}: {message}");
        }
    }));
}
