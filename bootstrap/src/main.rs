//! The `bootstrap` executable with every shipped handler, chosen by `_HANDLER` (the tests and
//! benchmarks run it). Each function also has a binary of its own, `src/bin/<name>.rs`, which
//! `scripts/build.sh` ships.
//!
//! Unset or empty `_HANDLER` selects the first handler (`echo`); an
//! unknown name is reported to Lambda as an init error of type `Runtime.NoSuchHandler`.

use std::process::ExitCode;

use lambda_blocking_rt::Router;

fn main() -> ExitCode {
    let router = Router::new()
        .route("echo", handlers::echo::Echo)
        .route("fibonacci", handlers::fibonacci::Fibonacci)
        .route_init("error", handlers::error::init)
        .route("panic", handlers::panic::Panics)
        .route("context", handlers::context::ShowContext)
        .route("hello", handlers::hello::handler())
        .route("sleep", handlers::sleep::Sleep)
        .route("stream", handlers::stream::handler())
        .route("http-stream", handlers::http_stream::handler())
        .route("web", handlers::web::handler())
        .route("web-stream", handlers::web::streaming_handler());
    lambda_blocking_rt::run_with_init(|| router.select_from_env())
}
