//! HTML evals (`html_test`, `html_range`, `html_eval`, `html_tag_exists`, `html_tag_balance`,
//! `html_image_only`, `html_image_ratio`, `html_text_match`, `html_title_subject_ratio`)
//! over the statistics SpamAssassin's HTML parser collects per HTML part: which tags occur
//! and how often they are open, the text colour and size in effect for each text run, image
//! areas, the ratio of unknown tags, comments, titles and anchor texts.
//!
//! [`analyze`] walks one part with a small tolerant tokenizer (start and end tags with
//! attributes, text, comments, declarations; `script` and `style` content kept raw) and
//! keeps the same counters, with the same quirks, as SpamAssassin 4.0.1.

use std::collections::HashMap;

use super::parser::EvalCall;
use super::texts::Texts;

/// CSS and HTML colour names (the W3C list), sorted for binary search.
const COLORS: &[(&str, u32)] = &[
    ("aliceblue", 0xf0f8ff),
    ("antiquewhite", 0xfaebd7),
    ("aqua", 0x00ffff),
    ("aquamarine", 0x7fffd4),
    ("azure", 0xf0ffff),
    ("beige", 0xf5f5dc),
    ("bisque", 0xffe4c4),
    ("black", 0x000000),
    ("blanchedalmond", 0xffebcd),
    ("blue", 0x0000ff),
    ("blueviolet", 0x8a2be2),
    ("brown", 0xa52a2a),
    ("burlywood", 0xdeb887),
    ("cadetblue", 0x5f9ea0),
    ("chartreuse", 0x7fff00),
    ("chocolate", 0xd2691e),
    ("coral", 0xff7f50),
    ("cornflowerblue", 0x6495ed),
    ("cornsilk", 0xfff8dc),
    ("crimson", 0xdc143c),
    ("cyan", 0x00ffff),
    ("darkblue", 0x00008b),
    ("darkcyan", 0x008b8b),
    ("darkgoldenrod", 0xb8860b),
    ("darkgray", 0xa9a9a9),
    ("darkgreen", 0x006400),
    ("darkgrey", 0xa9a9a9),
    ("darkkhaki", 0xbdb76b),
    ("darkmagenta", 0x8b008b),
    ("darkolivegreen", 0x556b2f),
    ("darkorange", 0xff8c00),
    ("darkorchid", 0x9932cc),
    ("darkred", 0x8b0000),
    ("darksalmon", 0xe9967a),
    ("darkseagreen", 0x8fbc8f),
    ("darkslateblue", 0x483d8b),
    ("darkslategray", 0x2f4f4f),
    ("darkslategrey", 0x2f4f4f),
    ("darkturquoise", 0x00ced1),
    ("darkviolet", 0x9400d3),
    ("deeppink", 0xff1493),
    ("deepskyblue", 0x00bfff),
    ("dimgray", 0x696969),
    ("dimgrey", 0x696969),
    ("dodgerblue", 0x1e90ff),
    ("firebrick", 0xb22222),
    ("floralwhite", 0xfffaf0),
    ("forestgreen", 0x228b22),
    ("fuchsia", 0xff00ff),
    ("gainsboro", 0xdcdcdc),
    ("ghostwhite", 0xf8f8ff),
    ("gold", 0xffd700),
    ("goldenrod", 0xdaa520),
    ("gray", 0x808080),
    ("green", 0x008000),
    ("greenyellow", 0xadff2f),
    ("grey", 0x808080),
    ("honeydew", 0xf0fff0),
    ("hotpink", 0xff69b4),
    ("indianred", 0xcd5c5c),
    ("indigo", 0x4b0082),
    ("ivory", 0xfffff0),
    ("khaki", 0xf0e68c),
    ("lavender", 0xe6e6fa),
    ("lavenderblush", 0xfff0f5),
    ("lawngreen", 0x7cfc00),
    ("lemonchiffon", 0xfffacd),
    ("lightblue", 0xadd8e6),
    ("lightcoral", 0xf08080),
    ("lightcyan", 0xe0ffff),
    ("lightgoldenrodyellow", 0xfafad2),
    ("lightgray", 0xd3d3d3),
    ("lightgreen", 0x90ee90),
    ("lightgrey", 0xd3d3d3),
    ("lightpink", 0xffb6c1),
    ("lightsalmon", 0xffa07a),
    ("lightseagreen", 0x20b2aa),
    ("lightskyblue", 0x87cefa),
    ("lightslategray", 0x778899),
    ("lightslategrey", 0x778899),
    ("lightsteelblue", 0xb0c4de),
    ("lightyellow", 0xffffe0),
    ("lime", 0x00ff00),
    ("limegreen", 0x32cd32),
    ("linen", 0xfaf0e6),
    ("magenta", 0xff00ff),
    ("maroon", 0x800000),
    ("mediumaquamarine", 0x66cdaa),
    ("mediumblue", 0x0000cd),
    ("mediumorchid", 0xba55d3),
    ("mediumpurple", 0x9370db),
    ("mediumseagreen", 0x3cb371),
    ("mediumslateblue", 0x7b68ee),
    ("mediumspringgreen", 0x00fa9a),
    ("mediumturquoise", 0x48d1cc),
    ("mediumvioletred", 0xc71585),
    ("midnightblue", 0x191970),
    ("mintcream", 0xf5fffa),
    ("mistyrose", 0xffe4e1),
    ("moccasin", 0xffe4b5),
    ("navajowhite", 0xffdead),
    ("navy", 0x000080),
    ("oldlace", 0xfdf5e6),
    ("olive", 0x808000),
    ("olivedrab", 0x6b8e23),
    ("orange", 0xffa500),
    ("orangered", 0xff4500),
    ("orchid", 0xda70d6),
    ("palegoldenrod", 0xeee8aa),
    ("palegreen", 0x98fb98),
    ("paleturquoise", 0xafeeee),
    ("palevioletred", 0xdb7093),
    ("papayawhip", 0xffefd5),
    ("peachpuff", 0xffdab9),
    ("peru", 0xcd853f),
    ("pink", 0xffc0cb),
    ("plum", 0xdda0dd),
    ("powderblue", 0xb0e0e6),
    ("purple", 0x800080),
    ("red", 0xff0000),
    ("rosybrown", 0xbc8f8f),
    ("royalblue", 0x4169e1),
    ("saddlebrown", 0x8b4513),
    ("salmon", 0xfa8072),
    ("sandybrown", 0xf4a460),
    ("seagreen", 0x2e8b57),
    ("seashell", 0xfff5ee),
    ("sienna", 0xa0522d),
    ("silver", 0xc0c0c0),
    ("skyblue", 0x87ceeb),
    ("slateblue", 0x6a5acd),
    ("slategray", 0x708090),
    ("slategrey", 0x708090),
    ("snow", 0xfffafa),
    ("springgreen", 0x00ff7f),
    ("steelblue", 0x4682b4),
    ("tan", 0xd2b48c),
    ("teal", 0x008080),
    ("thistle", 0xd8bfd8),
    ("tomato", 0xff6347),
    ("turquoise", 0x40e0d0),
    ("violet", 0xee82ee),
    ("wheat", 0xf5deb3),
    ("white", 0xffffff),
    ("whitesmoke", 0xf5f5f5),
    ("yellow", 0xffff00),
    ("yellowgreen", 0x9acd32),
];

/// HTML 4.01 / XHTML 1.0 elements (and a few common non-standard ones) SpamAssassin counts
/// as valid, sorted ([`is_element`] searches them by halves).
const ELEMENTS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "address",
    "applet",
    "area",
    "b",
    "base",
    "basefont",
    "bdo",
    "big",
    "blockquote",
    "body",
    "br",
    "button",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "dfn",
    "dir",
    "div",
    "dl",
    "dt",
    "em",
    "fieldset",
    "font",
    "form",
    "frame",
    "frameset",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "hr",
    "html",
    "i",
    "iframe",
    "img",
    "input",
    "ins",
    "isindex",
    "kbd",
    "label",
    "legend",
    "li",
    "link",
    "map",
    "menu",
    "meta",
    "nobr",
    "noframes",
    "noscript",
    "object",
    "ol",
    "optgroup",
    "option",
    "p",
    "param",
    "pre",
    "q",
    "s",
    "samp",
    "script",
    "select",
    "small",
    "span",
    "strike",
    "strong",
    "style",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "title",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
    "x-sigsep",
    "x-tab",
];
/// Rendered but not counted as valid.
const TRICKS: &[&str] = &["bgsound", "embed", "listing", "plaintext", "xmp"];
/// Whether `tag` is one of [`ELEMENTS`] (which is sorted).
fn is_element(tag: &str) -> bool {
    ELEMENTS.binary_search(&tag).is_ok()
}

/// Tags that change the text style.
const TEXT_STYLE: &[&str] = &[
    "body", "font", "table", "tr", "th", "td", "big", "small", "basefont", "marquee", "span", "p",
    "div", "a",
];

/// Attributes each style tag honours.
fn ok_attribute(tag: &str, name: &str) -> bool {
    let list: &[&str] = match tag {
        "basefont" | "font" => &["color", "face", "size"],
        "body" => &["text", "bgcolor", "link", "alink", "vlink", "background"],
        "marquee" => &["bgcolor", "background"],
        "table" | "td" | "th" | "tr" => &["bgcolor", "style"],
        "span" | "p" | "div" | "a" => &["style"],
        _ => &[],
    };
    list.contains(&name)
}

/// What SpamAssassin's HTML parser records about one HTML part.
#[derive(Debug, Clone, Default)]
pub struct HtmlStats {
    /// Per tag name: open count (start +1, end -1, floored at 0); present once seen.
    pub inside: HashMap<String, i64>,
    /// Characters of the part's decoded text (bytes when it is not UTF-8), as
    /// SpamAssassin counts the text it gives its HTML parser.
    pub length: usize,
    /// Non-white-space characters of the rendered text.
    pub non_space_len: usize,
    /// Sum of `<img width height>` areas (200 for a missing or zero side).
    pub image_area: u64,
    /// Largest and smallest font size set.
    pub max_size: i64,
    /// Smallest font size set.
    pub min_size: i64,
    tags: usize,
    elements: usize,
    tags_seen: usize,
    elements_seen: usize,
    closed_extra: usize,
    obfuscation: usize,
    /// Boolean results (`font_low_contrast`, `font_invalid_color`, `font_face_bad`,
    /// `form_action_mailto`, `embeds`, `html`).
    pub flags: Vec<&'static str>,
    /// Comments, with their delimiters.
    pub comments: Vec<Vec<u8>>,
    /// Title texts.
    pub titles: Vec<Vec<u8>>,
    /// Anchor texts (`<img>` noted as the text `<img>\n`).
    pub anchors: Vec<Vec<u8>>,
    /// Each anchor's `href`, white space trimmed ("" without one), parallel to `anchors`.
    pub anchor_hrefs: Vec<String>,
    /// Script texts.
    pub scripts: Vec<Vec<u8>>,
}

impl HtmlStats {
    /// A numeric result by SpamAssassin's name, when it is defined for this part.
    pub fn value(&self, name: &str) -> Option<f64> {
        let ratio = |a: usize, b: usize| (b > 0).then(|| a as f64 / b as f64);
        match name {
            "length" => Some(self.length as f64),
            "non_space_len" => Some(self.non_space_len as f64),
            "image_area" => Some(self.image_area as f64),
            "max_size" => Some(self.max_size as f64),
            "min_size" => Some(self.min_size as f64),
            "closed_extra_ratio" => ratio(self.closed_extra, self.tags),
            "bad_tag_ratio" => ratio(self.tags - self.elements.min(self.tags), self.tags),
            "non_element_ratio" => ratio(
                self.tags_seen - self.elements_seen.min(self.tags_seen),
                self.tags_seen,
            ),
            "obfuscation_ratio" => ratio(self.obfuscation, self.tags),
            _ if self.flags.contains(&name) => Some(1.0),
            _ => None,
        }
    }

    fn flag(&mut self, f: &'static str) {
        if !self.flags.contains(&f) {
            self.flags.push(f);
        }
    }

    /// Strings of a text field (`comment`, `title`, `anchor`, `script`).
    pub fn strings(&self, name: &str) -> &[Vec<u8>] {
        match name {
            "comment" => &self.comments,
            "title" => &self.titles,
            "anchor" => &self.anchors,
            "script" => &self.scripts,
            _ => &[],
        }
    }
}

/// The text style in effect.
#[derive(Debug, Clone)]
struct Style {
    tag: String,
    fg: String,
    bg: String,
    size: i64,
    display: Option<String>,
    visibility: Option<String>,
}

fn lower(s: &[u8]) -> String {
    String::from_utf8_lossy(s).to_ascii_lowercase()
}

/// `#rrggbb`, or `invalid`, from a colour name, hex or `rgb()` value.
fn name_to_rgb(c: &str) -> String {
    let c = c.trim().to_ascii_lowercase();
    if let Ok(i) = COLORS.binary_search_by(|(n, _)| (*n).cmp(c.as_str())) {
        return format!("#{:06x}", COLORS[i].1);
    }
    let hexish = c.bytes().all(|b| b == b'#' || b.is_ascii_hexdigit());
    let rgb_at = c.find("rgb(");
    let rgb_ok = rgb_at.is_some_and(|p| {
        c[p + 4..].find(')').is_some_and(|e| {
            c[p + 4..p + 4 + e]
                .bytes()
                .all(|b| b.is_ascii_digit() || b"%, ".contains(&b))
        })
    });
    if !hexish && !rgb_ok {
        return "invalid".into();
    }
    let mut color = c.clone();
    if let Some(p) = rgb_at.filter(|_| rgb_ok) {
        let inner = &c[p + 4..p + 4 + c[p + 4..].find(')').unwrap_or(0)];
        let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
        if parts.len() == 3 {
            let pct = parts.iter().all(|x| x.ends_with('%'));
            let nums: Vec<Option<u64>> = parts
                .iter()
                .map(|x| x.trim_end_matches('%').parse::<u64>().ok())
                .collect();
            if nums.iter().all(Option::is_some) {
                let v: Vec<u64> = nums.into_iter().flatten().collect();
                let v: Vec<u64> = if pct {
                    v.iter().map(|n| n.saturating_mul(255) / 100).collect()
                } else {
                    v
                };
                color = format!(
                    "#{}",
                    v.iter().map(|n| format!("{n:02x}")).collect::<String>()
                );
            }
        }
    }
    if !color.starts_with('#') {
        return "invalid".into();
    }
    let mut hex: String = color.chars().filter(char::is_ascii_hexdigit).collect();
    if hex.len() > 6 {
        hex.truncate(6);
    }
    if hex.len() > 3 && hex.len() < 6 {
        hex.truncate(3);
    }
    while !hex.len().is_multiple_of(3) {
        hex.push('0');
    }
    if hex.len() == 3 {
        hex = hex.chars().flat_map(|c| [c, c]).collect();
    }
    format!("#{hex}")
}

fn rgb(c: &str) -> Option<(f64, f64, f64)> {
    let h = c.strip_prefix('#').unwrap_or(c);
    if h.len() != 6
        || !h
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let p = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok().map(f64::from);
    Some((p(0)?, p(2)?, p(4)?))
}

fn last6(s: &str) -> &str {
    let mut i = s.len().saturating_sub(6);
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    &s[i..]
}

/// The first colour of the bottom layer of a CSS `background` value.
fn css_background_color(value: &str) -> Option<String> {
    let layer = value.rsplit(',').next().unwrap_or(value);
    let mut tokens = Vec::new();
    let mut cur = String::new();
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for ch in layer.chars() {
        match (quote, ch) {
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(c);
            }
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(ch);
                cur.push(ch);
            }
            (None, '(') => {
                depth += 1;
                cur.push(ch);
            }
            (None, ')') => {
                depth = depth.saturating_sub(1);
                cur.push(ch);
            }
            (None, ' ') if depth == 0 => {
                if !cur.is_empty() {
                    tokens.push(std::mem::take(&mut cur));
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    tokens
        .iter()
        .map(|t| name_to_rgb(t))
        .find(|c| c != "invalid")
}

struct Walker {
    stats: HtmlStats,
    styles: Vec<Style>,
    basefont: i64,
    /// Rendered pieces: (text, whitespace piece, invisible).
    last_piece: Option<(Vec<u8>, bool)>,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn is_word_char(b: u8) -> bool {
    // Perl's [^\s\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]: not space, not ASCII punctuation.
    !(is_space(b)
        || (0x21..=0x2f).contains(&b)
        || (0x3a..=0x40).contains(&b)
        || (0x5b..=0x60).contains(&b)
        || (0x7b..=0x7e).contains(&b))
}

impl Walker {
    fn tag(&mut self, tag: &str, attrs: &[(String, Vec<u8>)], num: i64) {
        let namespace = is_namespace(tag);
        let element = is_element(tag);
        let open = match self.stats.inside.get_mut(tag) {
            Some(open) => open,
            None => {
                self.stats.tags_seen += 1;
                if element || namespace {
                    self.stats.elements_seen += 1;
                }
                self.stats.inside.entry(tag.to_string()).or_insert(0)
            }
        };
        *open += num;
        if *open < 0 {
            *open = 0;
            self.stats.closed_extra += 1;
        }
        self.stats.tags += 1;
        if element || namespace {
            self.stats.elements += 1;
        }
        if namespace || !(element || TRICKS.contains(&tag)) {
            return;
        }
        if TEXT_STYLE.contains(&tag) {
            self.text_style(tag, attrs, num);
        }
        self.whitespace(tag);
        if num == 1 {
            self.tests(tag, attrs);
        }
    }

    fn whitespace(&mut self, tag: &str) {
        let ws: &[u8] = match tag {
            "br" | "div" => b"\n",
            "li" | "th" | "td" | "dt" | "dd" | "embed" => b" ",
            _ if tag.len() == 2 && tag.starts_with('h') && tag.as_bytes()[1].is_ascii_digit() => {
                b" "
            }
            "p" | "hr" | "blockquote" | "pre" | "listing" | "plaintext" | "xmp" | "title" => {
                b"\n\n"
            }
            _ => return,
        };
        self.last_piece = Some((ws.to_vec(), true));
    }

    fn text_style(&mut self, tag: &str, attrs: &[(String, Vec<u8>)], num: i64) {
        let tag = if tag == "th" { "td" } else { tag };
        if num != 1 {
            if tag != "body" && self.styles.iter().any(|s| s.tag == tag) {
                while let Some(s) = self.styles.pop() {
                    if s.tag == tag || self.styles.is_empty() {
                        break;
                    }
                }
                if self.styles.is_empty() {
                    self.styles.push(default_style());
                }
            }
            return;
        }
        let attr = |n: &str| {
            attrs
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        };
        if tag == "basefont"
            && let Some(n) = attr("size").and_then(|s| leading_int(&s, false))
        {
            self.basefont = n;
            return;
        }
        if (tag == "td" || tag == "tr") && self.styles.iter().any(|s| s.tag == tag) {
            while let Some(top) = self.styles.last() {
                let t = top.tag.as_str();
                let close = (tag == "td" && (t == "font" || t == "td"))
                    || (tag == "tr" && matches!(t, "font" | "td" | "tr"));
                if close && self.styles.len() > 1 {
                    self.styles.pop();
                } else {
                    break;
                }
            }
        }
        let parent = self.styles.last().cloned().unwrap_or_else(default_style);
        let mut new = parent.clone();
        new.tag = tag.to_string();
        if tag == "big" || tag == "small" {
            new.size += if tag == "big" { 1 } else { -1 };
            self.styles.push(new);
            return;
        }
        for (name, value) in attrs {
            if !ok_attribute(tag, name) {
                continue;
            }
            let value = String::from_utf8_lossy(value);
            match name.as_str() {
                "text" | "color" => new.fg = name_to_rgb(&value),
                "size" => {
                    if let Some(n) = leading_int(&value, true) {
                        new.size = self.basefont + n;
                    } else if let Some(n) = leading_int(&value, false) {
                        new.size = n;
                    }
                }
                "style" => {
                    for part in value.split(';') {
                        let p = part.trim_start();
                        let lp = p.to_ascii_lowercase();
                        if let Some(rest) = lp
                            .strip_prefix("color:")
                            .map(|r| ("fg", r))
                            .or_else(|| lp.strip_prefix("background-color:").map(|r| ("bg", r)))
                        {
                            let (which, v) = rest;
                            let v = v.trim();
                            let v = strip_important(v);
                            let c = if v.contains("rgb") {
                                let digits: String = v
                                    .chars()
                                    .filter(|c| c.is_ascii_digit() || *c == ',')
                                    .collect();
                                let nums: Vec<u64> = digits
                                    .split(',')
                                    .map(|x| x.parse::<u64>().unwrap_or(0).min(255))
                                    .collect();
                                Some(format!(
                                    "#{:02x}{:02x}{:02x}",
                                    nums.first().copied().unwrap_or(0),
                                    nums.get(1).copied().unwrap_or(0),
                                    nums.get(2).copied().unwrap_or(0)
                                ))
                            } else if v == "inherit" {
                                None
                            } else if v == "transparent" {
                                Some("transparent".to_string())
                            } else {
                                Some(name_to_rgb(v))
                            };
                            if let Some(c) = c {
                                if which == "fg" {
                                    new.fg = c
                                } else {
                                    new.bg = c
                                }
                            }
                        } else if let Some(v) = p.strip_prefix("background:") {
                            if let Some(c) = css_background_color(&v.trim().to_ascii_lowercase()) {
                                new.bg = c;
                            }
                        } else if let Some((k, v)) = p.split_once(':') {
                            let k = k.trim().to_ascii_lowercase();
                            let v = v.trim();
                            if !v.is_empty()
                                && !k.is_empty()
                                && k.bytes()
                                    .all(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'-')
                            {
                                match k.as_str() {
                                    "display" => new.display = Some(v.to_string()),
                                    "visibility" => new.visibility = Some(v.to_string()),
                                    _ => {}
                                }
                            }
                        }
                    }
                    if new.bg == "transparent" {
                        new.bg = parent.bg.clone();
                    }
                    if new.fg == "transparent" {
                        new.fg = new.bg.clone();
                    }
                }
                // SpamAssassin 4.0.1 converts `bgcolor` but never applies it.
                _ => {}
            }
            if new.size > self.stats.max_size {
                self.stats.max_size = new.size;
            } else if new.size < self.stats.min_size {
                self.stats.min_size = new.size;
            }
        }
        self.styles.push(new);
    }

    fn tests(&mut self, tag: &str, attrs: &[(String, Vec<u8>)]) {
        let attr = |n: &str| {
            attrs
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        };
        if tag == "font"
            && let Some(face) = attr("face")
            && !font_face_ok(&face)
        {
            self.stats.flag("font_face_bad");
        }
        if tag == "img"
            && self.stats.inside.get("a").is_some_and(|n| *n > 0)
            && let Some(a) = self.stats.anchors.last_mut()
        {
            a.extend_from_slice(b"<img>\n");
        }
        if tag == "img"
            && let (Some(w), Some(h)) = (attr("width"), attr("height"))
        {
            let side = |v: &str, pct: u64| -> u64 {
                let digits = v.trim_end_matches('%');
                let is_pct = v.ends_with('%') && digits.len() + 1 == v.len();
                match digits.parse::<u64>() {
                    Ok(n) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                        if is_pct {
                            n * pct
                        } else {
                            n
                        }
                    }
                    _ => 0,
                }
            };
            let (mut w, mut h) = (side(&w, 8), side(&h, 6));
            if w == 0 {
                w = 200;
            }
            if h == 0 {
                h = 200;
            }
            self.stats.image_area += w * h;
        }
        if tag == "form"
            && attr("action").is_some_and(|a| a.to_ascii_lowercase().contains("mailto:"))
        {
            self.stats.flag("form_action_mailto");
        }
        if tag == "object" || tag == "embed" {
            self.stats.flag("embeds");
        }
        if tag == "a" {
            self.stats.anchors.push(Vec::new());
            let href = attr("href").unwrap_or_default();
            let href = href.trim_matches(|c: char| c.is_whitespace() || c == '\u{a0}');
            self.stats.anchor_hrefs.push(href.to_string());
        }
        if tag == "title" {
            self.stats.titles.push(Vec::new());
        }
    }

    fn text(&mut self, text: &[u8]) {
        let open = |n: &str| self.stats.inside.get(n).is_some_and(|c| *c > 0);
        if open("script") {
            self.stats.scripts.push(text.to_vec());
            return;
        }
        if open("style") {
            return;
        }
        if open("a")
            && let Some(a) = self.stats.anchors.last_mut()
        {
            a.extend_from_slice(text);
        }
        if open("title")
            && let Some(t) = self.stats.titles.last_mut()
        {
            t.extend_from_slice(text);
        }
        let visible_chars = count_non_space(text);
        if visible_chars > 0 {
            self.invisible();
        }
        if let Some((prev, _)) = &self.last_piece
            && text.first().is_some_and(|b| is_word_char(*b))
            && prev.last().is_some_and(|b| is_word_char(*b))
        {
            self.stats.obfuscation += 1;
        }
        self.stats.non_space_len += visible_chars;
        self.last_piece = Some((text.to_vec(), false));
    }

    /// Checks the style in effect for a visible text run (contrast, colour validity).
    fn invisible(&mut self) {
        let Some(s) = self.styles.last() else {
            return;
        };
        if last6(&s.fg) == last6(&s.bg) {
            self.stats.flag("font_low_contrast");
            return;
        }
        if let (Some((r1, g1, b1)), Some((r2, g2, b2))) = (rgb(&s.fg), rgb(&s.bg)) {
            let d = ((0.2126 * (r1 - r2)).powi(2)
                + (0.7152 * (g1 - g2)).powi(2)
                + (0.0722 * (b1 - b2)).powi(2))
            .sqrt();
            if d < 12.0 {
                self.stats.flag("font_low_contrast");
                return;
            }
        }
        if s.fg == "invalid" || s.bg == "invalid" {
            self.stats.flag("font_invalid_color");
        }
    }
}

fn strip_important(v: &str) -> &str {
    let t = v.trim_end();
    if let Some(p) = t.strip_suffix("important") {
        let p = p.trim_end();
        if let Some(p) = p.strip_suffix('!') {
            return p.trim_end();
        }
    }
    v
}

/// Characters that are not white space (UTF-8 continuation bytes not counted apart).
fn count_non_space(text: &[u8]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if b == 0xc2 && text.get(i + 1) == Some(&0xa0) {
            i += 2;
            continue;
        }
        if !is_space(b) && (b & 0xc0) != 0x80 {
            n += 1;
        }
        i += 1;
    }
    n
}

/// A leading integer (`relative`: with a sign) after optional white space.
fn leading_int(s: &str, relative: bool) -> Option<i64> {
    let t = s.trim_start();
    let (sign, digits) = match t.as_bytes().first() {
        Some(b'+') if relative => (1, &t[1..]),
        Some(b'-') if relative => (-1, &t[1..]),
        _ if relative => return None,
        _ => (1, t),
    };
    let end = digits.bytes().take_while(u8::is_ascii_digit).count();
    if end == 0 {
        return None;
    }
    digits[..end.min(9)].parse::<i64>().ok().map(|n| sign * n)
}

/// `o:p`, `st1:place` and the like (Office namespaces).
fn is_namespace(tag: &str) -> bool {
    let Some((ns, rest)) = tag.split_once(':') else {
        return false;
    };
    let ns_ok = ns == "o"
        || (ns.len() >= 3 && ns.starts_with("st") && ns[2..].bytes().all(|b| b.is_ascii_digit()));
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    ns_ok
        && !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Whether a `<font face>` value looks like a list of font names.
fn font_face_ok(face: &str) -> bool {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"(?i-u)^\s*["'.]?[a-z ][a-z -]*[a-z]\d?["']?(?:,\s*["']?[a-z][a-z -]*[a-z]\d?["']?)*;?$"#)
            .expect("static regex")
    });
    // Perl's `$` also matches before a final newline.
    RE.is_match(face.strip_suffix('\n').unwrap_or(face))
}

fn default_style() -> Style {
    Style {
        tag: "default".into(),
        fg: "#000000".into(),
        bg: "#ffffff".into(),
        size: 3,
        display: None,
        visibility: None,
    }
}

/// Parses attributes of a start tag body (after the name, before `>`).
fn attributes(s: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    // Names kept so far (a set: a hostile tag has 300,000 attributes).
    let mut names = std::collections::HashSet::new();
    let mut i = 0;
    while i < s.len() {
        while i < s.len() && (is_space(s[i]) || s[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < s.len() && !is_space(s[i]) && s[i] != b'=' && s[i] != b'>' {
            i += 1;
        }
        if i == start {
            i += 1;
            continue;
        }
        let name = lower(&s[start..i]);
        while i < s.len() && is_space(s[i]) {
            i += 1;
        }
        let value = if i < s.len() && s[i] == b'=' {
            i += 1;
            while i < s.len() && is_space(s[i]) {
                i += 1;
            }
            match s.get(i) {
                Some(&q @ (b'"' | b'\'')) => {
                    let end = memchr::memchr(q, &s[i + 1..]).map_or(s.len(), |p| i + 1 + p);
                    let v = s[i + 1..end].to_vec();
                    i = end + 1;
                    v
                }
                _ => {
                    let st = i;
                    while i < s.len() && !is_space(s[i]) {
                        i += 1;
                    }
                    s[st..i].to_vec()
                }
            }
        } else {
            name.clone().into_bytes()
        };
        if names.insert(name.clone()) {
            out.push((name, crate::mime::html::decode_entities(&value)));
        }
    }
    out
}

/// Walks one HTML part and collects SpamAssassin's statistics.
///
/// `html` is the part's text as SpamAssassin parses it: decoded, with LF line ends, and
/// recoded to UTF-8 when `normalize_charset` is on (then lengths count characters).
pub fn analyze(html: &[u8]) -> HtmlStats {
    let length = std::str::from_utf8(html).map_or(html.len(), |s| s.chars().count());
    let mut w = Walker {
        stats: HtmlStats {
            length,
            max_size: 3,
            min_size: 3,
            flags: vec!["html"],
            ..HtmlStats::default()
        },
        styles: vec![default_style()],
        basefont: 3,
        last_piece: None,
    };
    let text = crate::mime::html::spamassassin_prepare(html);
    let s = &text[..];
    let mut i = 0;
    let mut pending_text: Vec<u8> = Vec::new();
    let flush = |w: &mut Walker, t: &mut Vec<u8>| {
        if !t.is_empty() {
            let decoded = crate::mime::html::decode_entities(t);
            w.text(&decoded);
            t.clear();
        }
    };
    while i < s.len() {
        let Some(lt) = memchr::memchr(b'<', &s[i..]).map(|p| p + i) else {
            pending_text.extend_from_slice(&s[i..]);
            break;
        };
        pending_text.extend_from_slice(&s[i..lt]);
        let rest = &s[lt..];
        if rest.starts_with(b"<!--") {
            flush(&mut w, &mut pending_text);
            let end = crate::mime::html::comment_end(rest, 0);
            w.stats.comments.push(rest[..end].to_vec());
            i = lt + end;
        } else if rest.starts_with(b"<!") || rest.starts_with(b"<?") {
            flush(&mut w, &mut pending_text);
            let end = memchr::memchr(b'>', rest).map_or(rest.len(), |p| p + 1);
            if rest.len() >= 9 && rest[2..9].eq_ignore_ascii_case(b"doctype") {
                w.stats.elements += 1;
                w.stats.tags += 1;
                w.stats.inside.insert("!doctype".into(), 0);
            } else if rest[1] == b'!' && !rest.starts_with(b"<![CDATA[") {
                // HTML::Parser reports every other `<!...>` as a comment: `<!>`, Office's
                // `<![if !supportLists]>`, `<!ELEMENT x>`, the bogus `<!5122qHWL1-...>` of
                // spam-1/00101 (checked with HTML::Parser 3.81, marked_sections on).
                w.stats.comments.push(rest[..end].to_vec());
            }
            i = lt + end;
        } else if rest.len() > 2 && rest[1] == b'/' && rest[2].is_ascii_alphabetic() {
            flush(&mut w, &mut pending_text);
            let name_len = rest[2..]
                .iter()
                .take_while(|b| !is_space(**b) && **b != b'>')
                .count();
            let name = lower(&rest[2..2 + name_len]);
            let end = memchr::memchr(b'>', rest).map_or(rest.len(), |p| p + 1);
            w.tag(&name, &[], -1);
            i = lt + end;
        } else if rest.len() > 1 && rest[1].is_ascii_alphabetic() {
            flush(&mut w, &mut pending_text);
            let name_len = rest[1..]
                .iter()
                .take_while(|b| !is_space(**b) && **b != b'>' && **b != b'/')
                .count();
            let name = lower(&rest[1..1 + name_len]);
            // The tag ends at the first `>` outside quoted attribute values.
            let j = crate::mime::html::tag_end(rest, 0);
            let attrs = attributes(&rest[1 + name_len..j.min(rest.len())]);
            w.tag(&name, &attrs, 1);
            i = lt + (j + 1).min(rest.len());
            // HTML::Parser's literal elements: their content is text up to the matching
            // end tag (a `<script>` inside an `<iframe>` is no tag), entities decoded in
            // title and textarea only; plaintext runs to the end.
            if let Some(decode) = crate::mime::html::literal_element(&name) {
                let body = &s[i..];
                let end = if name == "plaintext" {
                    body.len()
                } else {
                    find_ci(body, format!("</{name}").as_bytes()).unwrap_or(body.len())
                };
                if end > 0 {
                    if decode {
                        w.text(&crate::mime::html::decode_entities(&body[..end]));
                    } else {
                        w.text(&body[..end]);
                    }
                }
                i += end;
            }
        } else {
            pending_text.push(b'<');
            i = lt + 1;
        }
    }
    flush(&mut w, &mut pending_text);
    // Unclosed script/style elements are closed at the end, as SpamAssassin does.
    for t in ["style", "script"] {
        while w.stats.inside.get(t).is_some_and(|n| *n > 0) {
            w.tag(t, &[], -1);
        }
    }
    w.stats
}

fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (0..=hay.len() - needle.len()).find(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

/// Evaluates `<value> <op> <number>` for `html_eval` and `html_tag_balance` expressions
/// (`< 512`, `!= 0`, `>= 3`).
fn compare(value: f64, expr: &str) -> bool {
    let e = expr.trim();
    let ops = ["<=", ">=", "==", "!=", "<", ">"];
    let Some(op) = ops.iter().find(|o| e.starts_with(**o)) else {
        return false;
    };
    let Ok(n) = e[op.len()..].trim().parse::<f64>() else {
        return false;
    };
    match *op {
        "<=" => value <= n,
        ">=" => value >= n,
        "==" => value == n,
        "!=" => value != n,
        "<" => value < n,
        _ => value > n,
    }
}

/// Whether `call` is one of the HTML evals with arguments understood here.
pub fn supported(call: &EvalCall) -> bool {
    let n = call.args.len();
    match call.function.as_str() {
        "html_test" | "html_tag_exists" => n == 1,
        "html_range" => n == 2 || n == 3,
        "html_eval" | "html_tag_balance" | "html_image_only" | "html_image_ratio" => n == 2,
        "html_text_match" => n == 2,
        "html_title_subject_ratio" => n == 1,
        "check_https_http_mismatch" => n <= 2,
        _ => false,
    }
}

/// HTTPSMismatch's test on one HTML part: whether a link to an `http(s)://` host shows an
/// `https://` address of another registered domain as its text, and how many distinct
/// links to valid domains have anchor text.
fn https_http_mismatch(h: &HtmlStats, registry: &super::texts::Registry) -> (bool, usize) {
    let is_ip = |host: &str| host.parse::<std::net::IpAddr>().is_ok();
    let mut by_href: std::collections::BTreeMap<&str, Vec<&[u8]>> = Default::default();
    for (href, text) in h.anchor_hrefs.iter().zip(&h.anchors) {
        by_href.entry(href).or_default().push(text);
    }
    let (mut hit, mut anchors) = (false, 0);
    for (href, texts) in by_href {
        let lower = href.to_ascii_lowercase();
        let Some(rest) = lower
            .strip_prefix("http://")
            .or_else(|| lower.strip_prefix("https://"))
        else {
            continue;
        };
        let host = rest.split(['/', ':', '?', '#']).next().unwrap_or("");
        if host.is_empty() || is_ip(host) {
            continue;
        }
        let domain = registry.trim_domain(host);
        if !registry.is_domain_valid(&domain) {
            continue;
        }
        anchors += 1;
        for text in texts {
            let text = String::from_utf8_lossy(text).to_ascii_lowercase();
            let Some(p) = text.find("https://") else {
                continue;
            };
            let shown = text[p + 8..]
                .split(|c: char| c.is_whitespace() || "/:?#".contains(c))
                .next()
                .unwrap_or("");
            if shown.is_empty() {
                continue;
            }
            let shown = if is_ip(shown) {
                shown.to_string()
            } else {
                let d = registry.trim_domain(shown);
                if !registry.is_domain_valid(&d) {
                    continue;
                }
                d
            };
            if shown != domain {
                // The other links still count towards the anchor total.
                hit = true;
                break;
            }
        }
    }
    (hit, anchors)
}

/// Runs an HTML eval over every HTML part; `None` when `call` is not one.
pub fn run(call: &EvalCall, texts: &Texts<'_>, data: &super::eval::EvalData) -> Option<bool> {
    let a = |i: usize| call.args.get(i).map(String::as_str).unwrap_or("");
    let num = |i: usize| a(i).trim().parse::<f64>().ok();
    let parts = &texts.html;
    Some(match call.function.as_str() {
        "html_test" => parts.iter().any(|h| h.flags.contains(&a(0))),
        "check_https_http_mismatch" => {
            let min = num(0).filter(|m| *m != 0.0).unwrap_or(1.0);
            let max = num(1);
            let registry = data.lists.registry();
            parts.iter().any(|h| {
                let (hit, anchors) = https_http_mismatch(h, registry);
                hit && anchors as f64 >= min && max.is_none_or(|m| (anchors as f64) < m)
            })
        }
        "html_tag_exists" => parts.iter().any(|h| h.inside.contains_key(a(0))),
        "html_tag_balance" => parts
            .iter()
            .any(|h| h.inside.get(a(0)).is_some_and(|v| compare(*v as f64, a(1)))),
        "html_eval" => parts
            .iter()
            .any(|h| h.value(a(0)).is_some_and(|v| compare(v, a(1)))),
        "html_range" => {
            let min = num(1).unwrap_or(0.0);
            let max = if call.args.len() < 3 || a(2) == "inf" {
                f64::INFINITY
            } else {
                num(2).unwrap_or(0.0)
            };
            parts
                .iter()
                .any(|h| h.value(a(0)).is_some_and(|v| v > min && v <= max))
        }
        "html_image_only" => {
            let (min, max) = (num(0).unwrap_or(0.0), num(1).unwrap_or(0.0));
            parts.iter().any(|h| {
                h.inside.contains_key("img") && (h.length as f64) > min && (h.length as f64) <= max
            })
        }
        "html_image_ratio" => {
            let (min, max) = (num(0).unwrap_or(0.0), num(1).unwrap_or(0.0));
            parts.iter().any(|h| {
                h.image_area > 0 && {
                    let r = h.non_space_len as f64 / h.image_area as f64;
                    r > min && r <= max
                }
            })
        }
        "html_text_match" => {
            let Some(m) = data.matcher(a(1)) else {
                return Some(false);
            };
            parts
                .iter()
                .any(|h| h.strings(a(0)).iter().any(|s| m.is_match(s)))
        }
        "html_title_subject_ratio" => {
            // `length($pms->get('Subject'))`: the trimmed value with its newline, so an
            // empty Subject counts 1 (spam-2/01144) and `Line?` 6 (spam-2/01219); only an
            // absent Subject is 0.
            let subject_len = texts
                .header("Subject", &[])
                .map(|v| v.concat().len())
                .unwrap_or(0);
            let Some(limit) = num(0) else {
                return Some(false);
            };
            subject_len > 0
                && parts.iter().any(|h| {
                    let max = h.titles.iter().map(|t| t.len()).max().unwrap_or(0);
                    max as f64 / subject_len as f64 > limit
                })
        }
        _ => return None,
    })
}

/// Pattern arguments of the HTML evals (compiled at load time as Perl regexes).
pub fn argument_pattern(call: &EvalCall) -> Option<&str> {
    (call.function == "html_text_match").then(|| call.args.get(1).map(String::as_str))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_are_sorted_for_the_binary_search() {
        assert!(ELEMENTS.windows(2).all(|w| w[0] < w[1]));
        assert!(is_element("a") && is_element("tr") && is_element("font"));
        assert!(!is_element("xmp"), "a trick, not an element");
        assert!(!is_element("blink2") && !is_element(""));
    }

    #[test]
    fn tags_inside_literal_elements_are_text() {
        let h = analyze(b"<iframe src=x><script src=y></script></iframe><p>z</p>");
        assert!(h.inside.contains_key("iframe"));
        assert!(!h.inside.contains_key("script"));
        let h = analyze(b"<textarea><b>bold?</b></textarea>");
        assert!(!h.inside.contains_key("b"));
    }

    #[test]
    fn colours() {
        assert_eq!(name_to_rgb("Red"), "#ff0000");
        assert_eq!(name_to_rgb("#fff"), "#ffffff");
        assert_eq!(name_to_rgb("#12345"), "#112233");
        assert_eq!(name_to_rgb("rgb(255, 0, 0)"), "#ff0000");
        assert_eq!(name_to_rgb("ffffff"), "invalid");
        assert_eq!(name_to_rgb("bogus"), "invalid");
    }

    #[test]
    fn low_contrast_and_sizes() {
        let h = analyze(b"<html><body><font color=\"#fefefe\">hidden</font><font size=+4>big</font></body></html>");
        assert!(h.flags.contains(&"font_low_contrast"));
        assert_eq!(h.max_size, 7);
        assert_eq!(h.inside.get("font"), Some(&0));
        let h = analyze(b"<p>text</p></center>");
        assert!(!h.flags.contains(&"font_low_contrast"));
        assert_eq!(h.value("closed_extra_ratio"), Some(1.0 / 3.0));
    }

    /// What HTML::Parser 3.81 (marked sections on, as HTML.pm sets it) reports as comments.
    #[test]
    fn comments_as_html_parser_reports_them() {
        let h = analyze(
            b"<!DOCTYPE html><!-- a --><!5122qHWL1-032><![if !supportLists]>x<![endif]>\
              <!ELEMENT e><!><![CDATA[q]]><?xml v?>",
        );
        let comments: Vec<&[u8]> = h.comments.iter().map(Vec::as_slice).collect();
        assert_eq!(
            comments,
            [
                &b"<!-- a -->"[..],
                b"<!5122qHWL1-032>",
                b"<![if !supportLists]>",
                b"<![endif]>",
                b"<!ELEMENT e>",
                b"<!>"
            ]
        );
        assert_eq!(h.inside.get("!doctype"), Some(&0));
    }

    #[test]
    fn images_and_faces() {
        let h = analyze(b"<a href=x><img width=100 height=50%></a><font face=\"Arial, Helvetica\">x</font><font face=\"@#!\">y</font>");
        assert_eq!(h.image_area, 100 * 300);
        assert_eq!(h.anchors, vec![b"<img>\n".to_vec()]);
        assert!(h.flags.contains(&"font_face_bad"));
        assert_eq!(h.non_space_len, 2);
    }

    #[test]
    fn expressions() {
        assert!(compare(1.0, "!= 0"));
        assert!(!compare(0.0, "!= 0"));
        assert!(compare(300.0, "< 384"));
    }
}
