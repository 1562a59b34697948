//! `auth-check` driven by authorizer request events (payload format 2.0), against the
//! local AWS emulator's Cognito and tokens it issued. One binary, so it links once.

mod cognito;
mod crafted;
mod routes;
mod support;
