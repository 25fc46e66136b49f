//! The TOML configuration file, which maps onto [`EngineBuilder`](crate::EngineBuilder).
//!
//! ```toml
//! [limits]
//! max_levels = 14
//! max_files = 1500
//!
//! [policy]
//! tag2_level = 5.0
//! kill_level = 10.0
//! [policy.destinies]
//! spam = "discard"
//!
//! [signatures]
//! databases = ["/var/lib/clamav"]
//!
//! [rules]
//! paths = ["/usr/share/spamassassin", "/etc/spamassassin"]
//! ```
//!
//! Relative paths are taken relative to the configuration file's directory. Unknown keys are
//! errors, so a misspelt limit is never silently ignored.

use crate::archive::Limits;
use crate::error::{Error, ErrorKind, Result};
use crate::policy::Policy;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Scan limits.
    pub limits: Limits,
    /// Policy.
    pub policy: Policy,
    /// Signature databases.
    pub signatures: SignatureConfig,
    /// Rule files.
    pub rules: RuleConfig,
    /// Banned names and types.
    pub banned: crate::archive::banned::BannedRules,
    /// The Bayes classifier.
    pub bayes: crate::bayes::BayesConfig,
}

/// `[signatures]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignatureConfig {
    /// Include the built-in signatures (EICAR).
    pub builtin: bool,
    /// ClamAV database files or directories.
    pub databases: Vec<PathBuf>,
    /// Stop at the first virus found (amavisd-new `$first_infected_stops_scan`).
    pub stop_on_first: bool,
}

impl Default for SignatureConfig {
    fn default() -> Self {
        SignatureConfig {
            builtin: true,
            databases: Vec::new(),
            stop_on_first: false,
        }
    }
}

/// `[rules]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleConfig {
    /// Include the built-in rules (GTUBE).
    pub builtin: bool,
    /// SpamAssassin `.cf` files or directories.
    pub paths: Vec<PathBuf>,
}

impl Default for RuleConfig {
    fn default() -> Self {
        RuleConfig {
            builtin: true,
            paths: Vec::new(),
        }
    }
}

impl Config {
    /// Parses a configuration from TOML text; relative paths stay as they are.
    pub fn from_toml_str(text: &str) -> Result<Config> {
        toml::from_str(text)
            .map_err(|e| Error::new(ErrorKind::Config, format!("configuration: {e}")))
    }

    /// Reads a configuration file; relative paths in it are resolved against its directory.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Config> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut config: Config = toml::from_str(&text)
            .map_err(|e| Error::new(ErrorKind::Config, format!("{}: {e}", path.display())))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        config.signatures.databases.iter_mut().for_each(resolve);
        config.rules.paths.iter_mut().for_each(resolve);
        config.bayes.path.iter_mut().for_each(resolve);
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_unknown_keys() {
        let c = Config::from_toml_str(
            "[limits]\nmax_levels = 3\n[policy]\nkill_level = 8.0\n[policy.destinies]\nspam = \"discard\"\n",
        )
        .unwrap();
        assert_eq!(c.limits.max_levels, 3);
        assert_eq!(c.limits.max_files, 1500);
        assert_eq!(c.policy.kill_level, 8.0);
        assert_eq!(c.policy.destinies.spam, crate::policy::Destiny::Discard);
        let err = Config::from_toml_str("[limits]\nmax_levles = 3\n").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.to_string().contains("max_levles"), "{err}");
    }
}
