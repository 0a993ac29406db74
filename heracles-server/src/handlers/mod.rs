//! Request handlers, one module per area. Each handler is `fn(Ctx) -> HandlerFuture` and is
//! listed in [`crate::router::ROUTES`].

pub mod docs;
pub mod system;
