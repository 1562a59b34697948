//! Which providers are configured, from the environment, and the router built from them.

use std::sync::Arc;
use std::time::Duration;

use parley_core::models::{ModelCatalog, ProviderKind};

use crate::retry::{RetryPolicy, Transport};
use crate::{GeminiProvider, ModelRouter, OfflineModel, OpenAiProvider};

/// OpenAI's own endpoint, used when `OPENAI_BASE_URL` is not set.
pub const OPENAI_DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// Google's Gemini API endpoint, used when `GEMINI_BASE_URL` is not set.
pub const GEMINI_DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";

/// An API key. Its `Debug` prints `***`, so it cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key itself, for the one header that carries it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Which field of a Chat Completions request carries the output limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaxTokensField {
    /// `max_completion_tokens`: what OpenAI's reference documents (and what its reasoning
    /// models require); `max_tokens` is deprecated there.
    MaxCompletionTokens,
    /// `max_tokens`: what Ollama, LM Studio, llama.cpp server and older vLLM accept.
    MaxTokens,
}

impl MaxTokensField {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MaxCompletionTokens => "max_completion_tokens",
            Self::MaxTokens => "max_tokens",
        }
    }
}

/// An OpenAI or OpenAI-compatible server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenAiConfig {
    /// Local servers (Ollama, vLLM, LM Studio, llama.cpp) need none.
    pub api_key: Option<ApiKey>,
    /// Without the trailing slash, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    pub max_tokens_field: MaxTokensField,
}

impl OpenAiConfig {
    /// OpenAI itself, with this key.
    pub fn openai(api_key: ApiKey) -> Self {
        Self {
            api_key: Some(api_key),
            base_url: OPENAI_DEFAULT_BASE_URL.into(),
            max_tokens_field: MaxTokensField::MaxCompletionTokens,
        }
    }

    /// A compatible server at `base_url` (with `/v1` when the server wants it).
    pub fn compatible(base_url: impl Into<String>, api_key: Option<ApiKey>) -> Self {
        Self {
            api_key,
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            max_tokens_field: MaxTokensField::MaxTokens,
        }
    }
}

/// Google's Gemini API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeminiConfig {
    pub api_key: ApiKey,
    /// Without the trailing slash and without `/v1beta`.
    pub base_url: String,
}

/// Every provider's settings. The default has none configured but the offline model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProvidersConfig {
    pub openai: Option<OpenAiConfig>,
    pub gemini: Option<GeminiConfig>,
    pub retry: RetryPolicy,
}

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{var} must be a whole number of milliseconds greater than 0")]
    NotMillis { var: &'static str },
    #[error("{var} must be a whole number")]
    NotCount { var: &'static str },
    #[error("{var} must be an http:// or https:// URL")]
    NotUrl { var: &'static str },
    #[error("OPENAI_MAX_TOKENS_FIELD must be max_tokens or max_completion_tokens")]
    MaxTokensField,
    #[error("PARLEY_LLM_ATTEMPT_TIMEOUT_MS must not exceed PARLEY_LLM_DEADLINE_MS")]
    AttemptLongerThanDeadline,
    #[error("cannot build the HTTP client")]
    Client(#[source] reqwest::Error),
}

impl ProvidersConfig {
    /// Reads `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_MAX_TOKENS_FIELD`,
    /// `GEMINI_API_KEY`, `GEMINI_BASE_URL`, `PARLEY_LLM_ATTEMPT_TIMEOUT_MS`,
    /// `PARLEY_LLM_DEADLINE_MS` and `PARLEY_LLM_MAX_RETRIES`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`Self::from_env`], from any source of variables.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let url = |name: &'static str| -> Result<Option<String>, ConfigError> {
            match var(name) {
                None => Ok(None),
                Some(v) if v.starts_with("http://") || v.starts_with("https://") => {
                    reqwest::Url::parse(&v).map_err(|_| ConfigError::NotUrl { var: name })?;
                    Ok(Some(v.trim_end_matches('/').to_owned()))
                }
                Some(_) => Err(ConfigError::NotUrl { var: name }),
            }
        };
        let millis = |name: &'static str, default: Duration| -> Result<Duration, ConfigError> {
            match var(name) {
                None => Ok(default),
                Some(v) => match v.parse::<u64>() {
                    Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
                    _ => Err(ConfigError::NotMillis { var: name }),
                },
            }
        };

        let openai_key = var("OPENAI_API_KEY").map(ApiKey);
        let openai = match (url("OPENAI_BASE_URL")?, openai_key) {
            (Some(base), key) => Some(OpenAiConfig::compatible(base, key)),
            (None, Some(key)) => Some(OpenAiConfig::openai(key)),
            (None, None) => None,
        };
        let openai = match (openai, var("OPENAI_MAX_TOKENS_FIELD")) {
            (Some(mut config), Some(field)) => {
                config.max_tokens_field = match field.as_str() {
                    "max_tokens" => MaxTokensField::MaxTokens,
                    "max_completion_tokens" => MaxTokensField::MaxCompletionTokens,
                    _ => return Err(ConfigError::MaxTokensField),
                };
                Some(config)
            }
            (config, _) => config,
        };
        let gemini_base = url("GEMINI_BASE_URL")?.unwrap_or_else(|| GEMINI_DEFAULT_BASE_URL.to_owned());
        let gemini = var("GEMINI_API_KEY").map(|key| GeminiConfig {
            api_key: ApiKey(key),
            base_url: gemini_base,
        });

        let defaults = RetryPolicy::default();
        let retry = RetryPolicy {
            attempt_timeout: millis("PARLEY_LLM_ATTEMPT_TIMEOUT_MS", defaults.attempt_timeout)?,
            deadline: millis("PARLEY_LLM_DEADLINE_MS", defaults.deadline)?,
            max_retries: match var("PARLEY_LLM_MAX_RETRIES") {
                None => defaults.max_retries,
                Some(v) => v.parse().map_err(|_| ConfigError::NotCount {
                    var: "PARLEY_LLM_MAX_RETRIES",
                })?,
            },
            ..defaults
        };
        if retry.attempt_timeout > retry.deadline {
            return Err(ConfigError::AttemptLongerThanDeadline);
        }
        Ok(Self { openai, gemini, retry })
    }

    /// Whether calls to this kind of provider can be served. `ModelCatalog::parse` gets
    /// this, so `GET /models` tells the same truth as the router.
    pub fn configured(&self, kind: ProviderKind) -> bool {
        match kind {
            ProviderKind::Offline => true,
            ProviderKind::Openai => self.openai.is_some(),
            ProviderKind::Gemini => self.gemini.is_some(),
        }
    }

    /// The router over every configured provider, sharing one HTTP client.
    pub fn router(&self, catalog: ModelCatalog) -> Result<ModelRouter, ConfigError> {
        let mut router = ModelRouter::new(catalog).with(ProviderKind::Offline, Arc::new(OfflineModel));
        if self.openai.is_none() && self.gemini.is_none() {
            return Ok(router);
        }
        let transport = Transport::new(self.retry.clone()).map_err(ConfigError::Client)?;
        if let Some(openai) = &self.openai {
            router = router.with(
                ProviderKind::Openai,
                Arc::new(OpenAiProvider::new(transport.clone(), openai.clone())),
            );
        }
        if let Some(gemini) = &self.gemini {
            router = router.with(
                ProviderKind::Gemini,
                Arc::new(GeminiProvider::new(transport, gemini.clone())),
            );
        }
        Ok(router)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from(vars: &[(&str, &str)]) -> Result<ProvidersConfig, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        ProvidersConfig::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn nothing_set_means_only_the_offline_model() {
        let config = from(&[]).expect("config");
        assert!(config.configured(ProviderKind::Offline));
        assert!(!config.configured(ProviderKind::Openai));
        assert!(!config.configured(ProviderKind::Gemini));
        assert_eq!(config.retry, RetryPolicy::default());
    }

    #[test]
    fn a_key_or_a_base_url_configures_openai() {
        let keyed = from(&[("OPENAI_API_KEY", "sk-test")]).expect("config");
        let openai = keyed.openai.expect("openai");
        assert_eq!(openai.base_url, OPENAI_DEFAULT_BASE_URL);
        assert_eq!(openai.max_tokens_field, MaxTokensField::MaxCompletionTokens);

        let local = from(&[("OPENAI_BASE_URL", "http://localhost:11434/v1/")]).expect("config");
        let openai = local.openai.expect("a local server needs no key");
        assert_eq!(openai.base_url, "http://localhost:11434/v1");
        assert_eq!(openai.api_key, None);
        assert_eq!(openai.max_tokens_field, MaxTokensField::MaxTokens);

        let chosen = from(&[
            ("OPENAI_BASE_URL", "http://localhost:8000/v1"),
            ("OPENAI_MAX_TOKENS_FIELD", "max_completion_tokens"),
        ])
        .expect("config");
        assert_eq!(
            chosen.openai.expect("openai").max_tokens_field,
            MaxTokensField::MaxCompletionTokens
        );
    }

    #[test]
    fn gemini_needs_its_key() {
        assert!(
            from(&[("GEMINI_BASE_URL", "http://localhost:1")])
                .expect("config")
                .gemini
                .is_none()
        );
        let config = from(&[("GEMINI_API_KEY", "g-key")]).expect("config");
        assert_eq!(config.gemini.expect("gemini").base_url, GEMINI_DEFAULT_BASE_URL);
    }

    #[test]
    fn bad_values_are_refused_by_name_without_echoing_them() {
        let err = from(&[("OPENAI_BASE_URL", "localhost:11434")]).expect_err("no scheme");
        assert_eq!(err.to_string(), "OPENAI_BASE_URL must be an http:// or https:// URL");
        assert!(from(&[("PARLEY_LLM_DEADLINE_MS", "soon")]).is_err());
        assert!(from(&[("PARLEY_LLM_ATTEMPT_TIMEOUT_MS", "0")]).is_err());
        assert!(from(&[("PARLEY_LLM_ATTEMPT_TIMEOUT_MS", "30000")]).is_err());
        assert!(from(&[("OPENAI_API_KEY", "k"), ("OPENAI_MAX_TOKENS_FIELD", "tokens")]).is_err());
    }

    #[test]
    fn keys_never_show_in_debug_output() {
        let config = from(&[("OPENAI_API_KEY", "sk-very-secret"), ("GEMINI_API_KEY", "AIza-secret")]).expect("config");
        let printed = format!("{config:?}");
        assert!(
            !printed.contains("very-secret") && !printed.contains("AIza"),
            "{printed}"
        );
        assert!(printed.contains("***"));
    }
}
