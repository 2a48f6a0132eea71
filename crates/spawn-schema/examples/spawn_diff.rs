//! A stand-in for `spawn diff` until the CLI wires it: `spawn_diff [--unsafe] [--with-privileges]
//! [--summary] [--schema S] [--exclude-schema S] [--ignore-extension-versions]
//! [--create-extensions-only] FROM TO`.

use spawn_schema::{diff_urls, Options};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let mut options = Options::default();
    let mut urls = Vec::new();
    let mut summary = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--unsafe" => options.allow_unsafe = true,
            "--with-privileges" => options.with_privileges = true,
            "--ignore-extension-versions" => options.ignore_extension_versions = true,
            "--create-extensions-only" => options.create_extensions_only = true,
            "--no-renames" => options.detect_renames = false,
            "--summary" => summary = true,
            "--schema" => options.schemas.extend(args.next()),
            "--exclude-schema" => options.exclude_schemas.extend(args.next()),
            _ => urls.push(arg),
        }
    }
    let [from, to] = urls.as_slice() else {
        eprintln!("usage: spawn_diff [options] FROM TO");
        std::process::exit(1);
    };
    match diff_urls(from, to, &options).await {
        Ok(outcome) => {
            print!("{}", outcome.stdout(summary));
            if let Some(message) = outcome.refusal_message() {
                eprint!("{message}");
            }
            std::process::exit(outcome.exit_code());
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
