//! spawn-macros: `embed_migrations!()`, the runtime side of spawn's build. It embeds the
//! migration set that `spawn_build::compile()` wrote to `OUT_DIR` from the crate's
//! `build.rs` into the binary, as a `spawn_runtime::Migrations` value.
//!
//! Use it through `spawn_runtime::embed_migrations!()` (spawn-runtime re-exports it, with
//! the types it expands to); this crate is not a dependency of its own:
//!
//! ```text
//! // build.rs (spawn-build under [build-dependencies])
//! fn main() { spawn_build::compile().unwrap() }
//!
//! // src/main.rs (spawn-runtime under [dependencies])
//! static MIGRATIONS: spawn_runtime::Migrations = spawn_runtime::embed_migrations!();
//!
//! let report = MIGRATIONS.run(&pool).await?;   // pool: sqlx::PgPool
//! ```
//!
//! The macro cannot run without that build script, so the compiled version of this example
//! is in [spawn-runtime's documentation](../spawn_runtime/index.html), and the whole flow,
//! from `cargo new` to the first run, in [spawn-build's](../spawn_build/index.html).
//!
//! The expansion is an `include!` of the generated file: static data only (each migration's
//! SQL for every environment, with its statements, checksums and line origins), no template
//! engine and no file access at run time. Without the build script, or with arguments, the macro fails to compile with a
//! message saying what to add to `build.rs` or `Cargo.toml`.
//!
//! With the `test-attr` feature (turned on by spawn-runtime's `testing` feature, which a crate
//! enables under `[dev-dependencies]`), the crate also provides `#[spawn_runtime::test]`: an
//! `async fn` test given a fresh database cloned from the crate's migrated template. Its
//! documentation and compiled examples are in `spawn_runtime::testing`.

#[cfg(feature = "test-attr")]
mod test_attr;

use proc_macro::TokenStream;
use quote::quote;
use spawn_model::GENERATED_FILE;

/// Embeds the migrations compiled by `spawn_build::compile()` as a `spawn_runtime::Migrations`.
///
/// ```text
/// static MIGRATIONS: spawn_runtime::Migrations = spawn_runtime::embed_migrations!();
/// ```
///
/// Takes no arguments: the project is configured in `build.rs` (`spawn_build::Config`). See
/// [spawn-runtime's compiled example](../spawn_runtime/index.html).
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    let input = proc_macro2::TokenStream::from(input);
    if !input.is_empty() {
        return error(
            input,
            "embed_migrations!() takes no arguments; configure the project in build.rs with \
             spawn_build::Config (for example `spawn_build::Config::new().spawn_toml(\"db/spawn.toml\").compile()`)",
        );
    }
    let Ok(out_dir) = std::env::var("OUT_DIR") else {
        return error(
            proc_macro2::TokenStream::new(),
            "embed_migrations!() needs spawn's build script, but this crate has none (OUT_DIR is not set). \
             Add `spawn-build` under [build-dependencies] in Cargo.toml and a build.rs containing \
             `fn main() { spawn_build::compile().unwrap() }`",
        );
    };
    let path = std::path::Path::new(&out_dir).join(GENERATED_FILE);
    if !path.is_file() {
        return error(
            proc_macro2::TokenStream::new(),
            &format!(
                "embed_migrations!() found no compiled migrations at {}: the build script did not call \
                 spawn_build::compile(). Add `spawn_build::compile().unwrap();` to build.rs",
                path.display()
            ),
        );
    }
    let path = path.to_string_lossy().into_owned();
    quote!(include!(#path)).into()
}

/// `#[spawn_runtime::test]`: runs an `async fn` test against a fresh database cloned from the
/// crate's migrated template. Documented (with examples) in `spawn_runtime::testing`.
///
/// Options: `env = "dev"`, `fixtures("tests/fixtures/a.sql", …)` (relative to the crate),
/// `migrations = <path>` (default `crate::MIGRATIONS`) or `migrations = false`.
#[cfg(feature = "test-attr")]
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    test_attr::expand(args.into(), item.into()).into()
}

fn error(span_of: proc_macro2::TokenStream, message: &str) -> TokenStream {
    let span = span_of
        .into_iter()
        .next()
        .map(|t| t.span())
        .unwrap_or_else(proc_macro2::Span::call_site);
    quote::quote_spanned!(span=> compile_error!(#message)).into()
}
