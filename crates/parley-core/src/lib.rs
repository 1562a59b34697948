//! The Parley domain: bots, sessions, rooms and messages, the rules of who may do what,
//! and the use cases behind every route of the HTTP API.
//!
//! Nothing here knows about AWS, HTTP or SQL. Layout:
//! - [`values`] and [`ids`]: validated newtypes; an invalid value cannot be constructed.
//! - [`bot`], [`persona`], [`session`], [`room`], [`message`], [`principal`], [`quota`]: the domain types.
//! - [`limits`]: rate limits per client address and the per-bot guest-session budget.
//! - [`ports`]: the traits that adapters (SQLite, AWS, model providers) implement.
//! - [`policy`]: every permission rule of the actor table, in one place.
//! - [`models`]: the configured list of allowed models.
//! - [`prompt`]: what the model sees (system prompt and memory window).
//! - [`usecases`]: [`usecases::Parley`], one method per API operation.

pub mod bot;
pub mod error;
pub mod ids;
pub mod limits;
pub mod message;
pub mod models;
pub mod persona;
pub mod policy;
pub mod ports;
pub mod principal;
pub mod prompt;
pub mod quota;
pub mod room;
pub mod session;
pub mod usecases;
pub mod values;

pub use error::{CoreError, PdfError, StoreError};
pub use principal::Principal;
pub use usecases::{Parley, Settings};
