//! Request handlers, one module per area. Each handler is `fn(Ctx) -> HandlerFuture` and is
//! listed in [`crate::router::ROUTES`].

pub mod acl;
pub mod audit;
pub mod auth;
pub mod departments;
pub mod dhcp;
pub mod dns;
pub mod docs;
pub mod groups;
pub mod settings;
pub mod ssh_keys;
pub mod sudo;
pub mod system;
pub mod systems;
pub mod templates;
pub mod users;
