//! Model providers behind parley-core's [`LlmProvider`] port.
//!
//! - [`OfflineModel`]: needs no network and no key, deterministic, and says plainly that
//!   it is an offline model. It serves `make run` on a machine without API keys.
//! - [`ModelRouter`]: picks the provider for a request's model from the model catalog.
//!
//! The OpenAI and Gemini clients join [`ModelRouter`] as further providers.

mod offline;
mod router;

pub use offline::OfflineModel;
pub use parley_core::ports::LlmProvider;
pub use router::ModelRouter;
