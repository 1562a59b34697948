//! Dispatch by model id.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use parley_core::error::LlmError;
use parley_core::models::{ModelCatalog, ProviderKind};
use parley_core::ports::{ChatReply, ChatRequest, LlmProvider, ReplyStream};

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

    /// The provider that serves `model`, if it is listed and its provider configured.
    fn provider(&self, model: &str) -> Result<&Arc<dyn LlmProvider>, LlmError> {
        self.catalog
            .models()
            .iter()
            .find(|m| m.id.as_str() == model)
            .and_then(|info| self.providers.get(&info.provider))
            .ok_or_else(|| LlmError::NotConfigured(model.to_owned()))
    }
}

#[async_trait]
impl LlmProvider for ModelRouter {
    async fn complete(&self, request: &ChatRequest) -> Result<ChatReply, LlmError> {
        self.provider(&request.model)?.complete(request).await
    }

    async fn stream(&self, request: &ChatRequest) -> Result<ReplyStream, LlmError> {
        self.provider(&request.model)?.stream(request).await
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;
    use parley_core::models::DEFAULT_MODELS;
    use parley_core::ports::StreamEvent;

    use super::*;
    use crate::OfflineModel;

    /// Streams a fixed reply, to tell whether the router forwarded `stream`.
    struct Streamer;

    #[async_trait]
    impl LlmProvider for Streamer {
        async fn complete(&self, _: &ChatRequest) -> Result<ChatReply, LlmError> {
            Err(LlmError::provider(
                "test",
                parley_core::error::ProviderFailure::Malformed,
                "complete was called instead of stream",
            ))
        }

        async fn stream(&self, _: &ChatRequest) -> Result<ReplyStream, LlmError> {
            let events = [
                Ok(StreamEvent::Delta("a".into())),
                Ok(StreamEvent::Delta("b".into())),
                Ok(StreamEvent::Done(Default::default())),
            ];
            Ok(Box::pin(futures::stream::iter(events)))
        }
    }

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

    #[tokio::test]
    async fn streams_are_forwarded_to_the_provider_s_own_stream() {
        let catalog = ModelCatalog::parse(DEFAULT_MODELS, |_| true).expect("catalog");
        let router = ModelRouter::new(catalog).with(ProviderKind::Openai, Arc::new(Streamer));
        let events: Vec<_> = router
            .stream(&request("gpt-4o-mini"))
            .await
            .expect("a stream")
            .collect()
            .await;
        assert_eq!(events.len(), 3, "the provider's own three events, not one whole reply");
        assert!(matches!(
            router.stream(&request("gemini-2.0-flash")).await,
            Err(LlmError::NotConfigured(_))
        ));
    }
}
