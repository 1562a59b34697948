//! `parley bootstrap` against the local AWS emulator: four `KEY=value` lines for `eval`,
//! the same ones when run again (nothing is created twice).

use std::process::Command;

fn bootstrap(names: &str) -> String {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    assert!(
        !endpoint.is_empty(),
        "AWS_ENDPOINT_URL is not set: run this test as `scripts/aws-emulator.sh cargo test -p parley-local` (make test does)"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_parley"))
        .arg("bootstrap")
        .env("PARLEY_TABLE", names)
        .env("PARLEY_BUCKET", names)
        .env("COGNITO_USER_POOL_NAME", names)
        .env_remove("COGNITO_USER_POOL_ID")
        .output()
        .expect("run parley bootstrap");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "parley bootstrap failed: {stderr}");
    String::from_utf8(output.stdout).expect("UTF-8")
}

#[test]
fn prints_four_eval_lines_and_is_idempotent() {
    let names = format!("parley-boot-{}", std::process::id());
    let first = bootstrap(&names);
    let keys: Vec<&str> = first.lines().map(|l| l.split_once('=').map_or(l, |(k, _)| k)).collect();
    assert_eq!(
        keys,
        [
            "PARLEY_TABLE",
            "PARLEY_BUCKET",
            "COGNITO_USER_POOL_ID",
            "COGNITO_CLIENT_ID"
        ],
        "{first}"
    );
    assert!(
        first.starts_with(&format!("PARLEY_TABLE={names}\nPARLEY_BUCKET={names}\n")),
        "{first}"
    );
    assert!(
        first
            .lines()
            .all(|l| l.split_once('=').is_some_and(|(_, v)| !v.is_empty())),
        "{first}"
    );
    assert_eq!(bootstrap(&names), first, "a second run finds what the first created");
}
