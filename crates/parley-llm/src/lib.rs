//! Model providers behind parley-core's [`LlmProvider`] port.
//!
//! - [`OfflineModel`]: needs no network and no key, deterministic, and says plainly that
//!   it is an offline model. It serves `make run` on a machine without API keys.
//! - [`OpenAiProvider`] (`openai.rs`): OpenAI Chat Completions and every server that
//!   speaks it (Ollama, vLLM, LM Studio, llama.cpp server).
//! - [`GeminiProvider`] (`gemini.rs`): Google's `generateContent`.
//! - `retry.rs`: the per-attempt timeout, the deadline and the jittered, hint-honouring
//!   retries both HTTP providers share through one [`Transport`] (one reqwest client).
//! - `sse.rs`: server-sent events, for both providers' streams.
//! - [`ModelRouter`]: picks the provider for a request's model from the model catalog.
//! - [`ProvidersConfig`] (`config.rs`): which providers the environment configures, and
//!   the router built from them.

mod config;
mod gemini;
mod offline;
mod openai;
mod retry;
mod router;
mod sse;

pub use config::{
    ApiKey, ConfigError, GEMINI_DEFAULT_BASE_URL, GeminiConfig, MaxTokensField, OPENAI_DEFAULT_BASE_URL, OpenAiConfig,
    ProvidersConfig,
};
pub use gemini::GeminiProvider;
pub use offline::OfflineModel;
pub use openai::OpenAiProvider;
pub use parley_core::ports::LlmProvider;
pub use retry::{RetryPolicy, Transport};
pub use router::ModelRouter;
