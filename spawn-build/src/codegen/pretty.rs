//! Lays out generated tokens as readable Rust source.
//!
//! `TokenStream`'s own `Display` puts everything on one line with a space between any two
//! tokens (`:: spawn_runtime :: Migration { name : … }`). The generated file is read by
//! people debugging a build, so this prints it the way it would be written by hand: paths,
//! calls and ranges without inner spaces; blocks one statement a line; lists of structs,
//! lists ending in a comma, and structs holding structs or lists or with more than a few
//! fields one item a line, indented.
//! It knows only the token shapes codegen emits: blocks of `const` items, paths, struct
//! literals, calls, macro calls, arrays, references, dereferences, ranges and literals.

use proc_macro2::{Delimiter, Group, Spacing, TokenStream, TokenTree};

/// One indentation level.
const INDENT: &str = "    ";

/// A struct literal with more fields than this takes a line a field.
const LONG_STRUCT: usize = 4;

/// `tokens`, a sequence of items or statements, as Rust source one a line, each line
/// indented `depth` levels and ending in a newline.
pub(super) fn lines(tokens: TokenStream, depth: usize) -> String {
    let mut printer = Printer {
        out: String::new(),
        depth,
    };
    printer.newline();
    printer.stream(tokens, true);
    let mut out = printer.out.split_off(1);
    out.push('\n');
    out
}

/// What was printed last, which decides what goes before the next token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    /// Nothing yet, or a token the next one sticks to: `&`, `*`, `!`, a joint punctuation
    /// (the first `:` of `::`), or the end of `::` or `..`.
    Glue,
    /// An identifier, a literal or a group.
    Word,
    /// A lone `:` (a struct field's or an item's type) or `=`.
    Colon,
    /// A `,`, or a `;` ending a statement.
    Comma,
    /// A keyword that a path may follow (`use ::a::b`).
    Keyword,
}

#[derive(Debug, Default)]
struct Printer {
    out: String,
    depth: usize,
}

impl Printer {
    /// Prints `tokens`, one item a line if `one_per_line`.
    fn stream(&mut self, tokens: impl IntoIterator<Item = TokenTree>, one_per_line: bool) {
        let mut last = Last::Glue;
        let mut joint = None;
        for token in tokens {
            let after_joint = joint.take();
            match (last, &token) {
                (Last::Comma, _) if one_per_line => self.newline(),
                (Last::Comma | Last::Colon | Last::Keyword, _) => self.out.push(' '),
                (Last::Glue, _) => {}
                (Last::Word, TokenTree::Punct(p))
                    if matches!(p.as_char(), ',' | ';' | ':' | '.' | '!') => {}
                (Last::Word, TokenTree::Group(g)) if g.delimiter() != Delimiter::Brace => {}
                (Last::Word, _) => self.out.push(' '),
            }
            last = match token {
                TokenTree::Group(group) => {
                    self.group(&group);
                    Last::Word
                }
                TokenTree::Ident(ident) => {
                    let word = ident.to_string();
                    self.out.push_str(&word);
                    if word == "use" {
                        Last::Keyword
                    } else {
                        Last::Word
                    }
                }
                TokenTree::Literal(literal) => {
                    self.out.push_str(&literal.to_string());
                    Last::Word
                }
                TokenTree::Punct(punct) => {
                    let c = punct.as_char();
                    self.out.push(c);
                    let completes = after_joint == Some(c) && matches!(c, ':' | '.');
                    if punct.spacing() == Spacing::Joint {
                        joint = Some(c);
                    }
                    match c {
                        _ if completes || punct.spacing() == Spacing::Joint => Last::Glue,
                        '&' | '*' | '!' => Last::Glue,
                        ':' | '=' => Last::Colon,
                        ',' | ';' => Last::Comma,
                        _ => Last::Word,
                    }
                }
            };
        }
    }

    /// Prints a delimited group: blocks, lists of structs or ending in a comma, and structs
    /// holding structs or lists or with many fields, one item a line; everything else on
    /// one line.
    fn group(&mut self, group: &Group) {
        let (open, close) = match group.delimiter() {
            Delimiter::Parenthesis => ("(", ")"),
            Delimiter::Bracket => ("[", "]"),
            Delimiter::Brace => ("{", "}"),
            Delimiter::None => ("", ""),
        };
        // Walked once: generated sets are megabytes of tokens.
        let inner: Vec<TokenTree> = group.stream().into_iter().collect();
        let holds = |delimiters: &[Delimiter]| {
            inner
                .iter()
                .any(|t| matches!(t, TokenTree::Group(g) if delimiters.contains(&g.delimiter())))
        };
        let is_comma = |t: &TokenTree| matches!(t, TokenTree::Punct(p) if p.as_char() == ',');
        let one_per_line = match group.delimiter() {
            Delimiter::Bracket => holds(&[Delimiter::Brace]) || inner.last().is_some_and(is_comma),
            Delimiter::Brace => {
                holds(&[Delimiter::Brace, Delimiter::Bracket])
                    || inner.iter().filter(|t| is_comma(t)).count() > LONG_STRUCT
            }
            Delimiter::Parenthesis | Delimiter::None => false,
        };
        self.out.push_str(open);
        if one_per_line {
            self.depth += 1;
            self.newline();
            self.stream(inner, true);
            self.depth -= 1;
            self.newline();
        } else if group.delimiter() == Delimiter::Brace && !inner.is_empty() {
            self.out.push(' ');
            self.stream(inner, false);
            self.out.push(' ');
        } else {
            self.stream(inner, false);
        }
        self.out.push_str(close);
    }

    fn newline(&mut self) {
        self.out.push('\n');
        for _ in 0..self.depth {
            self.out.push_str(INDENT);
        }
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use proc_macro2::TokenStream;

    use super::{lines, Printer};

    /// `tokens` as Rust source, on one line unless a group breaks it.
    fn source(tokens: TokenStream) -> String {
        let mut printer = Printer::default();
        printer.stream(tokens, false);
        printer.out
    }

    #[test]
    fn paths_calls_ranges_and_references_have_no_inner_spaces() {
        let tokens = quote! {
            ::a::f(&[1, 2], ::core::include_str!("x.sql"), 0..10, ::core::option::Option::None)
        };
        assert_eq!(
            source(tokens),
            r#"::a::f(&[1, 2], ::core::include_str!("x.sql"), 0..10, ::core::option::Option::None)"#
        );
    }

    #[test]
    fn lists_of_structs_and_nested_structs_take_a_line_an_item() {
        let tokens = quote! {
            ::a::f(&[::a::M {
                name: "m",
                list: &[::a::S { start: 0, line: 1 }, ::a::S { start: 5, line: 2 },],
                empty: &[],
            },], "dev", "_spawn")
        };
        let expected = r#"::a::f(&[
    ::a::M {
        name: "m",
        list: &[
            ::a::S { start: 0, line: 1 },
            ::a::S { start: 5, line: 2 },
        ],
        empty: &[],
    },
], "dev", "_spawn")"#;
        assert_eq!(source(tokens), expected);
    }

    #[test]
    fn blocks_take_a_line_a_statement() {
        let tokens = quote! {
            {
                const R0_0: ::a::M = ::a::M { sha: *b"\x01a", body: 0usize..4usize, list: &[], };
                const M0: ::a::E = ::a::E { name: "m", renders: &[::a::R { migration: R0_0 },], };
                const S: ::a::S = ::a::S { a: 1u32, b: 2u32, c: 3u32, d: 4u32, e: ::a::f(&[]), };
                ::a::f(&[M0, M1,], "dev", "_spawn")
            }
        };
        let expected = r#"{
    const R0_0: ::a::M = ::a::M {
        sha: *b"\x01a",
        body: 0usize..4usize,
        list: &[],
    };
    const M0: ::a::E = ::a::E {
        name: "m",
        renders: &[
            ::a::R { migration: R0_0 },
        ],
    };
    const S: ::a::S = ::a::S {
        a: 1u32,
        b: 2u32,
        c: 3u32,
        d: 4u32,
        e: ::a::f(&[]),
    };
    ::a::f(&[
        M0,
        M1,
    ], "dev", "_spawn")
}"#;
        assert_eq!(source(tokens), expected);
    }

    #[test]
    fn lines_print_items_one_a_line_at_a_depth() {
        let tokens = quote! {
            const A: u8 = 1u8;
            const B: ::a::E = ::a::E { renders: &[::a::R { migration: A },], };
        };
        let expected = "    const A: u8 = 1u8;
    const B: ::a::E = ::a::E {
        renders: &[
            ::a::R { migration: A },
        ],
    };
";
        assert_eq!(lines(tokens, 1), expected);
    }
}
