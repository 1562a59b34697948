//! Keys from AWS Secrets Manager, so that none is in a function's plain environment.
//!
//! `PARLEY_SECRETS` names secrets (ARNs or names, separated by commas). Each holds a JSON
//! object whose members are variables from [`SECRET_VARIABLES`]; a member with a
//! non-empty string supplies that variable, and an empty one leaves it unset (the
//! deployment creates the provider keys empty, and the offline model answers until the
//! owner fills them in). The secrets are read once, at start-up: a changed key reaches
//! new instances, not running ones. A secret's values never appear in a message.

use std::collections::HashMap;

use crate::config::{ConfigError, Lookup, get};

/// The variables a secret may supply: the provider keys and the guest token secret.
pub const SECRET_VARIABLES: [&str; 3] = ["OPENAI_API_KEY", "GEMINI_API_KEY", "PARLEY_GUEST_KEY"];

/// The environment with the variables of `PARLEY_SECRETS` in it.
#[derive(Default)]
pub struct Environment {
    secrets: HashMap<String, String>,
}

impl Environment {
    /// Reads the secrets `PARLEY_SECRETS` names (none when it is unset).
    pub async fn load(sdk: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        Self::load_from(sdk, &|name: &str| std::env::var(name).ok()).await
    }

    /// As [`Self::load`], with `PARLEY_SECRETS` taken from `lookup`.
    pub async fn load_from(sdk: &aws_config::SdkConfig, lookup: &impl Lookup) -> Result<Self, ConfigError> {
        let Some(ids) = get(lookup, "PARLEY_SECRETS") else {
            return Ok(Self::default());
        };
        let client = aws_sdk_secretsmanager::Client::new(sdk);
        let mut secrets = HashMap::new();
        for id in ids.split(',').map(str::trim).filter(|id| !id.is_empty()) {
            let out = client.get_secret_value().secret_id(id).send().await.map_err(|e| {
                let e = aws_sdk_secretsmanager::error::DisplayErrorContext(e);
                ConfigError::invalid("PARLEY_SECRETS", format!("names {id}, which cannot be read: {e}"))
            })?;
            let text = out.secret_string().unwrap_or_default();
            for (name, value) in variables(id, text)? {
                secrets.insert(name, value);
            }
        }
        Ok(Self { secrets })
    }

    /// A variable: from a secret, else from the process environment.
    pub fn lookup(&self) -> impl Lookup + '_ {
        |name: &str| self.secrets.get(name).cloned().or_else(|| std::env::var(name).ok())
    }
}

/// The non-empty variables of secret `id`, whose text is `text`.
fn variables(id: &str, text: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let refuse = |problem: String| ConfigError::invalid("PARLEY_SECRETS", format!("names {id}, which {problem}"));
    let Ok(serde_json::Value::Object(members)) = serde_json::from_str(text) else {
        return Err(refuse("is not a JSON object".into()));
    };
    let mut found = Vec::new();
    for (name, value) in members {
        if !SECRET_VARIABLES.contains(&name.as_str()) {
            return Err(refuse(format!(
                "holds {name:?}; a secret may hold only {}",
                SECRET_VARIABLES.join(", ")
            )));
        }
        let serde_json::Value::String(value) = value else {
            return Err(refuse(format!("holds {name} as something other than a string")));
        };
        if !value.trim().is_empty() {
            found.push((name, value));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_members_stay_unset_and_unknown_ones_are_refused_without_their_values() {
        let found = variables("s", r#"{"OPENAI_API_KEY": "sk-1", "GEMINI_API_KEY": " "}"#).expect("valid");
        assert_eq!(found, vec![("OPENAI_API_KEY".to_owned(), "sk-1".to_owned())]);

        let err = variables("s", r#"{"OPENAI_KEY": "sk-typo"}"#).expect_err("unknown name");
        assert!(err.to_string().contains("\"OPENAI_KEY\""), "{err}");
        assert!(
            !err.to_string().contains("sk-typo"),
            "a value must never be shown: {err}"
        );

        let err = variables("s", r#"{"PARLEY_GUEST_KEY": 42}"#).expect_err("not a string");
        assert!(err.to_string().contains("PARLEY_GUEST_KEY"), "{err}");
        let err = variables("s", "sk-plain-text").expect_err("not JSON");
        assert!(!err.to_string().contains("sk-plain-text"), "{err}");
    }
}
