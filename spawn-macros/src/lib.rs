//! spawn-macros: `embed_migrations!()`, which embeds the migration set that
//! `spawn_build::compile()` wrote to `OUT_DIR` from the crate's `build.rs`.
//!
//! Use it through `spawn_runtime::embed_migrations!()`.

use proc_macro::TokenStream;
use quote::quote;
use spawn_model::GENERATED_FILE;

/// Embeds the migrations compiled by `spawn_build::compile()` as a `spawn_runtime::Migrations`.
///
/// ```ignore
/// static MIGRATIONS: spawn_runtime::Migrations = spawn_runtime::embed_migrations!();
/// ```
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

fn error(span_of: proc_macro2::TokenStream, message: &str) -> TokenStream {
    let span = span_of
        .into_iter()
        .next()
        .map(|t| t.span())
        .unwrap_or_else(proc_macro2::Span::call_site);
    quote::quote_spanned!(span=> compile_error!(#message)).into()
}
