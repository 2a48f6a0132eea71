//! The SQL callbacks of the generated set: one `EmbeddedCallbacks` per environment that has
//! any, appended to the set as `.__with_callbacks(&[…])`. Their SQL is small and written
//! inline (migrations' SQL goes to files of their own).

use proc_macro2::TokenStream;
use quote::quote;
use spawn_model::{Callback, CallbackKind, Callbacks};

use super::{borrowed_str, origin_tokens, statement_tokens};

/// `&[EmbeddedCallbacks { … }, …]` for the environments with callbacks; `None` when no
/// environment has any (the generated file is then what it was before callbacks existed).
pub(super) fn set_tokens(callbacks: &[(String, Callbacks)]) -> Option<TokenStream> {
    let items: Vec<TokenStream> = callbacks
        .iter()
        .filter(|(_, c)| !c.is_empty())
        .map(|(environment, c)| {
            let callbacks = callbacks_tokens(c);
            quote! {
                ::spawn_runtime::__private::EmbeddedCallbacks {
                    environment: #environment,
                    callbacks: #callbacks,
                }
            }
        })
        .collect();
    (!items.is_empty()).then(|| quote!(&[#(#items,)*]))
}

/// A `spawn_runtime::Callbacks` expression. Every field is named, so none is forgotten.
fn callbacks_tokens(callbacks: &Callbacks) -> TokenStream {
    let Callbacks {
        before_migrate,
        after_migrate,
        before_each,
        after_each,
    } = callbacks;
    let optional = |c: &Option<Callback>| match c {
        Some(c) => {
            let c = callback_tokens(c);
            quote!(Some(#c))
        }
        None => quote!(None),
    };
    let (before_migrate, after_migrate) = (optional(before_migrate), optional(after_migrate));
    let before_each = before_each.iter().map(callback_tokens);
    let after_each = after_each.iter().map(callback_tokens);
    quote! {
        ::spawn_runtime::Callbacks {
            before_migrate: #before_migrate,
            after_migrate: #after_migrate,
            before_each: Borrowed(&[#(#before_each,)*]),
            after_each: Borrowed(&[#(#after_each,)*]),
        }
    }
}

/// A `spawn_runtime::Callback` expression.
fn callback_tokens(callback: &Callback) -> TokenStream {
    let Callback {
        kind,
        migration,
        sql,
        statements,
        origins,
    } = callback;
    let kind = match kind {
        CallbackKind::BeforeMigrate => quote!(BeforeMigrate),
        CallbackKind::AfterMigrate => quote!(AfterMigrate),
        CallbackKind::BeforeEach => quote!(BeforeEach),
        CallbackKind::AfterEach => quote!(AfterEach),
    };
    let migration = match migration {
        Some(m) => {
            let m = borrowed_str(m);
            quote!(Some(#m))
        }
        None => quote!(None),
    };
    let sql = borrowed_str(sql);
    let statements = statements.iter().map(statement_tokens);
    let origins = origins.iter().map(origin_tokens);
    quote! {
        ::spawn_runtime::Callback {
            kind: ::spawn_runtime::CallbackKind::#kind,
            migration: #migration,
            sql: #sql,
            statements: Borrowed(&[#(#statements,)*]),
            origins: Borrowed(&[#(#origins,)*]),
        }
    }
}
