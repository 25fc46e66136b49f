//! ReplaceTags: `<TAG>` placeholders in the regexes of rules named by `replace_rules`,
//! expanded after every file is read, with `<pre X>`, `<post X>` and `<inter X>` markers.
//!
//! Semantics follow SpamAssassin's plugin: each pass removes the first `pre`, `post` and
//! `inter` marker, splits the pattern around `<...>` tokens, puts the `pre` text before and
//! the `post` text after every token, the `inter` text into every empty piece between two
//! tokens (and a leading empty piece), then replaces each known tag by its value; passes
//! repeat while a value brought in new tags, at most six times.

use super::parser::{Config, HeaderTest, RuleTest};

/// Expands tags in every rule listed by `replace_rules`.
pub fn apply(config: &mut Config) {
    let (start, end) = config
        .replace_delims
        .clone()
        .unwrap_or_else(|| ("<".to_string(), ">".to_string()));
    let names: Vec<String> = config.replace_rules.iter().cloned().collect();
    for name in names {
        let Some(rule) = config.rules.get(&name) else {
            continue;
        };
        let source = match &rule.test {
            RuleTest::Pattern(p) => &p.source,
            RuleTest::MimeHeader { pattern, .. } => &pattern.source,
            RuleTest::Header(HeaderTest::Regex { pattern, .. }) => &pattern.source,
            _ => continue,
        };
        let expanded = expand(source, config, &start, &end);
        if let Some(rule) = config.rules.get_mut(&name) {
            match &mut rule.test {
                RuleTest::Pattern(p) => p.source = expanded,
                RuleTest::MimeHeader { pattern, .. } => pattern.source = expanded,
                RuleTest::Header(HeaderTest::Regex { pattern, .. }) => pattern.source = expanded,
                _ => {}
            }
        }
    }
}

/// Removes the first `<kind NAME>` marker and returns NAME.
fn take_marker(re: &mut String, kind: &str, start: &str, end: &str) -> Option<String> {
    let open = format!("{start}{kind} ");
    let at = re.find(&open)?;
    let name_start = at + open.len();
    let close = re[name_start..].find(end)?;
    if close == 0 {
        return None;
    }
    let name = re[name_start..name_start + close].to_string();
    re.replace_range(at..name_start + close + end.len(), "");
    Some(name)
}

/// Splits like Perl's `split(/(<[^<>]+>)/, $re)`: text pieces and tag tokens, trailing empty
/// pieces dropped. Returns (piece, is_token).
fn split_tokens(re: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let b = re.as_bytes();
    let mut piece_start = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'<' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'<' && b[j] != b'>' {
                j += 1;
            }
            if j < b.len() && b[j] == b'>' && j > i + 1 {
                out.push((re[piece_start..i].to_string(), false));
                out.push((re[i..=j].to_string(), true));
                i = j + 1;
                piece_start = i;
                continue;
            }
        }
        i += 1;
    }
    out.push((re[piece_start..].to_string(), false));
    while out.last().is_some_and(|(p, t)| !t && p.is_empty()) {
        out.pop();
    }
    out
}

fn expand(source: &str, config: &Config, start: &str, end: &str) -> String {
    let mut re = source.to_string();
    for _pass in 0..6 {
        let pre = take_marker(&mut re, "pre", start, end)
            .and_then(|n| config.replace_pre.get(&n).cloned());
        let post = take_marker(&mut re, "post", start, end)
            .and_then(|n| config.replace_post.get(&n).cloned());
        let inter = take_marker(&mut re, "inter", start, end)
            .and_then(|n| config.replace_inter.get(&n).cloned());
        let mut again = false;
        let mut out = String::with_capacity(re.len() * 4);
        for (piece, token) in split_tokens(&re) {
            if !token {
                if piece.is_empty() {
                    if let Some(inter) = &inter {
                        out.push_str(inter);
                    }
                } else {
                    out.push_str(&piece);
                }
                continue;
            }
            let name = &piece[start.len().min(piece.len())..piece.len().saturating_sub(end.len())];
            let value = config.replace_tags.get(name);
            if let Some(pre) = &pre {
                out.push_str(pre);
            }
            match value {
                Some(v) => {
                    again |= split_tokens(v).iter().any(|(_, t)| *t);
                    out.push_str(v);
                }
                None => out.push_str(&piece),
            }
            if let Some(post) = &post {
                out.push_str(post);
            }
        }
        re = out;
        if !again {
            break;
        }
    }
    re
}

#[cfg(test)]
mod tests {
    use super::super::parser::Parser;
    use super::*;

    #[test]
    fn inter_post_and_nested_tags() {
        let mut p = Parser::new();
        p.parse_str(
            "t.cf",
            "replace_tag A [aA]\nreplace_tag B (?:<A>b)\nreplace_inter W1 \\W?\n\
             replace_post P2 {1,2}\nbody R /<inter W1><post P2>x<A><B>/i\nreplace_rules R\n",
        );
        let c = p.finish();
        match &c.rules["R"].test {
            RuleTest::Pattern(p) => assert_eq!(p.source, r"x[aA]{1,2}\W?(?:[aA]b){1,2}"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
