//! The development identity provider (local mode only): it signs RS256 tokens shaped like
//! Cognito's, so the local server runs the very same [`crate::CognitoVerifier`] as the cloud.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse, RSAKeyParameters, RSAKeyType,
};
use jsonwebtoken::{Algorithm, EncodingKey};
use rand::RngCore;
use rsa::RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::jwt;
use crate::{AuthError, KeyStoreError};

/// File name of the signing key inside the data directory.
pub const DEV_SIGNING_KEY_FILE: &str = "dev-signing-key.pem";
/// Lifetime of the tokens `sign_in` issues, as in Cognito's default.
pub const DEV_TOKEN_TTL_SECONDS: u64 = 3600;

const RSA_BITS: usize = 2048;

/// The answer of `POST /dev/sign-in`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DevTokens {
    pub id_token: String,
    pub access_token: String,
    pub expires_in: u64,
}

/// Signs Cognito-shaped tokens with a local RSA key and publishes its JWKS.
pub struct DevIdentityProvider {
    issuer: String,
    client_id: String,
    kid: String,
    encoding: EncodingKey,
    n: String,
    e: String,
}

impl std::fmt::Debug for DevIdentityProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevIdentityProvider")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl DevIdentityProvider {
    /// Loads `dev-signing-key.pem` (PKCS#8 PEM) from `data_dir`, or creates a 2048-bit RSA
    /// key there (mode 0600) at first start, so tokens survive restarts.
    pub fn load_or_create(data_dir: &Path, issuer: &str, client_id: &str) -> Result<Self, AuthError> {
        let path = data_dir.join(DEV_SIGNING_KEY_FILE);
        match fs::read_to_string(&path) {
            Ok(pem) => return Self::from_pem(&pem, issuer, client_id),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(source) => return Err(KeyStoreError::Io { path, source }.into()),
        }
        tracing::info!(path = %path.display(), "creating development signing key");
        let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, RSA_BITS).map_err(KeyStoreError::Generate)?;
        let pem = key.to_pkcs8_pem(LineEnding::LF).map_err(KeyStoreError::Pkcs8)?;
        write_private_file(data_dir, &path, pem.as_bytes())?;
        Self::from_key(&key, issuer, client_id)
    }

    /// Builds a provider from a PKCS#8 PEM RSA private key.
    pub fn from_pem(pem: &str, issuer: &str, client_id: &str) -> Result<Self, AuthError> {
        let key = RsaPrivateKey::from_pkcs8_pem(pem).map_err(KeyStoreError::Pkcs8)?;
        Self::from_key(&key, issuer, client_id)
    }

    fn from_key(key: &RsaPrivateKey, issuer: &str, client_id: &str) -> Result<Self, AuthError> {
        let der = key.to_pkcs1_der().map_err(KeyStoreError::Pkcs1)?;
        let encoding = EncodingKey::from_rsa_der(der.as_bytes());
        // Sign once now so that a key the signer rejects (e.g. too short) fails at start-up,
        // which is what lets `sign_in` be infallible.
        jsonwebtoken::crypto::sign(b"probe", &encoding, Algorithm::RS256).map_err(KeyStoreError::Unusable)?;
        let modulus = key.n().to_bytes_be();
        let kid = hex(&Sha256::digest(&modulus)[..8]);
        Ok(DevIdentityProvider {
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
            kid,
            encoding,
            n: URL_SAFE_NO_PAD.encode(&modulus),
            e: URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
        })
    }

    /// Issues an ID and an access token for `email`, valid for one hour from `now_unix`.
    /// The caller validates `email`; any string is accepted here.
    pub fn sign_in(&self, email: &str, groups: &[String], now_unix: u64) -> DevTokens {
        let sub = dev_sub(email);
        let exp = now_unix.saturating_add(DEV_TOKEN_TTL_SECONDS);
        let mut id = json!({
            "sub": sub,
            "email": email,
            "email_verified": true,
            "cognito:username": sub,
            "iss": self.issuer,
            "aud": self.client_id,
            "token_use": "id",
            "auth_time": now_unix,
            "iat": now_unix,
            "exp": exp,
        });
        let mut access = json!({
            "sub": sub,
            "iss": self.issuer,
            "client_id": self.client_id,
            "token_use": "access",
            "scope": "aws.cognito.signin.user.admin",
            "username": sub,
            "auth_time": now_unix,
            "iat": now_unix,
            "exp": exp,
            "jti": random_uuid(),
        });
        // Cognito omits `cognito:groups` for a user in no group.
        if !groups.is_empty() {
            id["cognito:groups"] = json!(groups);
            access["cognito:groups"] = json!(groups);
        }
        DevTokens {
            id_token: self.sign(&id),
            access_token: self.sign(&access),
            expires_in: DEV_TOKEN_TTL_SECONDS,
        }
    }

    /// The public key as a one-key JWKS, for `GET /.well-known/jwks.json` and [`crate::StaticJwks`].
    pub fn jwks(&self) -> JwkSet {
        let common = CommonParameters {
            public_key_use: Some(PublicKeyUse::Signature),
            key_algorithm: Some(KeyAlgorithm::RS256),
            key_id: Some(self.kid.clone()),
            ..CommonParameters::default()
        };
        let algorithm = AlgorithmParameters::RSA(RSAKeyParameters {
            key_type: RSAKeyType::RSA,
            n: self.n.clone(),
            e: self.e.clone(),
        });
        JwkSet {
            keys: vec![Jwk { common, algorithm }],
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Key id: the first 16 hex digits of the SHA-256 of the modulus.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    fn sign(&self, claims: &Value) -> String {
        let header = json!({ "kid": self.kid, "alg": "RS256" });
        let signing_input = format!("{}.{}", jwt::encode_segment(&header), jwt::encode_segment(claims));
        // The key was test-signed in `from_key`, so signing cannot fail for a key we hold.
        let signature = jsonwebtoken::crypto::sign(signing_input.as_bytes(), &self.encoding, Algorithm::RS256)
            .expect("the signing key was checked at construction");
        format!("{signing_input}.{signature}")
    }
}

/// A `sub` that is stable for an email across restarts and key changes: a UUID (version 8,
/// "custom") made from the SHA-256 of the trimmed, lower-cased email.
pub fn dev_sub(email: &str) -> String {
    let digest = Sha256::digest(email.trim().to_lowercase().as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    uuid_string(&bytes)
}

fn random_uuid() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    uuid_string(&bytes)
}

fn uuid_string(bytes: &[u8; 16]) -> String {
    let h = hex(bytes);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes the key readable by its owner only, via a temporary file and a rename so that a
/// crash never leaves a half-written key behind.
fn write_private_file(dir: &Path, path: &Path, contents: &[u8]) -> Result<(), KeyStoreError> {
    let io_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| KeyStoreError::Io { path, source }
    };
    fs::create_dir_all(dir).map_err(io_error(dir))?;
    let tmp = path.with_extension("pem.tmp");
    // A leftover from a crash may have other permissions; start from a fresh file.
    let _ = fs::remove_file(&tmp);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(io_error(&tmp))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(io_error(&tmp))?;
    fs::rename(&tmp, path).map_err(io_error(path))
}
