//! Integration tests for parley-auth, in one binary so the slow RSA test key is generated once.

mod dev_idp;
mod guest;
mod jwks_http;
mod support;
mod verifier;
