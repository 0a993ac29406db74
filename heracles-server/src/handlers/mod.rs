//! Request handlers, one module per area. Each handler is `fn(Ctx) -> HandlerFuture` and is
//! listed in [`crate::router::ROUTES`].

pub mod auth;
pub mod docs;
pub mod system;
