//! A stand-alone PDF worker, for the adapter's own tests: the serving binaries
//! (`parley`, `chat-config`) re-execute themselves instead.

fn main() {
    parley_pdf::serve_worker_if_asked();
    eprintln!("usage: parley-pdf-worker {} <limits>", parley_pdf::WORKER_ARG);
    std::process::exit(2);
}
