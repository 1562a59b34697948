//! The local Parley server: every function's router on one port, data in an embedded
//! SQLite file, sign-in by the development identity provider, and the model providers
//! the environment configures (OpenAI or a compatible server, Gemini), with the offline
//! model always there. `main.rs` runs it; tests build the same app with [`build`].

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use axum::Router;
use parley_api::{ApiState, CorsOrigins, PrincipalSource, TokenAuthenticator};
use parley_auth::{
    CognitoVerifier, DevIdentityProvider, GuestTokens, NoStatusCheck, StaticJwks, VerifierConfig, generate_guest_secret,
};
use parley_core::Parley;
use parley_core::limits::RateLimits;
use parley_core::models::{DEFAULT_MODELS, ModelCatalog, ProviderKind};
use parley_core::ports::{Clock, LlmProvider};
use parley_core::usecases::{Ports, Settings};
use parley_llm::ProvidersConfig;
use parley_pdf::{ChildProcessExtractor, PdfLimits};
use parley_sqlite::SqliteStore;

mod aws_mode;
pub mod host;
pub mod serve;
pub mod web;
pub use aws_mode::build_aws;

/// The app client id the development identity provider puts in its tokens.
pub const DEV_CLIENT_ID: &str = "parley-local";

/// Configuration from the environment (see the README's table).
#[derive(Clone, Debug)]
pub struct LocalConfig {
    pub data_dir: PathBuf,
    pub port: u16,
    pub public_url: String,
    pub models: String,
    pub guest_key: Option<String>,
    pub creators_group: Option<String>,
    /// Keys, base URLs and timeouts of the model providers.
    pub providers: ProvidersConfig,
    /// Limits of profile PDF extraction (`PARLEY_PDF_*`).
    pub pdf: PdfLimits,
    /// The executable run as the PDF worker: this one unless set (tests point it at
    /// the `parley` binary, since a test binary cannot serve as the worker).
    pub pdf_worker: Option<PathBuf>,
    /// `PARLEY_DEV_SIGN_IN` (`on` or `off`): whether `POST /dev/sign-in` exists.
    pub dev_sign_in: bool,
    /// `CORS_ORIGINS`: the browser origins allowed to call the API.
    pub cors_origins: CorsOrigins,
    /// Rate limits per client address and new guest sessions per bot (the same variables
    /// as the functions', see `parley_runtime::config::rate_limits`).
    pub rate_limits: RateLimits,
}

impl LocalConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        match var("PARLEY_MODE").as_deref() {
            None | Some("local" | "aws") => {}
            Some(other) => bail!("PARLEY_MODE must be local or aws, not {other:?}"),
        }
        let port = match var("PORT") {
            None => 8787,
            Some(p) => p
                .parse()
                .with_context(|| format!("PORT must be a port number, not {p:?}"))?,
        };
        Ok(Self {
            data_dir: var("PARLEY_DATA_DIR").map_or_else(|| PathBuf::from(".parley"), PathBuf::from),
            port,
            public_url: var("PARLEY_PUBLIC_URL").unwrap_or_else(|| format!("http://127.0.0.1:{port}")),
            models: var("PARLEY_MODELS").unwrap_or_else(|| DEFAULT_MODELS.to_owned()),
            guest_key: var("PARLEY_GUEST_KEY"),
            creators_group: var("PARLEY_CREATORS_GROUP"),
            providers: ProvidersConfig::from_env()?,
            pdf: pdf_limits_from_env()?,
            pdf_worker: None,
            dev_sign_in: match var("PARLEY_DEV_SIGN_IN").as_deref() {
                None | Some("on") => true,
                Some("off") => false,
                Some(other) => bail!("PARLEY_DEV_SIGN_IN must be on or off, not {other:?}"),
            },
            cors_origins: CorsOrigins::parse(&var("CORS_ORIGINS").unwrap_or_default())
                .map_err(|e| anyhow::anyhow!("CORS_ORIGINS: {e}"))?,
            rate_limits: parley_runtime::config::rate_limits_from_env().map_err(|e| anyhow::anyhow!("{e}"))?,
        })
    }

    /// Defaults for a data directory, as tests use them.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            port: 0,
            public_url: "http://127.0.0.1:8787".into(),
            models: DEFAULT_MODELS.into(),
            guest_key: None,
            creators_group: None,
            providers: ProvidersConfig::default(),
            pdf: PdfLimits::default(),
            pdf_worker: None,
            dev_sign_in: true,
            cors_origins: CorsOrigins::none(),
            rate_limits: RateLimits::default(),
        }
    }
}

/// `PARLEY_PDF_*` from the environment.
pub fn pdf_limits_from_env() -> anyhow::Result<PdfLimits> {
    Ok(PdfLimits::from_lookup(|k| std::env::var(k).ok())?)
}

/// The PDF extractor: `worker` (or this executable) re-executed as the worker process.
pub fn pdf_extractor(
    limits: PdfLimits,
    worker: Option<&std::path::Path>,
) -> anyhow::Result<Arc<ChildProcessExtractor>> {
    let extractor = match worker {
        Some(worker) => ChildProcessExtractor::new(worker, limits),
        None => {
            ChildProcessExtractor::for_current_exe(limits).context("cannot find this executable for the PDF worker")?
        }
    };
    Ok(Arc::new(extractor))
}

/// The pieces [`build`] makes; tests reach into them.
pub struct LocalApp {
    pub router: Router,
    pub parley: Parley,
    pub idp: Arc<DevIdentityProvider>,
}

/// Builds the whole local app. `llm` replaces the model router (tests count calls).
pub fn build(config: &LocalConfig, llm: Option<Arc<dyn LlmProvider>>) -> anyhow::Result<LocalApp> {
    build_with_clock(config, llm, None)
}

/// [`build`] with another clock than the system's, for tests whose outcome depends on
/// the time window they run in (the rate limits).
pub fn build_with_clock(
    config: &LocalConfig,
    llm: Option<Arc<dyn LlmProvider>>,
    clock: Option<Arc<dyn Clock>>,
) -> anyhow::Result<LocalApp> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create the data directory {}", config.data_dir.display()))?;
    let store = SqliteStore::open(&config.data_dir.join("parley.sqlite3")).context("cannot open the SQLite store")?;
    let catalog = ModelCatalog::parse(&config.models, |p| config.providers.configured(p))
        .map_err(|e| anyhow::anyhow!("PARLEY_MODELS: {e}"))?;
    let llm = match llm {
        Some(llm) => llm,
        None => Arc::new(
            config
                .providers
                .router(catalog.clone())
                .context("cannot set up the model providers")?,
        ),
    };
    tracing::info!(
        openai = config.providers.configured(ProviderKind::Openai),
        gemini = config.providers.configured(ProviderKind::Gemini),
        "model providers"
    );
    let mut ports = Ports::over_store(Arc::new(store), llm);
    if let Some(clock) = clock {
        ports.clock = clock;
    }
    let settings = Settings {
        public_url: config.public_url.trim_end_matches('/').to_owned(),
        creators_group: config.creators_group.clone(),
        rate_limits: config.rate_limits,
        ..Settings::default()
    };
    let parley = Parley::new(ports, catalog, settings);

    let idp = Arc::new(DevIdentityProvider::load_or_create(
        &config.data_dir,
        &config.public_url,
        DEV_CLIENT_ID,
    )?);
    let guests = Arc::new(GuestTokens::new(guest_secret(config)?.as_bytes())?);
    // The very verifier the cloud uses, fed with the development provider's keys.
    let verifier = CognitoVerifier::new(
        VerifierConfig {
            issuer: idp.issuer().to_owned(),
            client_id: DEV_CLIENT_ID.to_owned(),
            leeway_seconds: 60,
        },
        Arc::new(StaticJwks::new(idp.jwks())),
    );
    // The development provider cannot disable anyone: no status to ask.
    let tokens = TokenAuthenticator::new(verifier, Arc::new(NoStatusCheck), guests.clone());
    let source = PrincipalSource::Verifier(Arc::new(tokens));
    let pdf = pdf_extractor(config.pdf, config.pdf_worker.as_deref())?;
    let mut api = parley_api::all_functions(ApiState::new(parley.clone(), guests).with_pdf_extractor(pdf));
    if config.dev_sign_in {
        api = api.merge(parley_api::routes::dev::router(idp.clone()));
    }
    let router = parley_api::finish_with(api, source, &config.cors_origins);
    Ok(LocalApp { router, parley, idp })
}

/// `PARLEY_GUEST_KEY`, or a key made at first start and kept in the data directory, so
/// guest tokens survive restarts.
fn guest_secret(config: &LocalConfig) -> anyhow::Result<String> {
    if let Some(key) = &config.guest_key {
        return Ok(key.clone());
    }
    let path = config.data_dir.join("guest-key");
    match std::fs::read_to_string(&path) {
        Ok(key) if !key.trim().is_empty() => Ok(key.trim().to_owned()),
        _ => {
            let key = generate_guest_secret();
            write_private(&path, &key).with_context(|| format!("cannot write {}", path.display()))?;
            Ok(key)
        }
    }
}

fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}
