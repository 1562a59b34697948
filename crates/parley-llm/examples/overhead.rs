//! What the provider layer costs and how its retries are timed, against a local wiremock
//! server: `cargo run --release -p parley-llm --example overhead`.
//!
//! - overhead: the mean of 200 `complete` calls minus the mean of 200 bare reqwest
//!   round trips of the same request body to the same server, alternated call by call,
//!   for each provider (a negative difference prints as 0: below the noise);
//! - retry timings with the default policy: two 500s then a success, and a 429 with
//!   `retry-after-ms: 300` then a success.

use std::time::{Duration, Instant};

use parley_core::message::Role;
use parley_core::ports::{ChatRequest, ChatTurn, LlmProvider};
use parley_llm::{ApiKey, GeminiConfig, GeminiProvider, OpenAiConfig, OpenAiProvider, RetryPolicy, Transport};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CALLS: u32 = 200;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let request = ChatRequest {
        model: "gpt-4o-mini".into(),
        system_prompt: "You are a pirate. ".repeat(40),
        messages: (0..10)
            .map(|i| ChatTurn {
                role: if i % 2 == 0 { Role::User } else { Role::Assistant },
                content: format!("turn {i}: {}", "words ".repeat(30)),
            })
            .collect(),
        temperature: 0.7,
        max_output_tokens: 512,
    };
    let transport = Transport::new(RetryPolicy::default())?;

    let server = MockServer::start().await;
    let openai_answer = json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Arr. ".repeat(60)}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 400, "completion_tokens": 120, "total_tokens": 520}
    });
    let gemini_answer = json!({
        "candidates": [{"content": {"parts": [{"text": "Arr. ".repeat(60)}], "role": "model"}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 400, "candidatesTokenCount": 120}
    });
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&openai_answer))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1beta/models/gemini-2.0-flash:generateContent"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&gemini_answer))
        .mount(&server)
        .await;

    let openai = OpenAiProvider::new(
        transport.clone(),
        OpenAiConfig::compatible(format!("{}/v1", server.uri()), Some(ApiKey::new("sk-bench"))),
    );
    let gemini = GeminiProvider::new(
        transport,
        GeminiConfig {
            api_key: ApiKey::new("bench"),
            base_url: server.uri(),
        },
    );
    let raw = reqwest::Client::new();
    let turns = |user: &'static str, assistant: &'static str| -> Vec<(&'static str, String)> {
        request
            .messages
            .iter()
            .map(|t| (if t.role == Role::User { user } else { assistant }, t.content.clone()))
            .collect()
    };
    // The same bodies the providers send, built by hand, so the difference is the layer.
    let mut messages = vec![json!({"role": "system", "content": request.system_prompt})];
    messages.extend(
        turns("user", "assistant")
            .into_iter()
            .map(|(r, c)| json!({"role": r, "content": c})),
    );
    let openai_body = json!({"model": "gpt-4o-mini", "messages": messages, "temperature": 0.7, "max_tokens": 512});
    let contents: Vec<Value> = turns("user", "model")
        .into_iter()
        .map(|(r, c)| json!({"role": r, "parts": [{"text": c}]}))
        .collect();
    let gemini_body = json!({
        "systemInstruction": {"parts": [{"text": request.system_prompt}]},
        "contents": contents,
        "generationConfig": {"temperature": 0.7, "maxOutputTokens": 512}
    });

    for (name, provider, url, body) in [
        (
            "OpenAI",
            &openai as &dyn LlmProvider,
            format!("{}/v1/chat/completions", server.uri()),
            openai_body,
        ),
        (
            "Gemini",
            &gemini as &dyn LlmProvider,
            format!("{}/v1beta/models/gemini-2.0-flash:generateContent", server.uri()),
            gemini_body,
        ),
    ] {
        let mut request = request.clone();
        request.model = if name == "OpenAI" {
            "gpt-4o-mini"
        } else {
            "gemini-2.0-flash"
        }
        .into();
        let bare = || async {
            let r = raw.post(&url).json(&body).send().await.expect("send");
            let _: Value = r.json().await.expect("json");
        };
        let layered = || async {
            provider.complete(&request).await.expect("reply");
        };
        let (bare, layered) = interleaved(bare, layered).await;
        println!(
            "{name}: bare reqwest {bare:?}, provider {layered:?}, overhead {:?} per call (mean of {CALLS})",
            layered.saturating_sub(bare)
        );
    }

    retry_timings().await?;
    Ok(())
}

/// Mean time of each of two calls, alternated so that drift (warm-up, the server's own
/// state) falls on both alike.
async fn interleaved<A, AF, B, BF>(a: A, b: B) -> (Duration, Duration)
where
    A: Fn() -> AF,
    AF: std::future::Future<Output = ()>,
    B: Fn() -> BF,
    BF: std::future::Future<Output = ()>,
{
    for _ in 0..20 {
        a().await;
        b().await;
    }
    let (mut ta, mut tb) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..CALLS {
        let started = Instant::now();
        a().await;
        ta += started.elapsed();
        let started = Instant::now();
        b().await;
        tb += started.elapsed();
    }
    (ta / CALLS, tb / CALLS)
}

async fn retry_timings() -> Result<(), Box<dyn std::error::Error>> {
    let transport = Transport::new(RetryPolicy::default())?;
    let request = ChatRequest {
        model: "gpt-4o-mini".into(),
        system_prompt: String::new(),
        messages: vec![ChatTurn {
            role: Role::User,
            content: "hi".into(),
        }],
        temperature: 0.0,
        max_output_tokens: 16,
    };
    let ok = ResponseTemplate::new(200).set_body_json(json!({
        "choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1}
    }));
    for (label, failure) in [
        (
            "two 500s then success",
            ResponseTemplate::new(500).set_body_json(json!({"error": {"message": "boom"}})),
        ),
        (
            "429 retry-after-ms 300 then success",
            ResponseTemplate::new(429)
                .insert_header("retry-after-ms", "300")
                .set_body_json(json!({"error": {"message": "slow down"}})),
        ),
    ] {
        let mut samples = Vec::new();
        for _ in 0..5 {
            let server = MockServer::start().await;
            let failures = if label.starts_with("two") { 2 } else { 1 };
            Mock::given(method("POST"))
                .respond_with(failure.clone())
                .up_to_n_times(failures)
                .with_priority(1)
                .mount(&server)
                .await;
            Mock::given(method("POST"))
                .respond_with(ok.clone())
                .mount(&server)
                .await;
            let provider = OpenAiProvider::new(
                transport.clone(),
                OpenAiConfig::compatible(format!("{}/v1", server.uri()), None),
            );
            let started = Instant::now();
            provider.complete(&request).await?;
            samples.push(started.elapsed().as_millis());
        }
        println!("retry, {label}: {samples:?} ms over 5 runs (default policy)");
    }
    Ok(())
}
