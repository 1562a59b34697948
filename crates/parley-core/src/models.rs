//! The configured list of allowed models (`PARLEY_MODELS`) and which provider serves each.

use serde::Serialize;

use crate::error::CoreError;
use crate::values::ModelId;

/// The list used when `PARLEY_MODELS` is not set: the offline model first, so that a
/// machine without API keys has a working default.
pub const DEFAULT_MODELS: &str =
    "offline:parley-offline,openai:gpt-4o-mini,openai:gpt-4o,gemini:gemini-2.0-flash,gemini:gemini-2.5-flash";

/// Who serves a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    Offline,
    Openai,
    Gemini,
}

impl ProviderKind {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "offline" => Some(Self::Offline),
            "openai" => Some(Self::Openai),
            "gemini" => Some(Self::Gemini),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    pub id: ModelId,
    pub provider: ProviderKind,
    /// Whether the provider has what it needs (an API key) to serve calls.
    pub configured: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelCatalog {
    models: Vec<ModelInfo>,
}

impl ModelCatalog {
    /// Parses `provider:model` entries separated by commas. `configured` says which
    /// providers can serve calls.
    pub fn parse(spec: &str, configured: impl Fn(ProviderKind) -> bool) -> Result<Self, String> {
        let mut models: Vec<ModelInfo> = Vec::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (provider, model) = entry
                .split_once(':')
                .ok_or_else(|| format!("model entry {entry:?} is not provider:model"))?;
            let provider = ProviderKind::parse(provider.trim())
                .ok_or_else(|| format!("unknown provider {provider:?} in {entry:?} (offline, openai, gemini)"))?;
            let id = ModelId::parse(model.trim()).map_err(|_| format!("invalid model id in {entry:?}"))?;
            if models.iter().any(|m| m.id == id) {
                return Err(format!("model {id:?} is listed twice"));
            }
            models.push(ModelInfo {
                id,
                provider,
                configured: configured(provider),
            });
        }
        if models.is_empty() {
            return Err("the model list is empty".into());
        }
        Ok(Self { models })
    }

    pub fn models(&self) -> &[ModelInfo] {
        &self.models
    }

    pub fn get(&self, id: &ModelId) -> Option<&ModelInfo> {
        self.models.iter().find(|m| &m.id == id)
    }

    /// Parses a model id and checks that it is on the list.
    pub fn allowed(&self, raw: &str) -> Result<ModelId, CoreError> {
        let id = ModelId::parse(raw)?;
        if self.get(&id).is_some() {
            Ok(id)
        } else {
            Err(CoreError::validation(
                "model",
                format!("{raw:?} is not an allowed model (see GET /models)"),
            ))
        }
    }

    /// The model a new bot gets: the first whose provider is configured.
    pub fn default_model(&self) -> &ModelId {
        &self.models.iter().find(|m| m.configured).unwrap_or(&self.models[0]).id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_list_parses_and_defaults_to_a_configured_model() {
        let catalog = ModelCatalog::parse(DEFAULT_MODELS, |p| p == ProviderKind::Offline).unwrap();
        assert_eq!(catalog.default_model().as_str(), "parley-offline");
        let catalog = ModelCatalog::parse("openai:gpt-4o-mini,offline:parley-offline", |_| true).unwrap();
        assert_eq!(catalog.default_model().as_str(), "gpt-4o-mini");
    }

    #[test]
    fn bad_lists_are_refused_with_a_reason() {
        assert!(ModelCatalog::parse("", |_| true).is_err());
        assert!(
            ModelCatalog::parse("gpt-4o", |_| true)
                .unwrap_err()
                .contains("provider:model")
        );
        assert!(
            ModelCatalog::parse("anthropic:claude", |_| true)
                .unwrap_err()
                .contains("unknown provider")
        );
        assert!(
            ModelCatalog::parse("offline:a,offline:a", |_| true)
                .unwrap_err()
                .contains("twice")
        );
    }

    #[test]
    fn only_listed_models_are_allowed() {
        let catalog = ModelCatalog::parse(DEFAULT_MODELS, |_| false).unwrap();
        assert!(catalog.allowed("gpt-4o-mini").is_ok());
        assert!(matches!(
            catalog.allowed("gpt-5-ultra"),
            Err(CoreError::Validation { field: "model", .. })
        ));
    }
}
