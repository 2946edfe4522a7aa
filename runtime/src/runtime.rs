//! The invoke loop: init, then poll `/next` → call the handler → answer, forever; on the calling
//! thread, or on N worker threads at once (Lambda Managed Instances).

use std::any::Any;
use std::convert::Infallible;
use std::num::NonZeroUsize;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::ExitCode;
use std::sync::Once;

use crate::client::{
    BaseUrl, Finished, Invocation, Next, Posted, RuntimeApi, StreamedResponse, network_failed,
};
use crate::error::{AddressError, ApiError, HeaderError, Location};
use crate::protocol::*;
use crate::retry::with_retries;
use crate::{Context, Error, Handler, ResponseStream, StreamingHandler, config, logging};

/// An error report refused as too large is sent again with its message cut to this size.
const SHORT_ERROR_MESSAGE: usize = 4096;

/// Runs `handler` for every invocation until the process is stopped.
///
/// Returns only when the runtime cannot go on, with the exit code to end the process with:
/// 2 when `AWS_LAMBDA_RUNTIME_API` or `AWS_LAMBDA_MAX_CONCURRENCY` is unusable, 1 when the
/// Runtime API failed.
///
/// With `AWS_LAMBDA_MAX_CONCURRENCY` = N > 1 (Lambda Managed Instances), N worker threads each
/// serve invocations on their own connection, each with its own clone of `handler` (hence
/// `Clone + Send`; see [`Handler`]). Unset or 1: one loop on the calling thread, no other
/// thread. Worker threads get Rust's default stack of 2 MiB (only the pages touched count
/// against memory); `RUST_MIN_STACK` (bytes) changes it.
///
/// Unless the program installed a logger first, `run` installs the Lambda-style logger (the
/// `logging` feature, on by default: see the crate's README).
///
/// ```no_run
/// use lambda_blocking_rt::{Context, Error};
///
/// fn main() -> std::process::ExitCode {
///     lambda_blocking_rt::run(|event: &[u8], _ctx: &Context| Ok::<_, Error>(event.to_vec()))
/// }
/// ```
pub fn run<H: Handler + Clone + Send>(handler: H) -> ExitCode {
    run_with_init(move || Ok::<_, Error>(handler))
}

/// Like [`run`], but builds the handler first (once, however many workers serve it) and reports
/// a failure to build it (an `Err` or a panic) to Lambda as an init error, then returns exit
/// code 1.
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
    H: Handler + Clone + Send,
    F: FnOnce() -> Result<H, Error>,
{
    logging::install();
    let base = match std::env::var(ENV_RUNTIME_API) {
        Ok(value) => config::base_url(&value).map_err(|e| e.to_string()),
        Err(_) => Err(AddressError::Missing.to_string()),
    };
    let workers = config::max_concurrency(std::env::var(ENV_MAX_CONCURRENCY).ok().as_deref())
        .map_err(|e| e.to_string());
    let (base, workers) = match (base, workers) {
        (Ok(base), Ok(workers)) => (base, workers),
        (Err(e), _) | (_, Err(e)) => {
            // Said plainly on stderr: a logger may not show it, and this is a person's mistake.
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    install_panic_hook();
    // SAFETY: before the user's init runs (it may start threads that read the environment) and
    // before the runtime starts any thread of its own: this is still the only thread.
    unsafe { std::env::remove_var(ENV_TRACE_ID) };
    crate::shutdown::install(&base);
    let mut api = RuntimeApi::new(base.clone());

    let handler = match catch_unwind(AssertUnwindSafe(init)) {
        Ok(Ok(handler)) => handler,
        Ok(Err(error)) => return fail_init(&mut api, error),
        Err(payload) => return fail_init(&mut api, panic_error(&*payload)),
    };
    if workers.get() == 1 {
        let Err(e) = serve(&mut api, handler, TraceEnv::Set);
        logging::fatal!("the Runtime API failed, so this runtime exits: {e}");
        return ExitCode::FAILURE;
    }
    serve_concurrently(api, &base, handler, workers)
}

fn fail_init(api: &mut RuntimeApi, error: Error) -> ExitCode {
    logging::fatal!("init failed: {error}");
    match report(&error, |e| api.report_init_error(e)) {
        Ok(Posted::Accepted) => {}
        Ok(other) => logging::fatal!("POST /runtime/init/error was not accepted: {other:?}"),
        Err(e) => logging::fatal!("could not report the init error: {e}"),
    }
    ExitCode::FAILURE
}

/// Whether the loop sets `_X_AMZN_TRACE_ID` for each invocation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TraceEnv {
    /// One invocation at a time: the variable follows the invocation's trace header.
    Set,
    /// Several at once: the environment is the process's, shared by every worker, and changing
    /// it while other threads run is undefined behaviour. The trace id is in `Context` only.
    Leave,
}

/// N workers, each its own loop on its own connection with its own clone of the handler.
/// Returns only if every worker stopped; a fatal Runtime API status ends the process at once.
fn serve_concurrently<H: Handler + Clone + Send>(
    first: RuntimeApi,
    base: &BaseUrl,
    handler: H,
    workers: NonZeroUsize,
) -> ExitCode {
    let workers = workers.get();
    log::debug!("serving up to {workers} invocations at once, one worker thread each");
    let mut first = Some(first);
    std::thread::scope(|scope| {
        for n in 0..workers {
            let mut api = first
                .take()
                .unwrap_or_else(|| RuntimeApi::new(base.clone()));
            let handler = handler.clone();
            let worker = move || {
                let outcome = catch_unwind(AssertUnwindSafe(|| {
                    let Err(e) = serve(&mut api, handler, TraceEnv::Leave);
                    e
                }));
                match outcome {
                    Ok(e) => exit_once(&e),
                    // Handler panics are caught per invocation; this is a fault of the runtime
                    // itself. The other workers go on serving.
                    Err(payload) => log::error!(
                        "worker {n} stopped: {}; {} others go on",
                        panic_message(&*payload),
                        workers - 1
                    ),
                }
            };
            let spawned = std::thread::Builder::new()
                .name(format!("lambda-worker-{n}"))
                .spawn_scoped(scope, worker);
            if let Err(e) = spawned {
                logging::fatal!("could not start worker {n} of {workers}: {e}");
                if n == 0 {
                    return;
                }
                break;
            }
        }
    });
    logging::fatal!("every worker stopped, so this runtime exits");
    ExitCode::FAILURE
}

/// Ends the process for a fatal Runtime API failure seen by one worker: logged once, exit 1
/// at once. Invocations other workers have in flight are abandoned; the Runtime API reported
/// the environment broken, so their answers could not be delivered anyway, and Lambda reports
/// them failed and starts a new environment.
fn exit_once(error: &ApiError) -> ! {
    static EXIT: Once = Once::new();
    EXIT.call_once(|| {
        logging::fatal!("the Runtime API failed, so this runtime exits: {error}");
        std::process::exit(1)
    });
    // Another worker is ending the process; wait for it.
    loop {
        std::thread::park();
    }
}

/// The loop. Buffers live across invocations, so a warm invocation allocates only what the
/// HTTP layer and the handler do.
fn serve<H: Handler>(
    api: &mut RuntimeApi,
    mut handler: H,
    trace_env: TraceEnv,
) -> Result<Infallible, ApiError> {
    // The function's fields are read from the environment while the first poll waits: until
    // `/next` is sent, init is not over.
    let mut ctx = Context::default();
    let mut function_fields_read = false;
    // The event is the front of `event`, as long as `/next` said; the rest is the bytes of
    // earlier events, kept so reading the next one zeroes nothing (`client::read_event`).
    let mut event = Vec::new();
    let mut response = Vec::new();
    let mut scratch = Vec::new();
    let mut trace_id: Option<String> = None;
    loop {
        let mut read_function_fields = || {
            if !function_fields_read {
                ctx = Context::from_env();
                function_fields_read = true;
            }
        };
        let next =
            match with_retries(|| api.next_invocation(&mut event, &mut read_function_fields))? {
                Next::Event(next) => next,
                Next::Unreadable {
                    request_id,
                    invocation_id,
                    reason,
                } => {
                    answer_unreadable(api, request_id, invocation_id, reason, &mut scratch)?;
                    continue;
                }
            };
        let headers = ctx.update_from_header_pairs(api.next_headers().pairs());
        let (event_len, body_error) = (next.event_len, next.body_error);
        if !matches!(headers, Err(HeaderError::MissingRequestId))
            && !api.can_address(&ctx.request_id)
        {
            log::error!(
                "an invocation was dropped: its request id is {} bytes, too long for the URL of its answer, so it cannot be answered (it starts {:?})",
                ctx.request_id.len(),
                ctx.request_id.get(..64).unwrap_or("")
            );
            continue;
        }
        let outcome = match headers {
            Err(HeaderError::MissingRequestId) => {
                return Err(ApiError::Unanswerable(HeaderError::MissingRequestId));
            }
            Err(invalid) => Err(Error::new(ERROR_INVALID_EVENT, invalid.to_string())),
            Ok(()) => match body_error {
                Some(cut) => Err(Error::new(
                    ERROR_INVALID_EVENT,
                    format!(
                        "the event body did not arrive whole ({} bytes read): {cut}",
                        event_len
                    ),
                )),
                None => {
                    if trace_env == TraceEnv::Set {
                        set_trace_id(&mut trace_id, ctx.xray_trace_id.as_deref());
                    }
                    logging::enter(&ctx);
                    if let Some(streaming) = handler.as_streaming() {
                        let event = &event[..event_len];
                        let streamed = stream(api, streaming, event, &ctx, &mut scratch);
                        logging::leave();
                        streamed?;
                        continue;
                    }
                    response.clear();
                    match catch_unwind(AssertUnwindSafe(|| {
                        handler.call(&event[..event_len], &ctx, &mut response)
                    })) {
                        Ok(result) => result,
                        Err(payload) => Err(panic_error(&*payload)),
                    }
                }
            },
        };
        let answered = answer(api, &Invocation::of(&ctx), outcome, &response, &mut scratch);
        logging::leave();
        answered?;
    }
}

/// An invocation was handed out whose `/next` answer could not be read (its head is over the
/// limits it is read with): answered with `Runtime.InvalidEvent` saying so when its request id
/// was found in what arrived, else logged, once, at ERROR. Polling goes on either way.
fn answer_unreadable(
    api: &mut RuntimeApi,
    request_id: Option<String>,
    invocation_id: Option<String>,
    reason: String,
    scratch: &mut Vec<u8>,
) -> Result<(), ApiError> {
    match request_id {
        Some(request_id) if api.can_address(&request_id) => {
            let invocation = Invocation {
                request_id: &request_id,
                invocation_id: invocation_id.as_deref(),
            };
            let error = Error::new(ERROR_INVALID_EVENT, reason);
            answer(api, &invocation, Err(error), &[], scratch)
        }
        _ => {
            log::error!(
                "an invocation was dropped: {reason}; no usable request id was found in it, so it cannot be answered"
            );
            Ok(())
        }
    }
}

/// Sends exactly one answer for the invocation: the response, or the error (including the error
/// that replaces a response the API refused as too large, or one that could never be sent).
/// A post that fails on this runtime's own limits, not the network's, is not the environment's
/// fault: it is reported or logged, and serving goes on.
fn answer(
    api: &mut RuntimeApi,
    invocation: &Invocation<'_>,
    outcome: Result<(), Error>,
    response: &[u8],
    scratch: &mut Vec<u8>,
) -> Result<(), ApiError> {
    let request_id = invocation.request_id;
    let error = match outcome {
        Ok(()) => match with_retries(|| api.post_response(invocation, response)) {
            Err(ApiError::Transport { source, .. }) if !network_failed(&source) => Error::new(
                ERROR_UNSENDABLE_RESPONSE,
                format!("the response could not be sent: {source}"),
            ),
            Err(e) => return Err(e),
            Ok(Posted::Accepted) => return Ok(()),
            Ok(Posted::TooLarge) => Error::new(
                ERROR_RESPONSE_TOO_LARGE,
                format!(
                    "the response is {} bytes, more than the Runtime API accepts",
                    response.len()
                ),
            ),
            Ok(Posted::Gone) => {
                log_gone(request_id, "response");
                return Ok(());
            }
            Ok(Posted::Refused(status)) => {
                log::error!("the response for {request_id} was refused with HTTP {status}");
                return Ok(());
            }
        },
        Err(error) => {
            log::debug!("invocation {request_id} failed: {error}");
            error
        }
    };
    match report(&error, |e| api.post_error(invocation, e, scratch)) {
        Ok(Posted::Accepted) => {}
        Ok(Posted::Gone) => log_gone(request_id, "error report"),
        Ok(refused) => {
            log::error!("the error report for {request_id} was refused ({refused:?}): {error}")
        }
        Err(ApiError::Transport { source, .. }) if !network_failed(&source) => log::error!(
            "the error report for {request_id} could not be sent, and never could ({source}): {error}"
        ),
        Err(e) => return Err(e),
    }
    Ok(())
}

/// Runs a streaming handler: what it writes goes to Lambda as it is written; an error or panic
/// after the first byte ends the stream with the error trailers, one before it is an ordinary
/// error report (`/error`), as is a stream whose connection broke.
fn stream(
    api: &mut RuntimeApi,
    handler: &mut dyn StreamingHandler,
    event: &[u8],
    ctx: &Context,
    scratch: &mut Vec<u8>,
) -> Result<(), ApiError> {
    let invocation = Invocation::of(ctx);
    let request_id = invocation.request_id;
    let mut streamed = StreamedResponse::new(&mut api.stream_target, invocation);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        handler.stream(event, ctx, &mut ResponseStream::new(&mut streamed))
    }))
    .unwrap_or_else(|payload| Err(panic_error(&*payload)));
    // An error before the first byte goes to `answer`, which logs it.
    if let (Err(error), true) = (&outcome, streamed.started()) {
        log::debug!("invocation {request_id} failed: {error}");
    }
    let sent = streamed.sent();
    let error = match streamed.finish(outcome)? {
        Finished::Posted(Posted::Accepted) => return Ok(()),
        Finished::Posted(Posted::Gone) => {
            log_gone(request_id, "streamed response");
            return Ok(());
        }
        // As for a buffered response: the invocation is answered with the size error.
        Finished::Posted(Posted::TooLarge) => Error::new(
            ERROR_RESPONSE_TOO_LARGE,
            format!("the streamed response was refused as too large after {sent} bytes"),
        ),
        Finished::Posted(refused) => {
            log::error!(
                "the streamed response for {request_id} was refused ({refused:?}) after {sent} bytes"
            );
            return Ok(());
        }
        Finished::NotStarted(error) => error,
        Finished::Broken(e) => {
            log::error!("the streamed response for {request_id} broke after {sent} bytes: {e}");
            Error::new(
                ERROR_STREAM_BROKEN,
                format!("the streamed response broke after {sent} bytes: {e}"),
            )
        }
    };
    answer(api, &invocation, Err(error), &[], scratch)
}

/// A 410: Lambda already gave up on this invocation (it timed out, or this attempt was
/// superseded), so its answer is refused. Nothing is wrong with the environment: go on.
fn log_gone(request_id: &str, what: &str) {
    log::warn!(
        "invocation {request_id} already timed out: its {what} was refused (HTTP 410 Gone); serving the next one"
    );
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

/// `_X_AMZN_TRACE_ID` follows the current invocation's trace header, and is removed when it has
/// none, so no invocation sees the previous one's trace. `current` is what the variable holds
/// (the loop clears it before the first invocation), so an unchanged value costs nothing.
fn set_trace_id(current: &mut Option<String>, trace_id: Option<&str>) {
    if current.as_deref() == trace_id {
        return;
    }
    // SAFETY: only with one invocation at a time (`TraceEnv::Set`): the loop is the only thread
    // the runtime runs, and it changes the variable between invocations, while no handler code
    // runs on it.
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

thread_local! {
    /// Where the last panic on this thread happened, left by the panic hook for the report.
    static PANIC_LOCATION: std::cell::RefCell<Option<Location>> =
        const { std::cell::RefCell::new(None) };
}

/// The error report for a caught panic, with where it happened.
fn panic_error(payload: &(dyn Any + Send)) -> Error {
    let location = PANIC_LOCATION.with_borrow_mut(Option::take);
    Error::panicked(ERROR_HANDLER_PANIC, panic_message(payload), location)
}

/// Panics are reported to Lambda by the loop; the hook logs where it happened, through `log`
/// when a logger is set (so JSON log lines stay JSON), else on stderr, and leaves the place for
/// the report.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = panic_message(info.payload());
        let location = info.location().map(|l| Location {
            file: l.file().to_owned(),
            line: l.line(),
            column: l.column(),
        });
        let place = location
            .as_ref()
            .map(|l| format!(" at {}:{}", l.file, l.line))
            .unwrap_or_default();
        PANIC_LOCATION.set(location);
        logging::fatal!("handler panicked{place}: {message}");
    }));
}
