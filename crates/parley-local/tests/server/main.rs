//! The `parley` binary as clients reach it over TCP: slow and held-open connections
//! (issue 16), the host check, the development sign-in switch and CORS (issue 7).

mod host;
mod shutdown;
mod slow_clients;
mod support;
