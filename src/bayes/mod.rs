//! Bayesian classifier (tokenizer, Robinson/Fisher combining, token store).
//!
//! Not implemented yet: see the Bayes issue. The engine runs without it.
