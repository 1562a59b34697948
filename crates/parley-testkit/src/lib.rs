//! Contract suites for the storage ports of `parley-core`: every adapter (SQLite
//! locally, the AWS adapters in the cloud) runs the very same assertions, so they
//! cannot drift apart in what they promise the use cases.
//!
//! Each suite is a public async function taking the port as a trait object —
//! `&dyn Port`, or `Arc<dyn Port>` for the concurrency suites, which spawn tasks. Every
//! suite makes fresh random ids, so several suites may share one store (and may run
//! at the same time). A suite panics with a message naming the broken promise.
//!
//! Layout: [`fixtures`] builds valid domain objects; `bots.rs`, `sessions.rs`,
//! `rooms.rs`, `messages.rs`, `quotas.rs`, `personas.rs` hold one suite per port,
//! `replies.rs` the suite of a reply saved as it grows (streaming, stop, failure),
//! `charged.rs` the suite of a message stored together with its quota charges,
//! `exchange.rs` the suite of a send's two transactions (open and finish), and
//! `concurrency.rs` the suites that race many tasks against one store.

mod bots;
mod charged;
mod concurrency;
mod exchange;
pub mod fixtures;
mod messages;
mod paging;
mod personas;
mod quotas;
mod replies;
mod rooms;
mod sessions;

pub use bots::bot_store_contract;
pub use charged::{append_charged_contract, concurrent_append_charged_contract};
pub use concurrency::{concurrent_appends_contract, concurrent_client_id_contract, concurrent_quota_contract};
pub use exchange::{concurrent_exchange_contract, exchange_contract};
pub use fixtures::{bot, guest_session, member, new_message, room, session, user};
pub use messages::message_store_contract;
pub use personas::persona_store_contract;
pub use quotas::{quota_add_contract, quota_store_contract};
pub use replies::reply_progress_contract;
pub use rooms::room_store_contract;
pub use sessions::session_store_contract;
