//! Dispatch by model id.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use parley_core::error::LlmError;
use parley_core::models::{ModelCatalog, ProviderKind};
use parley_core::ports::{ChatReply, ChatRequest, LlmProvider};

/// Sends each request to the provider that serves its model in the catalog.
pub struct ModelRouter {
    catalog: ModelCatalog,
    providers: HashMap<ProviderKind, Arc<dyn LlmProvider>>,
}

impl ModelRouter {
    pub fn new(catalog: ModelCatalog) -> Self {
        Self {
            catalog,
            providers: HashMap::new(),
        }
    }

    /// Registers the provider of one kind.
    pub fn with(mut self, kind: ProviderKind, provider: Arc<dyn LlmProvider>) -> Self {
        self.providers.insert(kind, provider);
        self
    }
}

#[async_trait]
impl LlmProvider for ModelRouter {
    async fn complete(&self, request: &ChatRequest) -> Result<ChatReply, LlmError> {
        let info = self
            .catalog
            .models()
            .iter()
            .find(|m| m.id.as_str() == request.model)
            .ok_or_else(|| LlmError::NotConfigured(request.model.clone()))?;
        let provider = self
            .providers
            .get(&info.provider)
            .ok_or_else(|| LlmError::NotConfigured(request.model.clone()))?;
        provider.complete(request).await
    }
}

#[cfg(test)]
mod tests {
    use parley_core::models::DEFAULT_MODELS;

    use super::*;
    use crate::OfflineModel;

    fn request(model: &str) -> ChatRequest {
        ChatRequest {
            model: model.into(),
            system_prompt: String::new(),
            messages: vec![],
            temperature: 0.0,
            max_output_tokens: 10,
        }
    }

    #[tokio::test]
    async fn routes_by_model_and_refuses_models_without_a_provider() {
        let catalog = ModelCatalog::parse(DEFAULT_MODELS, |p| p == ProviderKind::Offline).expect("catalog");
        let router = ModelRouter::new(catalog).with(ProviderKind::Offline, Arc::new(OfflineModel));
        assert!(router.complete(&request("parley-offline")).await.is_ok());
        assert!(matches!(
            router.complete(&request("gpt-4o-mini")).await,
            Err(LlmError::NotConfigured(_))
        ));
        assert!(matches!(
            router.complete(&request("unlisted")).await,
            Err(LlmError::NotConfigured(_))
        ));
    }
}
