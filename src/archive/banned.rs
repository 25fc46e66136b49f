//! Banned content, amavisd-new style: rules over the chain of names and types from the message
//! root to each object.
//!
//! Every object is checked against the rules in order; the first rule that matches decides
//! (`ban` gives a `Banned` finding, `allow` ends the check for that object). User rules come
//! first, then, unless `defaults = false`, the safe default set:
//!
//! | rule                | bans                                                               |
//! |---------------------|--------------------------------------------------------------------|
//! | `executable`        | a native executable by detected type (PE, DOS MZ, ELF, Mach-O)     |
//! | `double-extension`  | a document-looking name ending in an executable one (`a.pdf.exe`) |
//! | `clsid-extension`   | a `{CLSID}` extension, which Windows Explorer hides and runs       |
//! | `windows-executable-extension` | `.exe .com .scr .pif .bat .cmd .vbs .js .hta .lnk ...`  |
//! | `type-mismatch`     | a declared type or name extension that lies about the content     |
//!
//! ```toml
//! [banned]
//! defaults = true
//! [[banned.rules]]
//! name = "installers-from-it"
//! action = "allow"
//! names = ["setup-*.exe"]
//! within = ["*.zip"]
//! ```
//!
//! A rule's criteria must all hold (a rule with none matches nothing). `names`, `detected` and
//! `declared` look at the object itself; `within` looks at its ancestors (name globs or detected
//! type names), which is how amavisd-new's chain rules allow, for example, everything inside a
//! signed `.jar`. Globs are case-insensitive with `*` and `?`.

use crate::filetype::FileType;
use crate::object::Object;
use crate::report::Finding;
use serde::{Deserialize, Serialize};

/// What a matching rule does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleAction {
    /// Ban the object.
    #[default]
    Ban,
    /// Allow the object (stops the check).
    Allow,
}

/// One banned-content rule (`[[banned.rules]]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BannedRule {
    /// The rule's name, reported in the finding.
    pub name: String,
    /// Ban or allow.
    pub action: RuleAction,
    /// Globs over the object's name (declared or decoded file name, or archive member name).
    pub names: Vec<String>,
    /// Detected type names (`pe`, `elf`, `zip`, ... see [`FileType::name`]).
    pub detected: Vec<String>,
    /// Globs over the declared MIME type (`application/x-msdownload`, `application/*`).
    pub declared: Vec<String>,
    /// Globs over ancestors' names, or ancestors' detected type names.
    pub within: Vec<String>,
    /// Matches a document-looking name with an executable last extension (`invoice.pdf.exe`).
    pub double_extension: bool,
    /// Matches a `{CLSID}` extension.
    pub clsid: bool,
    /// Matches when the declared type or the name's extension lies about the detected type.
    pub type_mismatch: bool,
}

/// Banned-content rules (`[banned]` in the configuration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BannedRules {
    /// Apply the safe default set after the user rules.
    pub defaults: bool,
    /// User rules, checked first, in order.
    pub rules: Vec<BannedRule>,
}

impl Default for BannedRules {
    fn default() -> Self {
        BannedRules {
            defaults: true,
            rules: Vec::new(),
        }
    }
}

/// Extensions Windows runs (amavisd-new's default banned list, extended with today's).
const WINDOWS_EXECUTABLE: &[&str] = &[
    "exe",
    "com",
    "scr",
    "pif",
    "bat",
    "cmd",
    "cpl",
    "dll",
    "vbs",
    "vbe",
    "js",
    "jse",
    "wsf",
    "wsh",
    "wsc",
    "hta",
    "lnk",
    "msi",
    "msp",
    "msc",
    "reg",
    "ps1",
    "psm1",
    "jar",
    "inf",
    "sct",
    "application",
    "gadget",
    "appx",
    "msix",
    "chm",
    "iso",
    "img",
    "vhd",
    "vhdx",
    "scf",
];

/// Extensions that make a name look harmless in front of an executable one.
const DOCUMENT: &[&str] = &[
    "pdf", "doc", "docx", "docm", "xls", "xlsx", "xlsm", "ppt", "pptx", "rtf", "txt", "jpg",
    "jpeg", "png", "gif", "bmp", "zip", "rar", "htm", "html", "mp3", "mp4", "avi", "odt", "csv",
    "eml", "msg",
];

/// The safe default rules.
pub fn default_rules() -> Vec<BannedRule> {
    vec![
        BannedRule {
            name: "executable".into(),
            detected: ["pe", "dos-exe", "elf", "macho"].map(String::from).to_vec(),
            ..BannedRule::default()
        },
        BannedRule {
            name: "double-extension".into(),
            double_extension: true,
            ..BannedRule::default()
        },
        BannedRule {
            name: "clsid-extension".into(),
            clsid: true,
            ..BannedRule::default()
        },
        BannedRule {
            name: "windows-executable-extension".into(),
            names: WINDOWS_EXECUTABLE
                .iter()
                .map(|e| format!("*.{e}"))
                .collect(),
            ..BannedRule::default()
        },
        BannedRule {
            name: "type-mismatch".into(),
            type_mismatch: true,
            ..BannedRule::default()
        },
    ]
}

/// Case-insensitive glob with `*` and `?`, iterative (linear backtracking on the last `*`).
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// The name's extensions, lowercase, last first, trailing dots and spaces ignored (Windows
/// ignores them too: `a.exe.` runs).
fn extensions(name: &str) -> Vec<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let base = base.trim_end_matches(['.', ' ']);
    let mut parts: Vec<String> = base
        .split('.')
        .skip(1)
        .map(|s| s.trim().to_lowercase())
        .collect();
    parts.reverse();
    parts
}

/// The name without an NTFS stream suffix: Windows writes `a.exe:zone` and `a.exe::$DATA`
/// (the default stream) to `a.exe`, so the banned rules check that name too. A drive prefix
/// (`C:a.exe`) is no stream.
fn without_stream(name: &str) -> Option<&str> {
    let base = name.rfind(['/', '\\']).map_or(0, |i| i + 1);
    let drive = usize::from(
        base == 0
            && name.len() > 2
            && name.as_bytes()[0].is_ascii_alphabetic()
            && name.as_bytes()[1] == b':',
    ) * 2;
    let colon = name[base + drive..].find(':')? + base + drive;
    (colon > base + drive).then(|| &name[..colon])
}

fn is_double_extension(name: &str) -> bool {
    let ext = extensions(name);
    ext.len() >= 2
        && WINDOWS_EXECUTABLE.contains(&ext[0].as_str())
        && DOCUMENT.contains(&ext[1].as_str())
}

fn is_clsid(name: &str) -> bool {
    let ext = extensions(name);
    let Some(last) = ext.first() else {
        return false;
    };
    let b = last.as_bytes();
    b.len() == 38
        && b[0] == b'{'
        && b[37] == b'}'
        && b[1..37].iter().enumerate().all(|(i, &c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// The detected types a name extension or declared MIME type promises; None when it promises
/// nothing checkable.
fn promised(ext_or_type: &str) -> Option<&'static [FileType]> {
    use FileType::*;
    Some(match ext_or_type {
        "pdf" | "application/pdf" => &[Pdf],
        "jpg" | "jpeg" | "png" | "gif" | "bmp" | "tif" | "tiff" | "ico" | "webp" => &[Image],
        t if t.starts_with("image/") && t != "image/svg+xml" => &[Image],
        "zip" | "application/zip" | "application/x-zip-compressed" => &[Zip, Ooxml, Odf],
        "gz" | "tgz" | "application/gzip" | "application/x-gzip" => &[Gzip],
        "doc" | "xls" | "ppt" | "msg" | "application/msword" | "application/vnd.ms-excel" => {
            &[Ole2]
        }
        "docx" | "xlsx" | "pptx" | "docm" | "xlsm" => &[Ooxml, Zip],
        "odt" | "ods" | "odp" => &[Odf, Zip],
        "txt" | "csv" | "text/plain" => &[Text, Mail, Html, Unknown],
        _ => return None,
    })
}

/// Types whose disguise is dangerous: what a lie about the type usually hides.
fn dangerous(t: FileType) -> bool {
    t.is_executable()
        || matches!(
            t,
            FileType::Script
                | FileType::Html
                | FileType::Zip
                | FileType::Rar
                | FileType::SevenZip
                | FileType::Cab
                | FileType::Iso
                | FileType::Ole2
                | FileType::Ooxml
        )
}

/// Why the object's declared type or extension lies, if it does.
fn type_lie(o: &Object<'_>) -> Option<String> {
    if !dangerous(o.detected) {
        return None;
    }
    let mut claims: Vec<String> = Vec::new();
    if let Some(t) = &o.declared_type {
        claims.push(t.to_lowercase());
    }
    if let Some(ext) = o
        .name
        .as_deref()
        .and_then(|n| extensions(n).into_iter().next())
    {
        claims.push(ext);
    }
    for claim in claims {
        if let Some(types) = promised(&claim)
            && !types.contains(&o.detected)
        {
            return Some(format!("{claim} is really {}", o.detected));
        }
    }
    None
}

impl BannedRule {
    /// What matched, if the rule matches `o` (with ancestors `chain`, root first).
    /// Whether the rule matches object `o` under the file name `name` (its declared name or
    /// one of its other names), within `chain`; the finding's detail when it does.
    fn matches(&self, o: &Object<'_>, name: &str, chain: &[&Object<'_>]) -> Option<String> {
        let any = !self.names.is_empty()
            || !self.detected.is_empty()
            || !self.declared.is_empty()
            || !self.within.is_empty()
            || self.double_extension
            || self.clsid
            || self.type_mismatch;
        if !any {
            return None;
        }
        let mut what = Vec::new();
        if !self.names.is_empty() {
            let p = self
                .names
                .iter()
                .find(|p| glob(p, name.trim_end_matches(['.', ' '])))?;
            what.push(format!("name {name} ({p})"));
        }
        if !self.detected.is_empty() {
            let t = o.detected.name();
            self.detected.iter().find(|d| d.eq_ignore_ascii_case(t))?;
            what.push(format!("detected {t}"));
        }
        if !self.declared.is_empty() {
            let t = o.declared_type.as_deref()?;
            self.declared.iter().find(|p| glob(p, t))?;
            what.push(format!("declared {t}"));
        }
        if !self.within.is_empty() {
            let hit = chain.iter().find_map(|a| {
                let an = a.name.as_deref().unwrap_or("");
                self.within
                    .iter()
                    .find(|p| glob(p, an) || p.eq_ignore_ascii_case(a.detected.name()))
                    .map(|p| format!("within {} ({p})", a.path))
            })?;
            what.push(hit);
        }
        if self.double_extension {
            if !is_double_extension(name) {
                return None;
            }
            what.push(format!("double extension {name}"));
        }
        if self.clsid {
            if !is_clsid(name) {
                return None;
            }
            what.push(format!("CLSID extension {name}"));
        }
        if self.type_mismatch {
            what.push(type_lie(o)?);
        }
        Some(what.join(", "))
    }
}

impl BannedRules {
    /// Checks every object, appending a `Banned` finding for each one a rule bans.
    pub fn check(&self, objects: &[Object<'_>], out: &mut Vec<Finding>) {
        let defaults = if self.defaults {
            default_rules()
        } else {
            Vec::new()
        };
        let mut chain: Vec<&Object<'_>> = Vec::new();
        for o in objects.iter().skip(1) {
            // Ancestors by `parent` links; bounded by the object count against a cycle.
            chain.clear();
            let mut p = o.parent;
            while let Some(id) = p {
                let Some(a) = objects.get(id) else { break };
                if chain.len() >= objects.len() {
                    break;
                }
                chain.push(a);
                p = a.parent;
            }
            chain.reverse();
            // Each name a reader may show goes through the rules (first match wins); the
            // object is banned when any of them is.
            let names = std::iter::once(o.name.as_deref().unwrap_or(""))
                .chain(o.other_names.iter().map(String::as_str))
                .flat_map(|n| std::iter::once(n).chain(without_stream(n)));
            'names: for name in names {
                for rule in self.rules.iter().chain(defaults.iter()) {
                    if let Some(detail) = rule.matches(o, name, &chain) {
                        if rule.action == RuleAction::Ban {
                            out.push(Finding::Banned {
                                rule: rule.name.clone(),
                                path: o.path.clone(),
                                detail,
                            });
                            break 'names;
                        }
                        break;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_suffixes_are_cut_as_windows_cuts_them() {
        assert_eq!(without_stream("a.exe::$DATA"), Some("a.exe"));
        assert_eq!(without_stream("a.exe:zone"), Some("a.exe"));
        assert_eq!(without_stream("dir/a.exe:x"), Some("dir/a.exe"));
        assert_eq!(without_stream("C:a.exe:x"), Some("C:a.exe"));
        assert_eq!(without_stream("C:a.exe"), None);
        assert_eq!(without_stream("C:\\x\\a.exe"), None);
        assert_eq!(without_stream(":a.exe"), None);
        assert_eq!(without_stream("a.exe"), None);
    }
    use crate::object::Origin;
    use std::borrow::Cow;

    fn obj(name: Option<&str>, declared: Option<&str>, data: &'static [u8]) -> Object<'static> {
        Object {
            path: "2".into(),
            parent: Some(0),
            depth: 1,
            origin: Origin::MimePart,
            name: name.map(String::from),
            other_names: Vec::new(),
            declared_type: declared.map(String::from),
            charset: None,
            detected: crate::filetype::detect(data),
            data: Cow::Borrowed(data),
            encoded: None,
        }
    }

    fn root() -> Object<'static> {
        Object {
            path: String::new(),
            parent: None,
            depth: 0,
            origin: Origin::Message,
            name: None,
            other_names: Vec::new(),
            declared_type: Some("message/rfc822".into()),
            charset: None,
            detected: FileType::Mail,
            data: Cow::Borrowed(b""),
            encoded: None,
        }
    }

    fn banned_by(rules: &BannedRules, o: Object<'static>) -> Vec<String> {
        let mut out = Vec::new();
        rules.check(&[root(), o], &mut out);
        out.iter()
            .filter_map(|f| match f {
                Finding::Banned { rule, .. } => Some(rule.clone()),
                _ => None,
            })
            .collect()
    }

    const PE: &[u8] = b"MZ\x90\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x40\0\0\0PE\0\0";

    #[test]
    fn defaults_ban_the_usual_suspects() {
        let r = BannedRules::default();
        assert_eq!(
            banned_by(&r, obj(Some("tool.bin"), None, PE)),
            ["executable"]
        );
        assert_eq!(
            banned_by(&r, obj(Some("invoice.pdf.exe"), None, b"text")),
            ["double-extension"]
        );
        assert_eq!(
            banned_by(
                &r,
                obj(Some("x.{3050F4D8-98B5-11CF-BB82-00AA00BDCE0B}"), None, b"t")
            ),
            ["clsid-extension"]
        );
        assert_eq!(
            banned_by(&r, obj(Some("run.VBS. "), None, b"text")),
            ["windows-executable-extension"]
        );
        assert_eq!(
            banned_by(
                &r,
                obj(Some("cat.jpg"), Some("image/jpeg"), b"<html><script>x")
            ),
            ["type-mismatch"]
        );
        assert!(
            banned_by(
                &r,
                obj(Some("report.pdf"), Some("application/pdf"), b"%PDF-1.4")
            )
            .is_empty()
        );
        assert!(banned_by(&r, obj(Some("notes.txt"), Some("text/plain"), b"hello")).is_empty());
    }

    #[test]
    fn allow_rule_first_match_wins_and_defaults_can_be_off() {
        let allow = BannedRules {
            defaults: true,
            rules: vec![BannedRule {
                name: "allow-setup".into(),
                action: RuleAction::Allow,
                names: vec!["setup-*.exe".into()],
                ..BannedRule::default()
            }],
        };
        assert!(banned_by(&allow, obj(Some("SETUP-2.exe"), None, PE)).is_empty());
        assert_eq!(
            banned_by(&allow, obj(Some("other.exe"), None, PE)),
            ["executable"]
        );
        let off = BannedRules {
            defaults: false,
            rules: Vec::new(),
        };
        assert!(banned_by(&off, obj(Some("a.exe"), None, PE)).is_empty());
    }

    #[test]
    fn within_walks_the_parent_chain() {
        let rules = BannedRules {
            defaults: false,
            rules: vec![BannedRule {
                name: "no-scripts-in-zips".into(),
                detected: vec!["script".into()],
                within: vec!["zip".into()],
                ..BannedRule::default()
            }],
        };
        let mut zip = obj(Some("a.zip"), None, b"PK\x03\x04");
        zip.detected = FileType::Zip;
        let mut member = obj(Some("x.sh"), None, b"#!/bin/sh\n");
        member.parent = Some(1);
        member.path = "2 a.zip/x.sh".into();
        let mut out = Vec::new();
        rules.check(&[root(), zip, member.clone()], &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        member.parent = Some(0);
        let mut out = Vec::new();
        rules.check(&[root(), member], &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn globs_and_toml() {
        assert!(glob("*.exe", "A.EXE"));
        assert!(glob("a?c*", "abcdef"));
        assert!(!glob("*.exe", "a.exe.txt"));
        assert!(glob("*a*a*a*", "aaaa"));
        assert!(!glob("*a*a*b", &"a".repeat(200)));
        let cfg: BannedRules = toml::from_str(
            "defaults = false\n[[rules]]\nname = \"x\"\naction = \"allow\"\nnames = [\"*.exe\"]\n",
        )
        .unwrap();
        assert!(!cfg.defaults);
        assert_eq!(cfg.rules[0].action, RuleAction::Allow);
        assert!(toml::from_str::<BannedRules>("nonsense = 1").is_err());
    }
}
