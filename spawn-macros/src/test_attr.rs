//! `#[spawn_runtime::test]`: turns an `async fn` taking a database handle into a `#[test]`
//! that runs it against a fresh database cloned from the crate's migrated template. The
//! expansion only parses and checks the function and its options; everything at run time
//! is `spawn_runtime::testing::run_test`.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, LitStr, ReturnType};

/// Where the template's migrations come from.
enum MigrationsOption {
    /// `crate::MIGRATIONS`, unless overridden.
    Default,
    /// `migrations = <path>`.
    Path(syn::Path),
    /// `migrations = false`: an empty database.
    None,
}

/// The attribute's options.
struct Options {
    env: Option<LitStr>,
    fixtures: Vec<LitStr>,
    migrations: MigrationsOption,
}

const OPTIONS_HELP: &str = "expected `env = \"<environment>\"`, `fixtures(\"<path>\", …)` or \
                            `migrations = <path to a spawn_runtime::Migrations> | false`";

fn parse_options(args: TokenStream) -> syn::Result<Options> {
    let mut options = Options {
        env: None,
        fixtures: Vec::new(),
        migrations: MigrationsOption::Default,
    };
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("env") {
            options.env = Some(meta.value()?.parse::<LitStr>().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "`env` takes a string: the environment the migrations were rendered for, \
                     e.g. `env = \"dev\"`",
                )
            })?);
            Ok(())
        } else if meta.path.is_ident("migrations") {
            let value = meta.value()?;
            if value.peek(syn::LitBool) {
                let flag: syn::LitBool = value.parse()?;
                if flag.value {
                    return Err(syn::Error::new(
                        flag.span(),
                        "`migrations = true` is the default; name the migrations with \
                         `migrations = crate::MIGRATIONS` or leave the option out",
                    ));
                }
                options.migrations = MigrationsOption::None;
            } else {
                let path: syn::Path = value.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "`migrations` takes the path of a `spawn_runtime::Migrations` static \
                         (e.g. `migrations = crate::MIGRATIONS`) or `false`",
                    )
                })?;
                options.migrations = MigrationsOption::Path(path);
            }
            Ok(())
        } else if meta.path.is_ident("fixtures") {
            let content;
            syn::parenthesized!(content in meta.input);
            let items = syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated(
                &content,
            )?;
            for item in items {
                match item {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(path),
                        ..
                    }) => options.fixtures.push(path),
                    other => {
                        return Err(syn::Error::new(
                            other.span(),
                            "`fixtures(…)` takes string literals: SQL files relative to the \
                             crate's Cargo.toml, e.g. `fixtures(\"tests/fixtures/orchards.sql\")`",
                        ))
                    }
                }
            }
            Ok(())
        } else {
            let name = meta
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_else(|| "this".into());
            Err(meta.error(format!("unknown option `{name}`: {OPTIONS_HELP}")))
        }
    });
    parser.parse2(args)?;
    Ok(options)
}

/// Expands `#[spawn_runtime::test(args)] item`.
pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    match try_expand(args, item) {
        Ok(tokens) => tokens,
        Err(e) => e.to_compile_error(),
    }
}

fn try_expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let options = parse_options(args)?;
    let function: ItemFn = syn::parse2(item)?;
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = function;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            "#[spawn_runtime::test] runs an `async fn`: write `async fn` (it is given a PgPool, \
             a PgConnection or PgConnectOptions of a fresh database)",
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new(
            sig.generics.span(),
            "#[spawn_runtime::test] functions cannot be generic",
        ));
    }
    let argument = match (sig.inputs.len(), sig.inputs.first()) {
        (1, Some(FnArg::Typed(argument))) => argument,
        (_, Some(FnArg::Receiver(receiver))) => {
            return Err(syn::Error::new(
                receiver.span(),
                "#[spawn_runtime::test] functions cannot take `self`",
            ))
        }
        _ => {
            return Err(syn::Error::new(
                if sig.inputs.is_empty() {
                    sig.ident.span()
                } else {
                    sig.inputs.span()
                },
                "#[spawn_runtime::test] functions take one argument: `pool: PgPool`, \
                 `conn: PgConnection` or `options: PgConnectOptions` (from spawn_runtime::sqlx)",
            ))
        }
    };
    let argument_type = &argument.ty;
    let name = &sig.ident;
    let inputs = &sig.inputs;
    let output = &sig.output;

    // Outside the `#[test]` function, so the types are checked in every build (a `#[test]`
    // function is only compiled by `cargo test`), with errors pointing at the user's types.
    let argument_check = quote_spanned! {argument_type.span()=>
        const _: fn() = ::spawn_runtime::testing::__private::assert_argument::<#argument_type>;
    };
    let output_check = match output {
        ReturnType::Default => TokenStream::new(),
        ReturnType::Type(_, ty) => quote_spanned! {ty.span()=>
            const _: fn() = ::spawn_runtime::testing::__private::assert_result::<#ty>;
        },
    };
    let migrations = match &options.migrations {
        MigrationsOption::Default => {
            let path = quote_spanned!(Span::call_site()=> crate::MIGRATIONS);
            quote!(::core::option::Option::Some(&#path))
        }
        MigrationsOption::Path(path) => quote!(::core::option::Option::Some(&#path)),
        MigrationsOption::None => quote!(::core::option::Option::None),
    };
    let env = match &options.env {
        Some(env) => quote!(::core::option::Option::Some(#env)),
        None => quote!(::core::option::Option::None),
    };
    let fixtures = &options.fixtures;

    Ok(quote! {
        #argument_check
        #output_check
        #(#attrs)*
        #[::core::prelude::v1::test]
        #vis fn #name() {
            async fn __spawn_test_body(#inputs) #output #block
            ::spawn_runtime::testing::run_test(
                ::spawn_runtime::testing::TestConfig {
                    test: ::core::concat!(::core::module_path!(), "::", ::core::stringify!(#name)),
                    package: ::core::env!("CARGO_PKG_NAME"),
                    manifest_dir: ::core::env!("CARGO_MANIFEST_DIR"),
                    migrations: #migrations,
                    env: #env,
                    fixtures: &[#(#fixtures),*],
                },
                __spawn_test_body,
            )
        }
    })
}
