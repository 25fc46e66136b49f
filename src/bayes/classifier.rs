//! Robinson's token probabilities combined with Fisher's chi-square method.
//!
//! For a token seen in `s` of `NS` spam and `h` of `NH` ham messages,
//! `p = (s/NS) / (s/NS + h/NH)` and Robinson's smoothed
//! `f = (strength * x + n * p) / (strength + n)` with `n = s + h`. Tokens with
//! `|f - 0.5| < min_prob_strength` are dropped and the `max_discriminators` strongest kept.
//! Fisher's method combines them twice: `H = 1 - C⁻¹(-2 Σ ln f, 2N)` (how spammy) and
//! `S = 1 - C⁻¹(-2 Σ ln (1 - f), 2N)` (how hammy), and the message probability is
//! `(1 + H - S) / 2`, as SpamBayes and SpamAssassin compute it.

use super::store::{Counts, TokenRead};
use super::tokenizer::Token;
use serde::{Deserialize, Serialize};

/// The classifier's constants: SpamBayes' defaults, with `x` lowered to 0.4, which cut
/// ham false positives on the validation quarter of the training half (`bayes_eval tune`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Constants {
    /// Robinson's `x`: the probability assumed for a token never seen.
    pub unknown_word_prob: f64,
    /// Robinson's `s`: how strongly `x` weighs against little evidence.
    pub unknown_word_strength: f64,
    /// Tokens whose probability lies closer than this to 0.5 are ignored.
    pub min_prob_strength: f64,
    /// The most tokens combined per message.
    pub max_discriminators: usize,
    /// Spam messages learned before the classifier answers (SpamAssassin: 200).
    pub min_spam: u64,
    /// Ham messages learned before the classifier answers (SpamAssassin: 200).
    pub min_ham: u64,
}

impl Default for Constants {
    fn default() -> Self {
        Constants {
            unknown_word_prob: 0.4,
            unknown_word_strength: 0.45,
            min_prob_strength: 0.1,
            max_discriminators: 150,
            min_spam: 200,
            min_ham: 200,
        }
    }
}

impl Constants {
    /// Checks the ranges.
    pub fn validate(&self) -> crate::Result<()> {
        let bad = |what: &str| {
            Err(crate::Error::new(
                crate::ErrorKind::Config,
                format!("bayes: {what}"),
            ))
        };
        if !(0.0..=1.0).contains(&self.unknown_word_prob) {
            return bad("unknown_word_prob must be between 0 and 1");
        }
        if !(self.unknown_word_strength > 0.0 && self.unknown_word_strength.is_finite()) {
            return bad("unknown_word_strength must be positive");
        }
        if !(0.0..0.5).contains(&self.min_prob_strength) {
            return bad("min_prob_strength must be in [0, 0.5)");
        }
        if self.max_discriminators == 0 {
            return bad("max_discriminators must be at least 1");
        }
        Ok(())
    }
}

/// The message totals a database holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Spam messages learned.
    pub spam: u64,
    /// Ham messages learned.
    pub ham: u64,
}

/// Robinson's smoothed probability of one token.
pub fn token_prob(c: Counts, totals: Totals, k: &Constants) -> f64 {
    let (s, h) = (f64::from(c.spam), f64::from(c.ham));
    let ns = totals.spam.max(1) as f64;
    let nh = totals.ham.max(1) as f64;
    let n = s + h;
    if n == 0.0 {
        return k.unknown_word_prob;
    }
    let sr = s / ns;
    let hr = h / nh;
    let p = sr / (sr + hr);
    (k.unknown_word_strength * k.unknown_word_prob + n * p) / (k.unknown_word_strength + n)
}

/// `Q(x2, v)`: the probability that a chi-square variable with `v` (even) degrees of freedom
/// is at least `x2`.
pub fn chi2q(x2: f64, v: usize) -> f64 {
    let m = x2 / 2.0;
    let mut term = (-m).exp();
    let mut sum = term;
    for i in 1..v / 2 {
        term *= m / i as f64;
        sum += term;
    }
    sum.min(1.0)
}

/// The spam probability of a message's tokens, or `None` while the database has fewer
/// messages than the minimums.
pub fn classify(tokens: &[Token], db: &dyn TokenRead, k: &Constants) -> Option<f64> {
    let totals = db.totals();
    if totals.spam < k.min_spam || totals.ham < k.min_ham || totals.spam == 0 || totals.ham == 0 {
        return None;
    }
    let mut probs: Vec<(f64, f64)> = Vec::with_capacity(tokens.len());
    for &t in tokens {
        let c = db.counts(t);
        if c.spam == 0 && c.ham == 0 {
            continue;
        }
        let f = token_prob(c, totals, k);
        let dev = (f - 0.5).abs();
        if dev >= k.min_prob_strength {
            probs.push((dev, f));
        }
    }
    if probs.len() > k.max_discriminators {
        probs.select_nth_unstable_by(k.max_discriminators - 1, |a, b| b.0.total_cmp(&a.0));
        probs.truncate(k.max_discriminators);
    }
    if probs.is_empty() {
        return Some(0.5);
    }
    // Sum logarithms; clamp away from 0 and 1 so one token cannot take ln(0).
    let (mut ln_f, mut ln_1f) = (0.0f64, 0.0f64);
    for &(_, f) in &probs {
        let f = f.clamp(1e-9, 1.0 - 1e-9);
        ln_f += f.ln();
        ln_1f += (1.0 - f).ln();
    }
    let n = 2 * probs.len();
    let spamminess = 1.0 - chi2q(-2.0 * ln_1f, n);
    let hamminess = 1.0 - chi2q(-2.0 * ln_f, n);
    Some(((1.0 + spamminess - hamminess) / 2.0).clamp(0.0, 1.0))
}

/// The stock `BAYES_xx` rules: name, lower bound (exclusive except for BAYES_00), upper
/// bound (inclusive), SpamAssassin's score in set 2 (Bayes on, network off), description.
pub const BAYES_RULES: &[(&str, f64, f64, f64, &str)] = &[
    (
        "BAYES_00",
        0.00,
        0.01,
        -1.5,
        "Bayes spam probability is 0 to 1%",
    ),
    (
        "BAYES_05",
        0.01,
        0.05,
        -0.3,
        "Bayes spam probability is 1 to 5%",
    ),
    (
        "BAYES_20",
        0.05,
        0.20,
        -0.001,
        "Bayes spam probability is 5 to 20%",
    ),
    (
        "BAYES_40",
        0.20,
        0.40,
        -0.001,
        "Bayes spam probability is 20 to 40%",
    ),
    (
        "BAYES_50",
        0.40,
        0.60,
        2.0,
        "Bayes spam probability is 40 to 60%",
    ),
    (
        "BAYES_60",
        0.60,
        0.80,
        2.5,
        "Bayes spam probability is 60 to 80%",
    ),
    (
        "BAYES_80",
        0.80,
        0.95,
        2.7,
        "Bayes spam probability is 80 to 95%",
    ),
    (
        "BAYES_95",
        0.95,
        0.99,
        3.2,
        "Bayes spam probability is 95 to 99%",
    ),
    (
        "BAYES_99",
        0.99,
        1.00,
        3.8,
        "Bayes spam probability is 99 to 100%",
    ),
    (
        "BAYES_999",
        0.999,
        1.00,
        0.2,
        "Bayes spam probability is 99.9 to 100%",
    ),
];

/// Whether probability `p` falls in a `check_bayes(min, max)` range: `min < p <= max`, and
/// `p == 0` belongs to the range starting at 0, so the stock ranges tile `[0, 1]` once
/// (BAYES_999 stacks on BAYES_99 by design).
pub fn in_range(p: f64, min: f64, max: f64) -> bool {
    (p > min || (min == 0.0 && p == 0.0)) && p <= max
}

/// The stock rules `p` hits.
pub fn bayes_hits(
    p: f64,
) -> impl Iterator<Item = &'static (&'static str, f64, f64, f64, &'static str)> {
    BAYES_RULES.iter().filter(move |r| in_range(p, r.1, r.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chi2q_known_values() {
        // Q(x2=2, v=2) = exp(-1)
        assert!((chi2q(2.0, 2) - (-1.0f64).exp()).abs() < 1e-12);
        // Q(0, v) = 1; huge x2 gives ~0
        assert_eq!(chi2q(0.0, 10), 1.0);
        assert!(chi2q(500.0, 10) < 1e-50);
        // v = 4: e^-m (1 + m)
        let m = 3.0f64;
        assert!((chi2q(2.0 * m, 4) - (-m).exp() * (1.0 + m)).abs() < 1e-12);
    }

    #[test]
    fn robinson_smoothing() {
        let k = Constants {
            unknown_word_prob: 0.5,
            ..Constants::default()
        };
        let t = Totals {
            spam: 100,
            ham: 100,
        };
        let unseen = token_prob(Counts::default(), t, &k);
        assert_eq!(unseen, 0.5);
        let once_spam = token_prob(
            Counts {
                spam: 1,
                ham: 0,
                ..Default::default()
            },
            t,
            &k,
        );
        assert!(once_spam > 0.5 && once_spam < 0.9, "{once_spam}");
        let many_spam = token_prob(
            Counts {
                spam: 50,
                ham: 0,
                ..Default::default()
            },
            t,
            &k,
        );
        assert!(many_spam > 0.99, "{many_spam}");
        let balanced = token_prob(
            Counts {
                spam: 10,
                ham: 10,
                ..Default::default()
            },
            t,
            &k,
        );
        assert!((balanced - 0.5).abs() < 1e-12);
        // Ratios, not raw counts: 10 of 100 spam vs 10 of 1000 ham is spammy.
        let t2 = Totals {
            spam: 100,
            ham: 1000,
        };
        assert!(
            token_prob(
                Counts {
                    spam: 10,
                    ham: 10,
                    ..Default::default()
                },
                t2,
                &k
            ) > 0.85
        );
    }

    #[test]
    fn ranges_tile_unit_interval() {
        for i in 0..=1000 {
            let p = f64::from(i) / 1000.0;
            let hits: Vec<_> = bayes_hits(p).map(|r| r.0).collect();
            let base = hits.iter().filter(|n| **n != "BAYES_999").count();
            assert_eq!(base, 1, "p={p} hits {hits:?}");
        }
        assert_eq!(
            bayes_hits(1.0).map(|r| r.0).collect::<Vec<_>>(),
            ["BAYES_99", "BAYES_999"]
        );
        assert_eq!(
            bayes_hits(0.0).map(|r| r.0).collect::<Vec<_>>(),
            ["BAYES_00"]
        );
    }
}
