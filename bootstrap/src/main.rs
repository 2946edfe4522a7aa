//! The `bootstrap` executable Lambda starts: the shipped handlers, chosen by `_HANDLER`.
//!
//! Unset or empty `_HANDLER` selects the first handler built in (`echo` in the full build); an
//! unknown name is reported to Lambda as an init error of type `Runtime.NoSuchHandler`.

mod logging;

use std::process::ExitCode;

use lambda_blocking_rt::Router;

fn main() -> ExitCode {
    logging::init();
    let router = Router::new();
    #[cfg(feature = "echo")]
    let router = router.route("echo", handlers::echo::Echo);
    #[cfg(feature = "fibonacci")]
    let router = router.route("fibonacci", handlers::fibonacci::Fibonacci);
    #[cfg(feature = "error")]
    let router = router.route_init("error", handlers::error::init);
    #[cfg(feature = "panic")]
    let router = router.route("panic", handlers::panic::Panics);
    #[cfg(feature = "context")]
    let router = router.route("context", handlers::context::ShowContext);
    #[cfg(feature = "hello")]
    let router = router.route("hello", handlers::hello::handler());
    lambda_blocking_rt::run_with_init(|| router.select_from_env().map(logging::WithRequestId))
}
