//! A `Router`: several handlers in one binary, one of them chosen by the `_HANDLER` setting.

use crate::handler::BoxedHandler;
use crate::protocol::{ENV_HANDLER, ERROR_NO_SUCH_HANDLER};
use crate::{Error, Handler};

type Factory = Box<dyn FnOnce() -> Result<BoxedHandler, Error>>;

/// Handlers registered by name; [`Router::select`] builds the one a function is configured for.
///
/// ```
/// use lambda_blocking_rt::{Context, Error, Router};
///
/// let router = Router::new()
///     .route("upper", |e: &[u8], _: &Context| Ok::<_, Error>(e.to_ascii_uppercase()))
///     .route("lower", |e: &[u8], _: &Context| Ok::<_, Error>(e.to_ascii_lowercase()));
/// assert_eq!(router.names().collect::<Vec<_>>(), ["upper", "lower"]);
///
/// let err = router.select("title").err().unwrap();
/// assert_eq!(err.error_type(), "Runtime.NoSuchHandler");
/// assert!(err.message().contains("upper, lower"));
/// ```
///
/// A router with a single handler serves it under any name:
///
/// ```
/// use lambda_blocking_rt::{Context, Error, Router};
///
/// let one = Router::new().route("orders", |e: &[u8], _: &Context| Ok::<_, Error>(e.to_vec()));
/// assert!(one.select("bootstrap").is_ok());
/// ```
///
/// In `main`: `lambda_blocking_rt::run_with_init(|| router.select_from_env())`.
#[derive(Default)]
pub struct Router {
    routes: Vec<(String, Factory)>,
}

impl Router {
    /// An empty router.
    pub fn new() -> Self {
        Router::default()
    }

    /// Registers a ready-made handler under `name`.
    pub fn route(
        self,
        name: impl Into<String>,
        handler: impl Handler + Clone + Send + 'static,
    ) -> Self {
        self.route_init(name, move || Ok::<_, Error>(handler))
    }

    /// Registers a handler that is built only if selected; a build failure is reported to Lambda
    /// as an init error.
    pub fn route_init<H, F>(mut self, name: impl Into<String>, init: F) -> Self
    where
        H: Handler + Clone + Send + 'static,
        F: FnOnce() -> Result<H, Error> + 'static,
    {
        let factory: Factory = Box::new(move || init().map(BoxedHandler::new));
        self.routes.push((name.into(), factory));
        self
    }

    /// The registered names, in registration order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.routes.iter().map(|(name, _)| name.as_str())
    }

    /// Builds the handler registered as `name`; an empty name selects the first one registered.
    /// A router with one handler serves it whatever the name (`bootstrap`, `index.handler`: the
    /// function's Handler setting need not match). With several, an unknown name is an error of
    /// type `Runtime.NoSuchHandler` that lists the known names.
    pub fn select(self, name: &str) -> Result<BoxedHandler, Error> {
        let name = name.trim();
        let index = if self.routes.len() == 1 || (name.is_empty() && !self.routes.is_empty()) {
            Some(0)
        } else {
            self.routes.iter().position(|(n, _)| n == name)
        };
        self.build(index, name)
    }

    /// Builds the handler at `index`, or says that none is registered as `name`.
    fn build(mut self, index: Option<usize>, name: &str) -> Result<BoxedHandler, Error> {
        match index {
            Some(i) => (self.routes.swap_remove(i).1)(),
            None => Err(Error::new(
                ERROR_NO_SUCH_HANDLER,
                format!(
                    "no handler named {name:?} (from _HANDLER); this binary has: {}",
                    self.names().collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    }

    /// [`Router::select`] with the function's `_HANDLER` setting. A setting that is not UTF-8
    /// is a name no handler has: with several handlers, the same init error as any unknown name.
    pub fn select_from_env(self) -> Result<BoxedHandler, Error> {
        match std::env::var(ENV_HANDLER) {
            Ok(name) => self.select(&name),
            Err(std::env::VarError::NotPresent) => self.select(""),
            Err(std::env::VarError::NotUnicode(name)) => {
                let index = (self.routes.len() == 1).then_some(0);
                self.build(index, &name.to_string_lossy())
            }
        }
    }
}
