//! What the functions read from the environment. Every function fails at start-up, with
//! one message naming the variable, when something it needs is missing or unusable.

use std::time::Duration;

use parley_api::CorsOrigins;
use parley_auth::MAX_USER_STATUS_TTL;
use parley_aws::AwsSettings;
use parley_core::limits::RateLimits;
use parley_core::models::DEFAULT_MODELS;
use parley_llm::ProvidersConfig;

/// A variable that is missing or cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{name} {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
}

impl ConfigError {
    fn missing(name: &'static str, what: &str) -> Self {
        Self {
            name,
            problem: format!("is not set: it must be {what}"),
        }
    }

    pub(crate) fn invalid(name: &'static str, problem: impl Into<String>) -> Self {
        Self {
            name,
            problem: problem.into(),
        }
    }
}

/// A source of variables: the process environment, or a map in tests.
pub trait Lookup: Fn(&str) -> Option<String> {}
impl<F: Fn(&str) -> Option<String>> Lookup for F {}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

pub(crate) fn get(lookup: &impl Lookup, name: &str) -> Option<String> {
    lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn required(lookup: &impl Lookup, name: &'static str, what: &str) -> Result<String, ConfigError> {
    get(lookup, name).ok_or_else(|| ConfigError::missing(name, what))
}

/// The configuration of the five HTTP functions (everything but `auth-check`).
#[derive(Clone, Debug)]
pub struct FunctionConfig {
    /// `PARLEY_TABLE` and `PARLEY_BUCKET`.
    pub aws: AwsSettings,
    /// `PARLEY_PUBLIC_URL`: where the web app is served; share links start with it.
    pub public_url: String,
    /// `PARLEY_GUEST_KEY`: the HMAC secret of guest tokens, shared with `auth-check`.
    pub guest_key: String,
    /// `PARLEY_MODELS`: the allowed models, `provider:model` separated by commas.
    pub models: String,
    /// `PARLEY_CREATORS_GROUP`: if set, only its members may create bots.
    pub creators_group: Option<String>,
    /// `CORS_ORIGINS`: the browser origins allowed to call the API (none when unset).
    pub cors_origins: CorsOrigins,
    /// `PARLEY_SESSION_STARTS_PER_MINUTE`, `PARLEY_SENDS_PER_MINUTE` (per client
    /// address) and `PARLEY_GUEST_SESSIONS_PER_BOT_PER_HOUR`; see [`rate_limits`].
    pub rate_limits: RateLimits,
    /// The model providers: `OPENAI_*`, `GEMINI_*` and `PARLEY_LLM_*` (see
    /// [`ProvidersConfig::from_lookup`]); the offline model is always there.
    pub providers: ProvidersConfig,
}

impl FunctionConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(env)
    }

    pub fn from_lookup(lookup: impl Lookup) -> Result<Self, ConfigError> {
        let table = required(&lookup, "PARLEY_TABLE", "the DynamoDB table's name")?;
        let bucket = required(&lookup, "PARLEY_BUCKET", "the S3 bucket's name")?;
        let public_url = required(
            &lookup,
            "PARLEY_PUBLIC_URL",
            "the web app's URL, e.g. https://parley.example.com",
        )?;
        if !(public_url.starts_with("https://") || public_url.starts_with("http://")) {
            return Err(ConfigError::invalid("PARLEY_PUBLIC_URL", "must be an http(s) URL"));
        }
        Ok(Self {
            aws: AwsSettings { table, bucket },
            public_url: public_url.trim_end_matches('/').to_owned(),
            guest_key: guest_key(&lookup)?,
            models: get(&lookup, "PARLEY_MODELS").unwrap_or_else(|| DEFAULT_MODELS.to_owned()),
            creators_group: get(&lookup, "PARLEY_CREATORS_GROUP"),
            cors_origins: cors_origins(&lookup)?,
            rate_limits: rate_limits(&lookup)?,
            providers: ProvidersConfig::from_lookup(&lookup)
                .map_err(|e| ConfigError::invalid("model providers", format!("are misconfigured: {e}")))?,
        })
    }
}

/// `CORS_ORIGINS`, comma-separated `scheme://host[:port]` entries; unset means none.
pub fn cors_origins(lookup: &impl Lookup) -> Result<CorsOrigins, ConfigError> {
    CorsOrigins::parse(&get(lookup, "CORS_ORIGINS").unwrap_or_default())
        .map_err(|problem| ConfigError::invalid("CORS_ORIGINS", problem))
}

/// The abuse limits, each a whole number from 1 to 1,000,000, defaulting to
/// [`RateLimits::default`]. The local server reads the same variables.
pub fn rate_limits(lookup: &impl Lookup) -> Result<RateLimits, ConfigError> {
    let defaults = RateLimits::default();
    let limit = |name: &'static str, default: u32| match get(lookup, name) {
        None => Ok(default),
        Some(v) => match v.parse::<u32>() {
            Ok(n) if (1..=1_000_000).contains(&n) => Ok(n),
            _ => Err(ConfigError::invalid(name, "must be a whole number from 1 to 1000000")),
        },
    };
    Ok(RateLimits {
        session_starts_per_minute: limit("PARLEY_SESSION_STARTS_PER_MINUTE", defaults.session_starts_per_minute)?,
        sends_per_minute: limit("PARLEY_SENDS_PER_MINUTE", defaults.sends_per_minute)?,
        guest_sessions_per_bot_per_hour: limit(
            "PARLEY_GUEST_SESSIONS_PER_BOT_PER_HOUR",
            defaults.guest_sessions_per_bot_per_hour,
        )?,
    })
}

/// [`rate_limits`] from the process environment.
pub fn rate_limits_from_env() -> Result<RateLimits, ConfigError> {
    rate_limits(&env)
}

fn guest_key(lookup: &impl Lookup) -> Result<String, ConfigError> {
    let key = required(lookup, "PARLEY_GUEST_KEY", "the guest token secret (at least 32 bytes)")?;
    if key.len() < parley_auth::MIN_GUEST_SECRET_LEN {
        return Err(ConfigError::invalid(
            "PARLEY_GUEST_KEY",
            format!("must be at least {} bytes long", parley_auth::MIN_GUEST_SECRET_LEN),
        ));
    }
    Ok(key)
}

/// The configuration of `auth-check`.
#[derive(Clone, Debug)]
pub struct AuthCheckConfig {
    /// `COGNITO_USER_POOL_ID`.
    pub user_pool_id: String,
    /// `COGNITO_CLIENT_ID`: the app client whose tokens are accepted.
    pub client_id: String,
    /// `COGNITO_ISSUER`, else `https://cognito-idp.{AWS_REGION}.amazonaws.com/{pool}`.
    pub issuer: String,
    /// `COGNITO_JWKS_URL`, else `{issuer}/.well-known/jwks.json`. An emulator serves its
    /// keys elsewhere than its tokens' issuer says, hence the separate setting.
    pub jwks_url: String,
    /// `PARLEY_GUEST_KEY`.
    pub guest_key: String,
    /// `PARLEY_USER_STATUS_TTL_SECONDS` (default and maximum 60).
    pub user_status_ttl: Duration,
}

impl AuthCheckConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(env)
    }

    pub fn from_lookup(lookup: impl Lookup) -> Result<Self, ConfigError> {
        let user_pool_id = required(&lookup, "COGNITO_USER_POOL_ID", "the Cognito user pool's id")?;
        let client_id = required(&lookup, "COGNITO_CLIENT_ID", "the Cognito app client's id")?;
        let issuer = match get(&lookup, "COGNITO_ISSUER") {
            Some(issuer) => issuer,
            None => {
                let region = required(&lookup, "AWS_REGION", "the AWS region of the user pool")?;
                format!("https://cognito-idp.{region}.amazonaws.com/{user_pool_id}")
            }
        };
        let jwks_url = get(&lookup, "COGNITO_JWKS_URL").unwrap_or_else(|| format!("{issuer}/.well-known/jwks.json"));
        let user_status_ttl = match get(&lookup, "PARLEY_USER_STATUS_TTL_SECONDS") {
            None => MAX_USER_STATUS_TTL,
            Some(v) => match v.parse::<u64>() {
                Ok(s) if s <= MAX_USER_STATUS_TTL.as_secs() => Duration::from_secs(s),
                _ => {
                    return Err(ConfigError::invalid(
                        "PARLEY_USER_STATUS_TTL_SECONDS",
                        format!(
                            "must be a whole number of seconds from 0 to {}",
                            MAX_USER_STATUS_TTL.as_secs()
                        ),
                    ));
                }
            },
        };
        Ok(Self {
            user_pool_id,
            client_id,
            issuer,
            jwks_url,
            guest_key: guest_key(&lookup)?,
            user_status_ttl,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Lookup {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        move |k: &str| map.get(k).cloned()
    }

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn each_missing_variable_is_named() {
        let err = FunctionConfig::from_lookup(vars(&[])).expect_err("nothing set");
        assert_eq!(err.name, "PARLEY_TABLE");
        let err =
            FunctionConfig::from_lookup(vars(&[("PARLEY_TABLE", "t"), ("PARLEY_BUCKET", "b")])).expect_err("no url");
        assert!(err.to_string().starts_with("PARLEY_PUBLIC_URL is not set"), "{err}");
        let err = FunctionConfig::from_lookup(vars(&[
            ("PARLEY_TABLE", "t"),
            ("PARLEY_BUCKET", "b"),
            ("PARLEY_PUBLIC_URL", "https://p.example"),
            ("PARLEY_GUEST_KEY", "short"),
        ]))
        .expect_err("weak key");
        assert_eq!(err.name, "PARLEY_GUEST_KEY");
    }

    #[test]
    fn rate_limits_default_and_refuse_what_cannot_be_a_limit() {
        assert_eq!(rate_limits(&vars(&[])).expect("defaults"), RateLimits::default());
        let set = rate_limits(&vars(&[
            ("PARLEY_SESSION_STARTS_PER_MINUTE", "3"),
            ("PARLEY_SENDS_PER_MINUTE", " 100 "),
            ("PARLEY_GUEST_SESSIONS_PER_BOT_PER_HOUR", "5"),
        ]))
        .expect("set");
        assert_eq!(
            (
                set.session_starts_per_minute,
                set.sends_per_minute,
                set.guest_sessions_per_bot_per_hour
            ),
            (3, 100, 5)
        );
        for bad in ["0", "-1", "ten", "1000001"] {
            let err = rate_limits(&vars(&[("PARLEY_SENDS_PER_MINUTE", bad)])).expect_err(bad);
            assert_eq!(err.name, "PARLEY_SENDS_PER_MINUTE");
        }
    }

    #[test]
    fn auth_check_derives_issuer_and_jwks_from_region_and_pool() {
        let config = AuthCheckConfig::from_lookup(vars(&[
            ("COGNITO_USER_POOL_ID", "eu-west-1_abc"),
            ("COGNITO_CLIENT_ID", "client"),
            ("AWS_REGION", "eu-west-1"),
            ("PARLEY_GUEST_KEY", KEY),
        ]))
        .expect("config");
        assert_eq!(
            config.issuer,
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"
        );
        assert_eq!(config.jwks_url, format!("{}/.well-known/jwks.json", config.issuer));
        assert_eq!(config.user_status_ttl, Duration::from_secs(60));
        let err = AuthCheckConfig::from_lookup(vars(&[
            ("COGNITO_USER_POOL_ID", "p"),
            ("COGNITO_CLIENT_ID", "c"),
            ("AWS_REGION", "us-east-1"),
            ("PARLEY_GUEST_KEY", KEY),
            ("PARLEY_USER_STATUS_TTL_SECONDS", "3600"),
        ]))
        .expect_err("ttl above the cap");
        assert_eq!(err.name, "PARLEY_USER_STATUS_TTL_SECONDS");
    }

    #[test]
    fn cors_origins_are_read_and_a_wildcard_is_refused() {
        let base = [
            ("PARLEY_TABLE", "t"),
            ("PARLEY_BUCKET", "b"),
            ("PARLEY_PUBLIC_URL", "https://p.example"),
            ("PARLEY_GUEST_KEY", KEY),
        ];
        let config = FunctionConfig::from_lookup(vars(&base)).expect("config");
        assert!(config.cors_origins.is_empty(), "unset means no CORS");
        let with = |origins: &'static str| {
            let mut pairs = base.to_vec();
            pairs.push(("CORS_ORIGINS", origins));
            FunctionConfig::from_lookup(vars(&pairs))
        };
        let config = with("https://app.example, http://localhost:5173").expect("two origins");
        assert!(config.cors_origins.allows("http://localhost:5173"));
        assert_eq!(with("*").expect_err("wildcard").name, "CORS_ORIGINS");
    }
}
