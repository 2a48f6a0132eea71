//! A reader for the text form of `pg_node_tree` (what `nodeToString` writes into
//! `pg_constraint.conbin`, `pg_index.indexprs`, …), so that expressions can be put back
//! together here rather than by the server (see [`super::exprdef`]).
//!
//! The format: a node is `{TAG :field value :field value …}`, a list is `(item item …)`
//! (integer and OID lists start with `i` or `o`), a null pointer is `<>`, and a datum is its
//! length followed by its bytes, `4 [ 0 0 0 0 0 0 0 0 ]`. Tokens are separated by white space
//! and the four brackets; a backslash makes the next character part of the token.

/// One value of a node tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tree<'a> {
    Node(Node<'a>),
    List(Vec<Tree<'a>>),
    /// A scalar token as written (escapes kept): a number, `true`, a name, ….
    Atom(&'a str),
    /// A datum's bytes (a `Const`'s value).
    Datum(Vec<u8>),
    /// `<>`: a null pointer (or an empty string).
    Null,
}

/// A node: its tag (`OPEXPR`, `VAR`, …) and its fields in the order written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node<'a> {
    pub tag: &'a str,
    pub fields: Vec<(&'a str, Tree<'a>)>,
}

impl<'a> Node<'a> {
    pub fn field(&self, name: &str) -> Option<&Tree<'a>> {
        self.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// A numeric field (OIDs, type modifiers, enum values).
    pub fn int(&self, name: &str) -> Option<i64> {
        match self.field(name)? {
            Tree::Atom(text) => text.parse().ok(),
            _ => None,
        }
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.field(name)? {
            Tree::Atom("true") => Some(true),
            Tree::Atom("false") => Some(false),
            _ => None,
        }
    }

    /// A field holding one node.
    pub fn node(&self, name: &str) -> Option<&Node<'a>> {
        match self.field(name)? {
            Tree::Node(node) => Some(node),
            _ => None,
        }
    }

    /// A field holding a list of nodes (`None` when any item is not a node).
    pub fn nodes(&self, name: &str) -> Option<Vec<&Node<'a>>> {
        match self.field(name)? {
            Tree::List(items) => items
                .iter()
                .map(|item| match item {
                    Tree::Node(node) => Some(node),
                    _ => None,
                })
                .collect(),
            _ => None,
        }
    }
}

/// Why a text could not be read as a node tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed;

/// Reads one value (a node, a list, …) from `text`; anything after it is an error.
pub(crate) fn parse(text: &str) -> Result<Tree<'_>, Malformed> {
    let mut tokens = Tokens { text, at: 0 };
    let first = tokens.next().ok_or(Malformed)?;
    let tree = value(first, &mut tokens)?;
    match tokens.next() {
        None => Ok(tree),
        Some(_) => Err(Malformed),
    }
}

/// The tokens of a node tree, as `pg_strtok` splits them.
struct Tokens<'a> {
    text: &'a str,
    at: usize,
}

impl Tokens<'_> {
    /// Whether the next token is `[` (a datum's bytes follow its length).
    fn datum_follows(&self) -> bool {
        let rest = self.text.as_bytes().get(self.at..).unwrap_or_default();
        let mut rest = rest
            .iter()
            .skip_while(|b| matches!(b, b' ' | b'\n' | b'\t' | b'\r'));
        rest.next() == Some(&b'[')
            && rest
                .next()
                .is_none_or(|b| matches!(b, b' ' | b'\n' | b'\t' | b'\r'))
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let bytes = self.text.as_bytes();
        while self.at < bytes.len() && matches!(bytes[self.at], b' ' | b'\n' | b'\t' | b'\r') {
            self.at += 1;
        }
        if self.at >= bytes.len() {
            return None;
        }
        let start = self.at;
        if matches!(bytes[start], b'(' | b')' | b'{' | b'}') {
            self.at += 1;
        } else {
            while self.at < bytes.len()
                && !matches!(
                    bytes[self.at],
                    b' ' | b'\n' | b'\t' | b'\r' | b'(' | b')' | b'{' | b'}'
                )
            {
                if bytes[self.at] == b'\\' {
                    self.at += 1;
                }
                self.at += 1;
            }
            self.at = self.at.min(bytes.len());
        }
        // Token boundaries are ASCII, so they are character boundaries too.
        self.text.get(start..self.at)
    }
}

fn value<'a>(token: &'a str, tokens: &mut Tokens<'a>) -> Result<Tree<'a>, Malformed> {
    match token {
        "{" => node(tokens).map(Tree::Node),
        "(" => {
            let mut items = Vec::new();
            loop {
                match tokens.next().ok_or(Malformed)? {
                    ")" => return Ok(Tree::List(items)),
                    item => items.push(value(item, tokens)?),
                }
            }
        }
        "<>" => Ok(Tree::Null),
        ")" | "}" => Err(Malformed),
        atom => {
            // A datum: its length, then its bytes in brackets.
            if tokens.datum_follows() && atom.bytes().all(|b| b.is_ascii_digit()) {
                tokens.next();
                let mut bytes = Vec::new();
                loop {
                    match tokens.next().ok_or(Malformed)? {
                        "]" => break,
                        byte => {
                            let signed: i16 = byte.parse().map_err(|_| Malformed)?;
                            // Written as C `char`s, signed or not depending on the platform.
                            let byte =
                                u8::try_from(signed.rem_euclid(256)).map_err(|_| Malformed)?;
                            bytes.push(byte);
                        }
                    }
                }
                return Ok(Tree::Datum(bytes));
            }
            Ok(Tree::Atom(atom))
        }
    }
}

fn node<'a>(tokens: &mut Tokens<'a>) -> Result<Node<'a>, Malformed> {
    let tag = tokens.next().ok_or(Malformed)?;
    if matches!(tag, "{" | "}" | "(" | ")") {
        return Err(Malformed);
    }
    // Expression nodes have up to a dozen fields.
    let mut fields = Vec::with_capacity(12);
    loop {
        let token = tokens.next().ok_or(Malformed)?;
        if token == "}" {
            return Ok(Node { tag, fields });
        }
        let name = token.strip_prefix(':').ok_or(Malformed)?;
        let first = tokens.next().ok_or(Malformed)?;
        fields.push((name, value(first, tokens)?));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nodes_lists_and_datums() {
        let text = "({OPEXPR :opno 521 :args ({VAR :varno 1 :varattno 5} \
                    {CONST :consttype 23 :constisnull false :constvalue 4 [ 7 0 0 0 -1 0 0 0 ]}) \
                    :location 79} <>)";
        let Tree::List(items) = parse(text).unwrap() else {
            panic!("a list")
        };
        assert_eq!(items.len(), 2);
        assert_eq!(items[1], Tree::Null);
        let Tree::Node(op) = &items[0] else {
            panic!("a node")
        };
        assert_eq!(op.tag, "OPEXPR");
        assert_eq!(op.int("opno"), Some(521));
        let args = op.nodes("args").unwrap();
        assert_eq!(args[0].int("varattno"), Some(5));
        assert_eq!(args[1].bool("constisnull"), Some(false));
        assert_eq!(
            args[1].field("constvalue"),
            Some(&Tree::Datum(vec![7, 0, 0, 0, 255, 0, 0, 0]))
        );
    }

    #[test]
    fn escaped_characters_stay_in_their_token() {
        let Tree::Node(node) = parse(r"{ALIAS :aliasname a\ b\}c :colnames <>}").unwrap() else {
            panic!("a node")
        };
        assert_eq!(node.field("aliasname"), Some(&Tree::Atom(r"a\ b\}c")));
        assert_eq!(node.field("colnames"), Some(&Tree::Null));
    }

    #[test]
    fn malformed_text_is_an_error() {
        for text in [
            "",
            "{",
            "{VAR :varno",
            "{VAR varno 1}",
            "(1 2",
            "{VAR} x",
            "3 [ 1 x ]",
        ] {
            assert_eq!(parse(text), Err(Malformed), "{text:?}");
        }
    }
}
