//! `auth-check` driven by authorizer request events of the HTTP API (payload format 2.0)
//! and of the REST API (v1 REQUEST authorizer), against the
//! local AWS emulator's Cognito and tokens it issued. One binary, so it links once.

mod cognito;
mod crafted;
mod rest;
mod routes;
mod support;
