//! `parley bootstrap`: creates, idempotently, what the AWS mode needs on a local AWS
//! emulator (the DynamoDB table, the S3 bucket, the Cognito user pool with its app
//! client and `admin` group) and prints `KEY=value` lines, so that
//! `eval "$(parley bootstrap)"` prepares a shell. In the cloud the CDK app creates them.

use anyhow::{Context, bail};
use parley_aws::bootstrap::{ensure_bucket, ensure_table};
use parley_aws::cognito::ensure_cognito;

/// The name of everything unless a variable says otherwise.
pub const DEFAULT_NAME: &str = "parley";

/// What `bootstrap` made or found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bootstrapped {
    pub table: String,
    pub bucket: String,
    pub user_pool_id: String,
    pub client_id: String,
}

impl Bootstrapped {
    /// The `KEY=value` lines for `eval`, one per variable.
    pub fn shell_lines(&self) -> String {
        [
            ("PARLEY_TABLE", &self.table),
            ("PARLEY_BUCKET", &self.bucket),
            ("COGNITO_USER_POOL_ID", &self.user_pool_id),
            ("COGNITO_CLIENT_ID", &self.client_id),
        ]
        .iter()
        .map(|(k, v)| format!("{k}={}\n", shell_quote(v)))
        .collect()
    }
}

/// Creates what is missing. Names come from `PARLEY_TABLE`, `PARLEY_BUCKET`,
/// `COGNITO_USER_POOL_ID` (an existing pool) or `COGNITO_USER_POOL_NAME`, and
/// `COGNITO_CLIENT_NAME`, each defaulting to `parley`.
pub async fn bootstrap(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Bootstrapped> {
    let var = |k: &str| lookup(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    if var("AWS_ENDPOINT_URL").is_none() {
        bail!(
            "AWS_ENDPOINT_URL is not set: `parley bootstrap` prepares a local AWS emulator \
             (e.g. `scripts/aws-emulator.sh`); in an AWS account the CDK app creates these resources"
        );
    }
    let table = var("PARLEY_TABLE").unwrap_or_else(|| DEFAULT_NAME.into());
    let bucket = var("PARLEY_BUCKET").unwrap_or_else(|| DEFAULT_NAME.into());
    let pool_name = var("COGNITO_USER_POOL_NAME").unwrap_or_else(|| DEFAULT_NAME.into());
    let client_name = var("COGNITO_CLIENT_NAME").unwrap_or_else(|| DEFAULT_NAME.into());
    let sdk = parley_aws::sdk_config().await;
    ensure_table(&sdk, &table)
        .await
        .with_context(|| format!("cannot create the DynamoDB table {table}"))?;
    ensure_bucket(&sdk, &bucket)
        .await
        .with_context(|| format!("cannot create the S3 bucket {bucket}"))?;
    let ids = ensure_cognito(&sdk, var("COGNITO_USER_POOL_ID").as_deref(), &pool_name, &client_name)
        .await
        .context("cannot create the Cognito user pool and app client")?;
    Ok(Bootstrapped {
        table,
        bucket,
        user_pool_id: ids.user_pool_id,
        client_id: ids.client_id,
    })
}

/// `parley bootstrap`: the lines on stdout, anything else on stderr.
pub async fn run() -> anyhow::Result<()> {
    let done = bootstrap(|k| std::env::var(k).ok()).await?;
    print!("{}", done.shell_lines());
    Ok(())
}

/// Plain values stay plain; anything else is single-quoted for the shell.
fn shell_quote(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/' | b':'));
    if plain {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_safe_to_eval() {
        let done = Bootstrapped {
            table: "parley".into(),
            bucket: "my bucket".into(),
            user_pool_id: "us-east-1_abc".into(),
            client_id: "it's".into(),
        };
        assert_eq!(
            done.shell_lines(),
            "PARLEY_TABLE=parley\nPARLEY_BUCKET='my bucket'\nCOGNITO_USER_POOL_ID=us-east-1_abc\nCOGNITO_CLIENT_ID='it'\\''s'\n"
        );
    }

    #[tokio::test]
    async fn refuses_to_run_without_an_emulator_endpoint() {
        let err = bootstrap(|_| None).await.expect_err("no endpoint");
        assert!(err.to_string().starts_with("AWS_ENDPOINT_URL is not set"), "{err}");
    }
}
