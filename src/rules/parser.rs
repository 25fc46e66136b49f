//! The SpamAssassin `.cf` language: directives, conditionals, rule definitions.
//!
//! Parsing never fails on content: a malformed line becomes a [`ParseError`] naming the file
//! and line, an unknown directive is counted in [`Config::unknown`], and parsing goes on.
//! Only I/O (a path that cannot be read) is an `Err`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Where a line came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// File name as given or found.
    pub file: String,
    /// 1-based line number.
    pub line: usize,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A malformed line.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    /// Where.
    pub source: Source,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.source, self.message)
    }
}

/// A Perl regex literal as written in a rule: pattern text and flags, not yet translated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The text between the delimiters (escaped delimiters left as written).
    pub source: String,
    /// Flag letters after the closing delimiter (`i`, `m`, `s`, `x`, ...).
    pub flags: String,
    /// The delimiter character (`/` or the one after `m`).
    pub delimiter: char,
}

/// `eval:function(args)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalCall {
    /// Function name.
    pub function: String,
    /// Arguments with quotes removed.
    pub args: Vec<String>,
}

/// The header a `header` or `mimeheader` rule reads, with modifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderSpec {
    /// Header name or pseudo-header (`ALL`, `ToCc`, `MESSAGEID`, ...).
    pub name: String,
    /// Modifiers in order (`raw`, `addr`, `name`, `host`, `domain`, `ip`, `revip`, `first`, `last`).
    pub modifiers: Vec<String>,
}

/// What a `header` rule tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderTest {
    /// `Name =~ /re/` or `Name !~ /re/`.
    Regex {
        /// The header read.
        header: HeaderSpec,
        /// `!~`.
        negate: bool,
        /// The regex.
        pattern: Pattern,
        /// `[if-unset: X]`.
        if_unset: Option<String>,
    },
    /// `exists:Name`.
    Exists(String),
    /// `eval:...`.
    Eval(EvalCall),
}

/// The kinds of text a pattern rule runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Area {
    /// `header`.
    Header,
    /// `mimeheader` (MIMEHeader plugin).
    MimeHeader,
    /// `body`: rendered text.
    Body,
    /// `rawbody`: decoded, not rendered.
    Rawbody,
    /// `uri`.
    Uri,
    /// `full`: the pristine message.
    Full,
    /// `meta`.
    Meta,
}

impl Area {
    /// The directive name.
    pub fn name(self) -> &'static str {
        match self {
            Area::Header => "header",
            Area::MimeHeader => "mimeheader",
            Area::Body => "body",
            Area::Rawbody => "rawbody",
            Area::Uri => "uri",
            Area::Full => "full",
            Area::Meta => "meta",
        }
    }
}

/// What a rule tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleTest {
    /// A header test.
    Header(HeaderTest),
    /// `mimeheader NAME Header =~ /re/`.
    MimeHeader {
        /// The MIME part header read.
        header: HeaderSpec,
        /// `!~`.
        negate: bool,
        /// The regex.
        pattern: Pattern,
    },
    /// A regex over `body`, `rawbody`, `uri` or `full` text.
    Pattern(Pattern),
    /// An eval over `body`, `rawbody`, `uri` or `full`.
    Eval(EvalCall),
    /// A meta expression (tokens checked at parse time).
    Meta(String),
}

/// One rule definition.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleDef {
    /// Rule name.
    pub name: String,
    /// Which text it runs over.
    pub area: Area,
    /// What it tests.
    pub test: RuleTest,
    /// Where it was defined (the last definition wins, as in SpamAssassin).
    pub source: Source,
}

/// Everything the `.cf` files said.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Rule definitions by name.
    pub rules: BTreeMap<String, RuleDef>,
    /// `score` lines: four sets (one given value fills all four).
    pub scores: HashMap<String, [f64; 4]>,
    /// `describe` lines.
    pub describes: HashMap<String, String>,
    /// `tflags` words.
    pub tflags: HashMap<String, Vec<String>>,
    /// `priority` lines.
    pub priorities: HashMap<String, i32>,
    /// `required_score`.
    pub required_score: Option<f64>,
    /// `normalize_charset` (SpamAssassin's default, on, when no file sets it).
    pub normalize_charset: Option<bool>,
    /// `replace_tag` values.
    pub replace_tags: HashMap<String, String>,
    /// `replace_pre` values.
    pub replace_pre: HashMap<String, String>,
    /// `replace_inter` values.
    pub replace_inter: HashMap<String, String>,
    /// `replace_post` values.
    pub replace_post: HashMap<String, String>,
    /// `replace_rules` names.
    pub replace_rules: HashSet<String>,
    /// `replace_start` / `replace_end` (default `<` and `>`).
    pub replace_delims: Option<(String, String)>,
    /// Plugins named by `loadplugin` (short or full module names as written).
    pub plugins: HashSet<String>,
    /// `enable_compat` names (they make `can(Mail::SpamAssassin::Conf::compat_NAME)` true).
    pub compat: HashSet<String>,
    /// `freemail_domains` entries (lowercase; `*` and `?` wildcards allowed).
    pub freemail_domains: Vec<String>,
    /// `rewrite_header` lines: (header, text).
    pub rewrite_header: Vec<(String, String)>,
    /// `add_header` lines: (spam|ham|all, header, text).
    pub add_header: Vec<(String, String, String)>,
    /// `whitelist_from` / `welcomelist_from` patterns.
    pub welcomelist_from: Vec<String>,
    /// `blacklist_from` / `blocklist_from` patterns.
    pub blocklist_from: Vec<String>,
    /// Other address lists by name, lowercase glob patterns: `welcomelist_to`,
    /// `more_spam_to`, `all_spam_to`, `blocklist_to` and `enlist_addrlist (NAME)` lists.
    pub addr_lists: BTreeMap<String, Vec<String>>,
    /// `welcomelist_from_rcvd` entries: (address pattern, relay domain or `[IP]`).
    pub welcomelist_from_rcvd: Vec<(String, String)>,
    /// `def_welcomelist_from_rcvd` entries.
    pub def_welcomelist_from_rcvd: Vec<(String, String)>,
    /// `welcomelist_allows_relays` patterns.
    pub welcomelist_allows_relays: Vec<String>,
    /// URI host lists by name (`enlist_uri_host`; `blocklist_uri_host` is `BLOCK`,
    /// `welcomelist_uri_host` is `WELCOME`): host -> listed (`false` for `!host`).
    pub uri_host_lists: BTreeMap<String, HashMap<String, bool>>,
    /// `redirector_pattern` lines: a URI matching one lists its first group as a URI too.
    pub redirector_patterns: Vec<Pattern>,
    /// `ok_locales` (the last line wins; empty means SpamAssassin's default, `all`).
    pub ok_locales: Vec<String>,
    /// `welcomelist_subject` patterns.
    pub welcomelist_subject: Vec<String>,
    /// `blocklist_subject` patterns.
    pub blocklist_subject: Vec<String>,
    /// `util_rb_tld`, `util_rb_2tld` and `util_rb_3tld`: the registry boundaries the
    /// `:host` and `:domain` header modifiers use.
    pub registry: std::sync::Arc<super::texts::Registry>,
    /// `trusted_networks` entries.
    pub trusted_networks: super::relays::Networks,
    /// `internal_networks` entries.
    pub internal_networks: super::relays::Networks,
    /// `originating_ip_headers`: single-line headers (X-Originating-IP, ...) whose address
    /// counts as one more relay after the Received chain.
    pub originating_ip_headers: Vec<String>,
    /// Directives recognised and deliberately not used, with counts.
    pub ignored: BTreeMap<String, usize>,
    /// Unknown directives, with counts.
    pub unknown: BTreeMap<String, usize>,
    /// Lines skipped because a conditional was false.
    pub skipped_lines: usize,
    /// Malformed lines.
    pub errors: Vec<ParseError>,
    /// Files read.
    pub files: Vec<String>,
    /// Non-comment lines read.
    pub lines: usize,
}

/// The SpamAssassin version the stock rules are tested against (`version >= ...`).
pub(crate) const SA_VERSION: f64 = 4.000001;

/// `Mail::SpamAssassin::Conf` feature methods that exist in 4.0.1 (`if can(...)`).
const CONF_FEATURES: &[&str] = &[
    "feature_originating_ip_headers",
    "feature_dns_local_ports_permit_avoid",
    "feature_bayes_auto_learn_on_error",
    "feature_uri_host_listed",
    "feature_yesno_takes_args",
    "feature_bug6558_free",
    "feature_edns",
    "feature_dns_query_restriction",
    "feature_registryboundaries",
    "feature_geodb",
    "feature_dns_block_rule",
    "feature_compile_regexp",
    "feature_meta_rules_matching",
    "feature_subjprefix",
    "feature_bayes_stopwords",
    "feature_get_host",
    "feature_blocklist_welcomelist",
    "feature_welcomelist_blocklist",
    "feature_header_address_parser",
    "feature_local_tests_only",
    "feature_header_first_last",
    "feature_header_match_many",
    "feature_capture_rules",
    "perl_min_version_5010000",
];

/// Plugin `has_*` methods that exist in 4.0.1, by plugin short name.
const PLUGIN_METHODS: &[(&str, &str)] = &[
    ("BodyEval", "has_check_body_length"),
    ("BodyEval", "has_check_for_ascii_text_illegal"),
    ("BodyEval", "has_check_qp_ratio"),
    ("BodyEval", "has_plaintext_body_sig_ratio"),
    ("MIMEEval", "has_check_abundant_unicode_ratio"),
    ("MIMEEval", "has_check_for_ascii_text_illegal"),
    ("MIMEEval", "has_check_qp_ratio"),
    ("SPF", "has_check_for_spf_errors"),
    ("SPF", "has_check_spf_skipped_noenvfrom"),
    ("DKIM", "has_arc"),
    ("URIDNSBL", "has_tflags_domains_only"),
    ("URIDNSBL", "has_subtest_for_ranges"),
    ("URIDNSBL", "has_uridnsbl_for_a"),
    ("URIDNSBL", "has_uridnsbl_a_ns"),
    ("URIDNSBL", "has_tflags_notrim"),
    ("URIDNSBL", "has_uridnsbl_skip_mailto"),
    ("DNSEval", "has_tflags_domains_only"),
    ("DNSEval", "has_tflags_ips_only"),
    ("MIMEHeader", "has_all_header"),
    ("MIMEHeader", "has_tflags_range"),
    ("MIMEHeader", "has_tflags_concat"),
    ("MIMEHeader", "has_tflags_multiple"),
    ("MIMEHeader", "has_capture_rules"),
    ("URIDetail", "has_host_key"),
];

/// Directives that are valid SpamAssassin configuration but have no effect on rule hits in
/// mailwarden (network, Bayes, reporting and list settings).
const IGNORED: &[&str] = &[
    "lang",
    "reuse",
    "require_version",
    "version_tag",
    "report",
    "clear_report_template",
    "unsafe_report",
    "clear_unsafe_report_template",
    "report_safe",
    "report_contact",
    "report_hostname",
    "bayes_ignore_header",
    "bayes_stopword_en",
    "bayes_stopword_de",
    "bayes_stopword_es",
    "bayes_stopword_fr",
    "bayes_stopword_it",
    "bayes_stopword_nl",
    "bayes_stopword_pt",
    "bayes_stopword_ru",
    "bayes_stopword_se",
    "bayes_stopword_tr",
    "bayes_auto_learn",
    "use_bayes",
    "ok_languages",
    "freemail_whitelist",
    "freemail_welcomelist",
    "url_shortener",
    "url_shortener_get",
    "def_whitelist_auth",
    "def_welcomelist_auth",
    "whitelist_auth",
    "welcomelist_auth",
    "def_whitelist_from_dkim",
    "def_welcomelist_from_dkim",
    "def_whitelist_from_spf",
    "def_welcomelist_from_spf",
    "adsp_override",
    "uridnsbl_skip_domain",
    "urirhssub",
    "urirhsbl",
    "uridnssub",
    "uridnsbl",
    "askdns",
    "dns_local_ports_avoid",
    "dns_block_rule",
    "fns_ignore_headers",
    "fns_ignore_dkim",
    "fns_check",
    "msa_networks",
    "skip_rbl_checks",
    "dns_available",
    "hashbl_acl_freemail",
    "hashbl_ignore",
    "test",
];

/// Reads `.cf` (and `.pre`) files.
#[derive(Debug, Default)]
pub struct Parser {
    config: Config,
}

/// One frame of the `if`/`ifplugin` stack.
#[derive(Debug, Clone, Copy)]
struct Cond {
    /// This branch is active (including every enclosing frame).
    active: bool,
    /// The enclosing frames were active.
    parent: bool,
}

/// `include` depth bound.
const MAX_INCLUDE_DEPTH: usize = 20;

impl Parser {
    /// A parser with nothing read yet.
    pub fn new() -> Self {
        Parser::default()
    }

    /// Loads files and directories in SpamAssassin's order: every `.pre` file of every
    /// directory first (plugins must be known before `ifplugin`), then each path's `.cf`
    /// files in name order. A plain file is read where it appears.
    pub fn load_paths(&mut self, paths: &[PathBuf]) -> std::io::Result<()> {
        let mut cf: Vec<PathBuf> = Vec::new();
        for path in paths {
            if path.is_dir() {
                let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_file())
                    .collect();
                entries.sort();
                for p in &entries {
                    if p.extension().is_some_and(|e| e == "pre") {
                        self.load_file(p)?;
                    }
                }
                cf.extend(
                    entries
                        .into_iter()
                        .filter(|p| p.extension().is_some_and(|e| e == "cf")),
                );
            } else {
                cf.push(path.clone());
            }
        }
        for p in &cf {
            self.load_file(p)?;
        }
        Ok(())
    }

    /// Reads one file (bytes; rule files are not necessarily UTF-8).
    pub fn load_file(&mut self, path: &Path) -> std::io::Result<()> {
        self.load_file_depth(path, 0)
    }

    fn load_file_depth(&mut self, path: &Path, depth: usize) -> std::io::Result<()> {
        let data = std::fs::read(path)?;
        let name = path.display().to_string();
        self.config.files.push(name.clone());
        self.parse_bytes_depth(&name, &data, path.parent(), depth);
        Ok(())
    }

    /// Parses text that came from `name` (for error messages).
    pub fn parse_str(&mut self, name: &str, text: &str) {
        self.parse_bytes_depth(name, text.as_bytes(), None, 0);
    }

    /// The result.
    pub fn finish(mut self) -> Config {
        crate::rules::tags::apply(&mut self.config);
        self.config
    }

    fn error(&mut self, source: &Source, message: impl Into<String>) {
        self.config.errors.push(ParseError {
            source: source.clone(),
            message: message.into(),
        });
    }

    fn parse_bytes_depth(&mut self, name: &str, data: &[u8], dir: Option<&Path>, depth: usize) {
        let mut stack: Vec<Cond> = Vec::new();
        for (i, raw) in data.split(|&b| b == b'\n').enumerate() {
            let source = Source {
                file: name.to_string(),
                line: i + 1,
            };
            // Rule files carry raw bytes (e.g. \xa1 inside classes is written escaped, but
            // some lines hold Latin-1 text). Map bytes 1:1 to chars U+0000..U+00FF so that
            // regex translation can turn them back into bytes exactly.
            let line: String = raw.iter().map(|&b| b as char).collect();
            let line = strip_comment(&line);
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            self.config.lines += 1;
            let (directive, rest) = split_word(line);
            let directive_lc = directive.to_ascii_lowercase();
            let active = stack.last().is_none_or(|c| c.active);
            match directive_lc.as_str() {
                "if" | "ifplugin" => {
                    let value = if !active {
                        false
                    } else if directive_lc == "ifplugin" {
                        self.plugin_loaded(rest.trim())
                    } else {
                        match self.eval_if(rest) {
                            Ok(v) => v,
                            Err(e) => {
                                self.error(&source, format!("bad `if` expression: {e}"));
                                false
                            }
                        }
                    };
                    stack.push(Cond {
                        active: active && value,
                        parent: active,
                    });
                    continue;
                }
                "else" => {
                    match stack.last_mut() {
                        Some(c) => c.active = c.parent && !c.active,
                        None => self.error(&source, "`else` without `if`"),
                    }
                    continue;
                }
                "endif" => {
                    if stack.pop().is_none() {
                        self.error(&source, "`endif` without `if`");
                    }
                    continue;
                }
                _ => {}
            }
            if !active {
                self.config.skipped_lines += 1;
                continue;
            }
            if directive_lc == "include" {
                let target = rest.trim();
                let path = match dir {
                    Some(d) => d.join(target),
                    None => PathBuf::from(target),
                };
                if depth >= MAX_INCLUDE_DEPTH {
                    self.error(&source, "`include` nested too deeply");
                } else if let Err(e) = self.load_file_depth(&path, depth + 1) {
                    self.error(&source, format!("include {}: {e}", path.display()));
                }
                continue;
            }
            self.directive(&source, &directive_lc, rest.trim());
        }
        if !stack.is_empty() {
            let source = Source {
                file: name.to_string(),
                line: data.split(|&b| b == b'\n').count(),
            };
            self.error(
                &source,
                format!(
                    "{} `if`/`ifplugin` without `endif` at end of file",
                    stack.len()
                ),
            );
        }
    }

    fn plugin_loaded(&self, name: &str) -> bool {
        let mut short = name.rsplit("::").next().unwrap_or(name);
        // SpamAssassin loads the pre-4.0 name `Dmarc` as `DMARC`; the stock rules test both.
        if short == "Dmarc" {
            short = "DMARC";
        }
        self.config.plugins.contains(name) || self.config.plugins.contains(short)
    }

    fn eval_if(&self, expr: &str) -> Result<bool, String> {
        let tokens = tokenize_if(expr)?;
        let mut p = IfParser {
            tokens: &tokens,
            pos: 0,
            parser: self,
            depth: 0,
        };
        let v = p.or()?;
        if p.pos != tokens.len() {
            return Err(format!("unexpected `{}`", tokens[p.pos]));
        }
        Ok(v != 0.0)
    }

    fn directive(&mut self, source: &Source, directive: &str, rest: &str) {
        match directive {
            "header" | "body" | "rawbody" | "uri" | "full" | "meta" | "mimeheader" => {
                self.rule(source, directive, rest)
            }
            "score" => self.score(source, rest),
            "describe" => {
                let (name, text) = split_word(rest);
                if name.is_empty() {
                    self.error(source, "describe: missing rule name");
                } else {
                    self.config
                        .describes
                        .insert(name.to_string(), text.trim().to_string());
                }
            }
            "tflags" => {
                let (name, words) = split_word(rest);
                if name.is_empty() {
                    self.error(source, "tflags: missing rule name");
                } else {
                    self.config.tflags.insert(
                        name.to_string(),
                        words.split_whitespace().map(str::to_string).collect(),
                    );
                }
            }
            "priority" => {
                let (name, value) = split_word(rest);
                match value.trim().parse::<i32>() {
                    Ok(v) if !name.is_empty() => {
                        self.config.priorities.insert(name.to_string(), v);
                    }
                    _ => self.error(source, format!("priority: bad line `{rest}`")),
                }
            }
            "normalize_charset" => match rest.trim() {
                "1" => self.config.normalize_charset = Some(true),
                "0" => self.config.normalize_charset = Some(false),
                other => self.error(source, format!("normalize_charset: not 0 or 1: `{other}`")),
            },
            "required_score" | "required_hits" => match rest.trim().parse::<f64>() {
                Ok(v) if v.is_finite() => self.config.required_score = Some(v),
                _ => self.error(source, format!("{directive}: not a number: `{rest}`")),
            },
            "loadplugin" => {
                let (module, _file) = split_word(rest);
                if module.is_empty() {
                    self.error(source, "loadplugin: missing module name");
                } else {
                    self.config.plugins.insert(module.to_string());
                    if let Some(short) = module.rsplit("::").next() {
                        self.config.plugins.insert(short.to_string());
                    }
                }
            }
            "freemail_domains" => self
                .config
                .freemail_domains
                .extend(rest.split_whitespace().map(str::to_ascii_lowercase)),
            "enable_compat" => {
                for n in rest.split_whitespace() {
                    self.config.compat.insert(n.to_string());
                }
            }
            "tryplugin" => {
                let (module, _) = split_word(rest);
                if !module.is_empty() {
                    self.config.plugins.insert(module.to_string());
                }
            }
            "replace_tag" | "replace_pre" | "replace_inter" | "replace_post" => {
                let (name, value) = split_word(rest);
                let value = value.trim();
                if name.is_empty() || value.is_empty() {
                    self.error(source, format!("{directive}: needs a name and a value"));
                    return;
                }
                let map = match directive {
                    "replace_tag" => &mut self.config.replace_tags,
                    "replace_pre" => &mut self.config.replace_pre,
                    "replace_inter" => &mut self.config.replace_inter,
                    _ => &mut self.config.replace_post,
                };
                map.insert(name.to_string(), value.to_string());
            }
            "replace_rules" => {
                for n in rest.split_whitespace() {
                    self.config.replace_rules.insert(n.to_string());
                }
            }
            "replace_start" | "replace_end" => {
                let v = rest.trim().to_string();
                let (mut s, mut e) = self
                    .config
                    .replace_delims
                    .clone()
                    .unwrap_or(("<".into(), ">".into()));
                if directive == "replace_start" {
                    s = v;
                } else {
                    e = v;
                }
                self.config.replace_delims = Some((s, e));
            }
            "rewrite_header" => {
                let (h, text) = split_word(rest);
                if h.is_empty() {
                    self.error(source, "rewrite_header: missing header name");
                } else {
                    self.config
                        .rewrite_header
                        .push((h.to_string(), text.trim().to_string()));
                }
            }
            "add_header" => {
                let (which, rest2) = split_word(rest);
                let (h, text) = split_word(rest2);
                let which_lc = which.to_ascii_lowercase();
                if !matches!(which_lc.as_str(), "spam" | "ham" | "all") || h.is_empty() {
                    self.error(source, format!("add_header: bad line `{rest}`"));
                } else {
                    self.config
                        .add_header
                        .push((which_lc, h.to_string(), text.trim().to_string()));
                }
            }
            // Earlier add_header lines are dropped; mailwarden's own X-Spam-Flag, Status,
            // Level and Score headers come from the policy and stay.
            "clear_headers" => self.config.add_header.clear(),
            "remove_header" => {
                let (which, rest2) = split_word(rest);
                let (name, _) = split_word(rest2);
                let which = which.to_ascii_lowercase();
                if !matches!(which.as_str(), "spam" | "ham" | "all") || name.is_empty() {
                    self.error(source, format!("remove_header: bad line `{rest}`"));
                    return;
                }
                let mut kept = Vec::new();
                for (w, h, text) in std::mem::take(&mut self.config.add_header) {
                    if !h.eq_ignore_ascii_case(name) || which != "all" && w != "all" && w != which {
                        kept.push((w, h, text));
                    } else if which != "all" && w == "all" {
                        // `all` was both; the other class keeps it.
                        let other = if which == "spam" { "ham" } else { "spam" };
                        kept.push((other.to_string(), h, text));
                    }
                }
                self.config.add_header = kept;
            }
            "whitelist_from" | "welcomelist_from" => self
                .config
                .welcomelist_from
                .extend(rest.split_whitespace().map(str::to_string)),
            "trusted_networks" | "internal_networks" => {
                for spec in rest.split_whitespace() {
                    let nets = if directive == "trusted_networks" {
                        &mut self.config.trusted_networks
                    } else {
                        &mut self.config.internal_networks
                    };
                    if let Err(e) = nets.add(spec) {
                        self.error(source, format!("{directive}: {e}"));
                    }
                }
            }
            "originating_ip_headers" => {
                for name in rest.split_whitespace() {
                    let list = &mut self.config.originating_ip_headers;
                    if !list.iter().any(|h| h.eq_ignore_ascii_case(name)) {
                        list.push(name.to_string());
                    }
                }
            }
            "clear_originating_ip_headers" => self.config.originating_ip_headers.clear(),
            "util_rb_tld" | "util_rb_2tld" | "util_rb_3tld" => {
                let r = std::sync::Arc::make_mut(&mut self.config.registry);
                let set = match directive {
                    "util_rb_tld" => &mut r.tlds,
                    "util_rb_2tld" => &mut r.two,
                    _ => &mut r.three,
                };
                set.extend(rest.split_whitespace().map(str::to_ascii_lowercase));
            }
            "clear_util_rb" => self.config.registry = Default::default(),
            "clear_trusted_networks" => {
                self.config.trusted_networks = super::relays::Networks::default();
            }
            "clear_internal_networks" => {
                self.config.internal_networks = super::relays::Networks::default();
            }
            "blacklist_from" | "blocklist_from" => self
                .config
                .blocklist_from
                .extend(rest.split_whitespace().map(str::to_string)),
            "unwhitelist_from" | "unwelcomelist_from" | "unblacklist_from" | "unblocklist_from" => {
                let list = if directive.contains("white") || directive.contains("welcome") {
                    &mut self.config.welcomelist_from
                } else {
                    &mut self.config.blocklist_from
                };
                for gone in rest.split_whitespace() {
                    list.retain(|p| !p.eq_ignore_ascii_case(gone));
                }
            }
            "whitelist_to"
            | "welcomelist_to"
            | "more_spam_to"
            | "all_spam_to"
            | "blacklist_to"
            | "blocklist_to"
            | "whitelist_bounce_relays"
            | "welcomelist_bounce_relays" => {
                let name = match directive {
                    "whitelist_to" => "welcomelist_to",
                    "blacklist_to" => "blocklist_to",
                    "whitelist_bounce_relays" => "welcomelist_bounce_relays",
                    d => d,
                };
                self.config
                    .addr_lists
                    .entry(name.to_string())
                    .or_default()
                    .extend(rest.split_whitespace().map(str::to_ascii_lowercase));
            }
            "enlist_addrlist" => match list_and_items(rest) {
                Some((name, items)) => {
                    let items = items.split_whitespace().map(str::to_ascii_lowercase);
                    match name {
                        "welcomelist_from" | "whitelist_from" => {
                            self.config.welcomelist_from.extend(items)
                        }
                        "blocklist_from" | "blacklist_from" => {
                            self.config.blocklist_from.extend(items)
                        }
                        _ => self
                            .config
                            .addr_lists
                            .entry(name.to_string())
                            .or_default()
                            .extend(items),
                    }
                }
                None => self.error(source, "enlist_addrlist: expected (NAME) address..."),
            },
            "whitelist_from_rcvd"
            | "welcomelist_from_rcvd"
            | "def_whitelist_from_rcvd"
            | "def_welcomelist_from_rcvd" => {
                let mut words = rest.split_whitespace();
                match (words.next(), words.next(), words.next()) {
                    (Some(addr), Some(domain), None) => {
                        let list = if directive.starts_with("def_") {
                            &mut self.config.def_welcomelist_from_rcvd
                        } else {
                            &mut self.config.welcomelist_from_rcvd
                        };
                        list.push((addr.to_ascii_lowercase(), domain.to_ascii_lowercase()));
                    }
                    _ => self.error(
                        source,
                        format!("{directive}: expected an address and a relay"),
                    ),
                }
            }
            "redirector_pattern" => match parse_pattern(rest) {
                Ok((p, tail)) if tail.trim().is_empty() => self.config.redirector_patterns.push(p),
                Ok(_) => self.error(source, "redirector_pattern: text after the pattern"),
                Err(e) => self.error(source, format!("redirector_pattern: {e}")),
            },
            "ok_locales" => {
                self.config.ok_locales = rest.split_whitespace().map(str::to_string).collect();
            }
            "whitelist_allows_relays" | "welcomelist_allows_relays" => self
                .config
                .welcomelist_allows_relays
                .extend(rest.split_whitespace().map(str::to_ascii_lowercase)),
            "enlist_uri_host" | "delist_uri_host" => {
                let parsed = if directive == "enlist_uri_host" {
                    list_and_items(rest).map(|(n, i)| (Some(n), i))
                } else {
                    // `delist_uri_host [(NAME)] host...`: without a name, every list.
                    list_and_items(rest)
                        .map(|(n, i)| (Some(n), i))
                        .or_else(|| (!rest.trim().is_empty()).then_some((None, rest)))
                };
                let Some((name, items)) = parsed else {
                    self.error(source, format!("{directive}: expected (NAME) host..."));
                    return;
                };
                let lists = &mut self.config.uri_host_lists;
                for host in items.split_whitespace().map(str::to_ascii_lowercase) {
                    let (listed, host) = match host.strip_prefix('!') {
                        Some(h) => (false, h.to_string()),
                        None => (true, host),
                    };
                    if directive == "enlist_uri_host" {
                        let name = name.unwrap_or_default().to_string();
                        lists.entry(name).or_default().insert(host, listed);
                    } else {
                        for (n, list) in lists.iter_mut() {
                            if name.is_none_or(|want| want == n) {
                                list.remove(&host);
                            }
                        }
                    }
                }
            }
            "blacklist_uri_host"
            | "blocklist_uri_host"
            | "whitelist_uri_host"
            | "welcomelist_uri_host" => {
                let name = if directive.contains("black") || directive.contains("block") {
                    "BLOCK"
                } else {
                    "WELCOME"
                };
                let list = self
                    .config
                    .uri_host_lists
                    .entry(name.to_string())
                    .or_default();
                for host in rest.split_whitespace().map(str::to_ascii_lowercase) {
                    match host.strip_prefix('!') {
                        Some(h) => list.insert(h.to_string(), false),
                        None => list.insert(host, true),
                    };
                }
            }
            "whitelist_subject"
            | "welcomelist_subject"
            | "blacklist_subject"
            | "blocklist_subject" => {
                let value = rest.trim().to_lowercase();
                if !value.is_empty() {
                    if directive.contains("white") || directive.contains("welcome") {
                        self.config.welcomelist_subject.push(value);
                    } else {
                        self.config.blocklist_subject.push(value);
                    }
                }
            }
            _ => {
                let map = if IGNORED.contains(&directive) || directive.starts_with("bayes_") {
                    &mut self.config.ignored
                } else {
                    &mut self.config.unknown
                };
                *map.entry(directive.to_string()).or_insert(0) += 1;
            }
        }
    }

    fn score(&mut self, source: &Source, rest: &str) {
        let (name, values) = split_word(rest);
        if name.is_empty() {
            self.error(source, "score: missing rule name");
            return;
        }
        // SpamAssassin allows a parenthesised relative score `(1.0)`; treat as absolute.
        let nums: Result<Vec<f64>, _> = values
            .split_whitespace()
            .map(|v| v.trim_matches(|c| c == '(' || c == ')').parse::<f64>())
            .collect();
        match nums {
            Ok(v) if v.len() == 1 && v[0].is_finite() => {
                self.config.scores.insert(name.to_string(), [v[0]; 4]);
            }
            Ok(v) if v.len() == 4 && v.iter().all(|x| x.is_finite()) => {
                self.config
                    .scores
                    .insert(name.to_string(), [v[0], v[1], v[2], v[3]]);
            }
            Ok(v) if v.is_empty() => {
                // `score NAME` with no value: SpamAssassin ignores it.
            }
            _ => self.error(source, format!("score: want 1 or 4 numbers: `{values}`")),
        }
    }

    fn rule(&mut self, source: &Source, kind: &str, rest: &str) {
        let (name, def) = split_word(rest);
        let def = def.trim();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            self.error(source, format!("{kind}: bad rule name `{name}`"));
            return;
        }
        if def.is_empty() {
            self.error(source, format!("{kind} {name}: missing definition"));
            return;
        }
        let parsed = match kind {
            "header" => parse_header_test(def).map(|t| (Area::Header, RuleTest::Header(t))),
            "mimeheader" => parse_mimeheader(def),
            "meta" => check_meta(def).map(|()| (Area::Meta, RuleTest::Meta(def.to_string()))),
            _ => {
                let area = match kind {
                    "body" => Area::Body,
                    "rawbody" => Area::Rawbody,
                    "uri" => Area::Uri,
                    _ => Area::Full,
                };
                if let Some(call) = def.strip_prefix("eval:") {
                    parse_eval(call).map(|c| (area, RuleTest::Eval(c)))
                } else {
                    parse_pattern(def).and_then(|(p, tail)| {
                        if tail.trim().is_empty() {
                            Ok((area, RuleTest::Pattern(p)))
                        } else {
                            Err(format!("text after the regex: `{}`", tail.trim()))
                        }
                    })
                }
            }
        };
        match parsed {
            Ok((area, test)) => {
                self.config.rules.insert(
                    name.to_string(),
                    RuleDef {
                        name: name.to_string(),
                        area,
                        test,
                        source: source.clone(),
                    },
                );
            }
            Err(e) => self.error(source, format!("{kind} {name}: {e}")),
        }
    }
}

/// Removes a `#` comment; `\#` is an escaped hash and stays (as `#`, the way SpamAssassin
/// reads it: it only unescapes when the hash would otherwise start a comment).
fn strip_comment(line: &str) -> String {
    let bytes: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == '\\' && bytes.get(i + 1) == Some(&'#') {
            out.push('#');
            i += 2;
            continue;
        }
        if c == '#' {
            break;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// First whitespace-separated word and the rest.
/// `(NAME) items...` (SpamAssassin's list syntax): the name and the items.
fn list_and_items(s: &str) -> Option<(&str, &str)> {
    let rest = s.trim_start().strip_prefix('(')?;
    let (name, items) = rest.split_once(')')?;
    let name = name.trim();
    (!name.is_empty() && items.starts_with(char::is_whitespace) && !items.trim().is_empty())
        .then_some((name, items))
}

pub(crate) fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    }
}

/// Parses a Perl regex literal at the start of `s`: `/re/flags` or `m<delim>re<delim>flags`.
/// Returns the pattern and the text after the flags.
pub fn parse_pattern(s: &str) -> Result<(Pattern, &str), String> {
    let s = s.trim_start();
    let (open, body_start) = if let Some(rest) = s.strip_prefix('m') {
        match rest.chars().next() {
            Some(c) if !c.is_alphanumeric() && !c.is_whitespace() => (c, 1 + c.len_utf8()),
            _ => return Err(format!("not a regex: `{s}`")),
        }
    } else if s.starts_with('/') {
        ('/', 1)
    } else {
        return Err(format!("not a regex: `{s}`"));
    };
    let close = match open {
        '{' => '}',
        '(' => ')',
        '<' => '>',
        '[' => ']',
        c => c,
    };
    let body = &s[body_start..];
    // Scan for the closing delimiter, honouring backslash escapes and (for bracket pairs)
    // nesting, as Perl's quote parsing does.
    let mut depth = 0usize;
    let mut escaped = false;
    let mut end = None;
    for (i, c) in body.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        if c == '\\' {
            escaped = true;
            continue;
        }
        if open != close && c == open {
            depth += 1;
        } else if c == close {
            if depth == 0 {
                end = Some(i);
                break;
            }
            depth -= 1;
        }
    }
    let end = end.ok_or_else(|| format!("unterminated regex `{s}`"))?;
    let source = body[..end].to_string();
    let after = &body[end + close.len_utf8()..];
    let flags_len = after
        .char_indices()
        .find(|(_, c)| !c.is_ascii_alphabetic())
        .map_or(after.len(), |(i, _)| i);
    let flags = &after[..flags_len];
    if let Some(bad) = flags.chars().find(|c| !"imsxogcpadlun".contains(*c)) {
        return Err(format!("unknown regex flag `{bad}`"));
    }
    Ok((
        Pattern {
            source,
            flags: flags.to_string(),
            delimiter: open,
        },
        &after[flags_len..],
    ))
}

fn parse_header_spec(s: &str) -> Result<HeaderSpec, String> {
    let mut parts = s.split(':');
    let name = parts.next().unwrap_or("").trim();
    if name.is_empty() {
        return Err("missing header name".into());
    }
    let mut modifiers = Vec::new();
    for m in parts {
        let m = m.trim();
        match m {
            "raw" | "addr" | "name" | "host" | "domain" | "ip" | "revip" | "first" | "last" => {
                modifiers.push(m.to_string())
            }
            _ => return Err(format!("unknown header modifier `:{m}`")),
        }
    }
    Ok(HeaderSpec {
        name: name.to_string(),
        modifiers,
    })
}

fn parse_header_test(def: &str) -> Result<HeaderTest, String> {
    if let Some(h) = def.strip_prefix("exists:") {
        let h = h.trim();
        if h.is_empty() || h.contains(char::is_whitespace) {
            return Err(format!("bad exists: `{h}`"));
        }
        return Ok(HeaderTest::Exists(h.to_string()));
    }
    if let Some(call) = def.strip_prefix("eval:") {
        return parse_eval(call).map(HeaderTest::Eval);
    }
    let (header, negate, pattern, tail) = parse_header_regex(def)?;
    let tail = tail.trim();
    let if_unset = if tail.is_empty() {
        None
    } else if let Some(v) = tail
        .strip_prefix("[if-unset:")
        .and_then(|v| v.strip_suffix(']'))
    {
        Some(v.trim().to_string())
    } else {
        return Err(format!("text after the regex: `{tail}`"));
    };
    Ok(HeaderTest::Regex {
        header,
        negate,
        pattern,
        if_unset,
    })
}

fn parse_header_regex(def: &str) -> Result<(HeaderSpec, bool, Pattern, &str), String> {
    let (pos, negate) = match (def.find("=~"), def.find("!~")) {
        (Some(a), Some(b)) => (a.min(b), b < a),
        (Some(a), None) => (a, false),
        (None, Some(b)) => (b, true),
        (None, None) => return Err(format!("expected `=~` or `!~` in `{def}`")),
    };
    let header = parse_header_spec(def[..pos].trim())?;
    let (pattern, tail) = parse_pattern(&def[pos + 2..])?;
    Ok((header, negate, pattern, tail))
}

fn parse_mimeheader(def: &str) -> Result<(Area, RuleTest), String> {
    let (header, negate, pattern, tail) = parse_header_regex(def)?;
    if !tail.trim().is_empty() {
        return Err(format!("text after the regex: `{}`", tail.trim()));
    }
    Ok((
        Area::MimeHeader,
        RuleTest::MimeHeader {
            header,
            negate,
            pattern,
        },
    ))
}

/// Parses `func(arg, 'arg', "arg")` (the part after `eval:`).
pub fn parse_eval(s: &str) -> Result<EvalCall, String> {
    let s = s.trim();
    let open = s
        .find('(')
        .ok_or_else(|| format!("eval without `(`: `{s}`"))?;
    let function = s[..open].trim();
    if function.is_empty()
        || !function
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(format!("bad eval function name `{function}`"));
    }
    let inner = s[open + 1..]
        .trim_end()
        .strip_suffix(')')
        .ok_or_else(|| format!("eval without closing `)`: `{s}`"))?;
    let mut args = Vec::new();
    let chars: Vec<char> = inner.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        while i < chars.len() && (chars[i].is_whitespace() || chars[i] == ',') {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let c = chars[i];
        if c == '\'' || c == '"' {
            let mut v = String::new();
            i += 1;
            let mut closed = false;
            while i < chars.len() {
                if chars[i] == '\\' && i + 1 < chars.len() && chars[i + 1] == c {
                    v.push(c);
                    i += 2;
                    continue;
                }
                if chars[i] == c {
                    closed = true;
                    i += 1;
                    break;
                }
                v.push(chars[i]);
                i += 1;
            }
            if !closed {
                return Err(format!("unterminated string in eval arguments `{inner}`"));
            }
            args.push(v);
        } else {
            let start = i;
            while i < chars.len() && chars[i] != ',' {
                i += 1;
            }
            args.push(
                chars[start..i]
                    .iter()
                    .collect::<String>()
                    .trim()
                    .to_string(),
            );
        }
    }
    Ok(EvalCall {
        function: function.to_string(),
        args,
    })
}

/// A token of a meta expression.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaToken {
    /// A rule name.
    Name(String),
    /// A number.
    Num(f64),
    /// An operator or parenthesis.
    Op(&'static str),
}

/// Splits a meta expression into tokens; anything else is an error.
pub fn tokenize_meta(expr: &str) -> Result<Vec<MetaToken>, String> {
    const OPS: &[&str] = &[
        "&&", "||", "==", "!=", ">=", "<=", "!", "(", ")", "+", "-", "*", "/", ">", "<",
    ];
    let b = expr.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    'outer: while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(MetaToken::Name(expr[start..i].to_string()));
            continue;
        }
        if c.is_ascii_digit() || c == b'.' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            let v = expr[start..i]
                .parse::<f64>()
                .map_err(|_| format!("bad number `{}`", &expr[start..i]))?;
            out.push(MetaToken::Num(v));
            continue;
        }
        for op in OPS {
            if b[i..].starts_with(op.as_bytes()) {
                out.push(MetaToken::Op(op));
                i += op.len();
                continue 'outer;
            }
        }
        return Err(format!("unexpected `{}` in meta expression", c as char));
    }
    if out.is_empty() {
        return Err("empty meta expression".into());
    }
    Ok(out)
}

fn check_meta(expr: &str) -> Result<(), String> {
    let tokens = tokenize_meta(expr)?;
    crate::rules::meta::Expr::parse(&tokens).map(|_| ())
}

fn tokenize_if(expr: &str) -> Result<Vec<String>, String> {
    let b = expr.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b':' {
            let start = i;
            while i < b.len()
                && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.' || b[i] == b':')
            {
                i += 1;
            }
            out.push(expr[start..i].to_string());
            continue;
        }
        // Bytes, not a `str` slice: the next character may be multi-byte (fuzz-found panic).
        let two = b
            .get(i..i + 2)
            .and_then(|t| std::str::from_utf8(t).ok())
            .unwrap_or("");
        if matches!(two, "&&" | "||" | "==" | "!=" | ">=" | "<=") {
            out.push(two.to_string());
            i += 2;
            continue;
        }
        if b"()!<>".contains(&c) {
            out.push((c as char).to_string());
            i += 1;
            continue;
        }
        return Err(format!("unexpected `{}`", c as char));
    }
    Ok(out)
}

struct IfParser<'t, 'p> {
    tokens: &'t [String],
    pos: usize,
    parser: &'p Parser,
    depth: usize,
}

impl IfParser<'_, '_> {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.pos).map(String::as_str)
    }
    fn next(&mut self) -> Option<&str> {
        let t = self.tokens.get(self.pos).map(String::as_str);
        self.pos += 1;
        t
    }
    fn or(&mut self) -> Result<f64, String> {
        let mut v = self.and()?;
        while self.peek() == Some("||") {
            self.pos += 1;
            let r = self.and()?;
            v = f64::from(v != 0.0 || r != 0.0);
        }
        Ok(v)
    }
    fn and(&mut self) -> Result<f64, String> {
        let mut v = self.cmp()?;
        while self.peek() == Some("&&") {
            self.pos += 1;
            let r = self.cmp()?;
            v = f64::from(v != 0.0 && r != 0.0);
        }
        Ok(v)
    }
    fn cmp(&mut self) -> Result<f64, String> {
        let l = self.unary()?;
        let op = match self.peek() {
            Some(op @ (">=" | "<=" | "==" | "!=" | ">" | "<")) => op.to_string(),
            _ => return Ok(l),
        };
        self.pos += 1;
        let r = self.unary()?;
        Ok(f64::from(match op.as_str() {
            ">=" => l >= r,
            "<=" => l <= r,
            "==" => l == r,
            "!=" => l != r,
            ">" => l > r,
            _ => l < r,
        }))
    }
    fn unary(&mut self) -> Result<f64, String> {
        self.depth += 1;
        if self.depth > 100 {
            return Err("expression nested too deeply".into());
        }
        let r = self.unary_inner();
        self.depth -= 1;
        r
    }
    fn unary_inner(&mut self) -> Result<f64, String> {
        match self.next().map(str::to_string) {
            Some(t) if t == "!" => Ok(f64::from(self.unary()? == 0.0)),
            Some(t) if t == "(" => {
                let v = self.or()?;
                if self.next() != Some(")") {
                    return Err("missing `)`".into());
                }
                Ok(v)
            }
            Some(t) if t == "version" => Ok(SA_VERSION),
            Some(t) if t == "perl_version" => Ok(5.036),
            Some(t) if t == "local_tests_only" => Ok(1.0),
            Some(t) if t == "can" || t == "plugin" => {
                if self.next() != Some("(") {
                    return Err(format!("`{t}` without `(`"));
                }
                let arg = self.next().ok_or("missing argument")?.to_string();
                if self.next() != Some(")") {
                    return Err("missing `)`".into());
                }
                Ok(f64::from(if t == "plugin" {
                    self.parser.plugin_loaded(&arg)
                } else {
                    self.can(&arg)
                }))
            }
            Some(t) => t
                .parse::<f64>()
                .map_err(|_| format!("unexpected `{t}` in `if` expression")),
            None => Err("unexpected end of `if` expression".into()),
        }
    }
    fn can(&self, arg: &str) -> bool {
        let mut parts: Vec<&str> = arg.split("::").collect();
        let method = parts.pop().unwrap_or("");
        let module = parts.join("::");
        if module == "Mail::SpamAssassin::Conf" {
            if let Some(c) = method.strip_prefix("compat_") {
                return self.parser.config.compat.contains(c);
            }
            return CONF_FEATURES.contains(&method);
        }
        let plugin = parts.last().copied().unwrap_or("");
        self.parser.plugin_loaded(&module)
            && PLUGIN_METHODS
                .iter()
                .any(|&(p, m)| p == plugin && m == method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_delimiters() {
        let (p, tail) = parse_pattern("m{a/b}i [if-unset: x]").unwrap();
        assert_eq!(p.source, "a/b");
        assert_eq!(p.flags, "i");
        assert_eq!(tail, " [if-unset: x]");
        let (p, _) = parse_pattern(r"/a\/b/").unwrap();
        assert_eq!(p.source, r"a\/b");
        assert!(parse_pattern("/abc").is_err());
        assert!(parse_pattern("/abc/q").is_err());
    }

    #[test]
    fn eval_args() {
        let e = parse_eval("html_text_match('comment', '<!(?!-).{0,6}>')").unwrap();
        assert_eq!(e.function, "html_text_match");
        assert_eq!(e.args, vec!["comment", "<!(?!-).{0,6}>"]);
        let e = parse_eval("check_for_shifted_date('-6', 'undef')").unwrap();
        assert_eq!(e.args.len(), 2);
        assert_eq!(parse_eval("check_foo()").unwrap().args.len(), 0);
    }

    #[test]
    fn conditionals() {
        let mut p = Parser::new();
        p.parse_str(
            "t.cf",
            "loadplugin Mail::SpamAssassin::Plugin::BodyEval\n\
             ifplugin Mail::SpamAssassin::Plugin::BodyEval\n body A /a/\nendif\n\
             ifplugin Mail::SpamAssassin::Plugin::Nope\n body B /b/\nendif\n\
             if (version >= 3.004000) && can(Mail::SpamAssassin::Conf::feature_bug6558_free)\n body C /c/\nelse\n body D /d/\nendif\n\
             if !plugin(Mail::SpamAssassin::Plugin::BodyEval)\n body E /e/\nendif\n",
        );
        let c = p.finish();
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        let names: Vec<&str> = c.rules.keys().map(String::as_str).collect();
        assert_eq!(names, vec!["A", "C"]);
    }
}
