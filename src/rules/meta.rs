//! Meta rule expressions: `&& || !`, parentheses, `+ - * /`, comparisons and numbers over
//! the values of other rules, evaluated with Perl's semantics (`&&`/`||` yield an operand,
//! not a boolean, so `(A || B) + C` counts as Perl counts).

use super::parser::MetaToken;

/// Maximum nesting of parentheses and unary operators in one expression.
const MAX_DEPTH: usize = 64;

/// A parsed meta expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number.
    Num(f64),
    /// A rule's value.
    Rule(String),
    /// A rule's value by its slot in the evaluation plan (see [`Expr::resolve`]).
    Slot(usize),
    /// `!e`.
    Not(Box<Expr>),
    /// `-e`.
    Neg(Box<Expr>),
    /// A binary operator.
    Bin(&'static str, Box<Expr>, Box<Expr>),
}

impl Expr {
    /// Parses tokens from [`super::parser::tokenize_meta`].
    pub fn parse(tokens: &[MetaToken]) -> Result<Expr, String> {
        let mut p = P { t: tokens, pos: 0 };
        let e = p.binary(0, 0)?;
        if p.pos != tokens.len() {
            return Err(format!("unexpected {:?} in meta expression", tokens[p.pos]));
        }
        Ok(e)
    }

    /// Names of the rules it reads.
    pub fn rules(&self, out: &mut Vec<String>) {
        match self {
            Expr::Num(_) => {}
            Expr::Rule(n) => out.push(n.clone()),
            Expr::Slot(_) => {}
            Expr::Not(e) | Expr::Neg(e) => e.rules(out),
            Expr::Bin(_, a, b) => {
                a.rules(out);
                b.rules(out);
            }
        }
    }

    /// Replaces each rule name by its slot (`slot` gives it; an unknown rule reads 0), so
    /// evaluation does no name lookups.
    pub fn resolve(&mut self, slot: &dyn Fn(&str) -> Option<usize>) {
        match self {
            Expr::Rule(n) => *self = slot(n).map_or(Expr::Num(0.0), Expr::Slot),
            Expr::Not(e) | Expr::Neg(e) => e.resolve(slot),
            Expr::Bin(_, a, b) => {
                a.resolve(slot);
                b.resolve(slot);
            }
            Expr::Num(_) | Expr::Slot(_) => {}
        }
    }

    /// Evaluates with `value` giving each rule's value (0 when it did not hit).
    pub fn eval(&self, value: &dyn Fn(&str) -> f64) -> f64 {
        self.eval_by(value, &|_| 0.0)
    }

    /// Evaluates a resolved expression with `slot` giving each slot's value.
    pub fn eval_slots(&self, slot: &dyn Fn(usize) -> f64) -> f64 {
        self.eval_by(&|_| 0.0, slot)
    }

    fn eval_by(&self, rule: &dyn Fn(&str) -> f64, slot: &dyn Fn(usize) -> f64) -> f64 {
        let value = |e: &Expr| e.eval_by(rule, slot);
        match self {
            Expr::Num(v) => *v,
            Expr::Rule(n) => rule(n),
            Expr::Slot(i) => slot(*i),
            Expr::Not(e) => f64::from(value(e) == 0.0),
            Expr::Neg(e) => -value(e),
            Expr::Bin(op, a, b) => {
                let l = value(a);
                match *op {
                    "&&" => {
                        if l == 0.0 {
                            l
                        } else {
                            value(b)
                        }
                    }
                    "||" => {
                        if l != 0.0 {
                            l
                        } else {
                            value(b)
                        }
                    }
                    _ => {
                        let r = value(b);
                        match *op {
                            "+" => l + r,
                            "-" => l - r,
                            "*" => l * r,
                            // Perl dies on division by zero; SpamAssassin then counts the
                            // meta as not hit.
                            "/" => {
                                if r == 0.0 {
                                    0.0
                                } else {
                                    l / r
                                }
                            }
                            "<" => f64::from(l < r),
                            ">" => f64::from(l > r),
                            "<=" => f64::from(l <= r),
                            ">=" => f64::from(l >= r),
                            "==" => f64::from(l == r),
                            _ => f64::from(l != r),
                        }
                    }
                }
            }
        }
    }
}

struct P<'t> {
    t: &'t [MetaToken],
    pos: usize,
}

/// Binary operators by precedence level, loosest first (Perl's order).
const LEVELS: &[&[&str]] = &[
    &["||"],
    &["&&"],
    &["==", "!="],
    &["<", ">", "<=", ">="],
    &["+", "-"],
    &["*", "/"],
];

impl P<'_> {
    fn op(&self) -> Option<&'static str> {
        match self.t.get(self.pos) {
            Some(MetaToken::Op(o)) => Some(o),
            _ => None,
        }
    }

    fn binary(&mut self, level: usize, depth: usize) -> Result<Expr, String> {
        if level == LEVELS.len() {
            return self.unary(depth);
        }
        let mut left = self.binary(level + 1, depth)?;
        while let Some(op) = self.op().filter(|o| LEVELS[level].contains(o)) {
            self.pos += 1;
            let right = self.binary(level + 1, depth)?;
            left = Expr::Bin(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Expr, String> {
        if depth > MAX_DEPTH {
            return Err("meta expression nested too deeply".into());
        }
        let tok = self.t.get(self.pos).cloned();
        self.pos += 1;
        match tok {
            Some(MetaToken::Num(v)) => Ok(Expr::Num(v)),
            Some(MetaToken::Name(n)) => Ok(Expr::Rule(n)),
            Some(MetaToken::Op("!")) => Ok(Expr::Not(Box::new(self.unary(depth + 1)?))),
            Some(MetaToken::Op("-")) => Ok(Expr::Neg(Box::new(self.unary(depth + 1)?))),
            Some(MetaToken::Op("+")) => self.unary(depth + 1),
            Some(MetaToken::Op("(")) => {
                let e = self.binary(0, depth + 1)?;
                if self.op() != Some(")") {
                    return Err("missing `)` in meta expression".into());
                }
                self.pos += 1;
                Ok(e)
            }
            Some(t) => Err(format!("unexpected {t:?} in meta expression")),
            None => Err("meta expression ends early".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parser::tokenize_meta;
    use super::*;

    fn eval(expr: &str, vals: &[(&str, f64)]) -> f64 {
        let e = Expr::parse(&tokenize_meta(expr).unwrap()).unwrap();
        e.eval(&|n| vals.iter().find(|(k, _)| *k == n).map_or(0.0, |(_, v)| *v))
    }

    #[test]
    fn perl_semantics() {
        assert_eq!(eval("A && !B", &[("A", 1.0)]), 1.0);
        assert_eq!(eval("A && !B", &[("A", 1.0), ("B", 1.0)]), 0.0);
        assert_eq!(eval("(A || B) + C > 2", &[("A", 2.0), ("C", 1.0)]), 1.0);
        assert_eq!(eval("A + B * 2 >= 3", &[("A", 1.0), ("B", 1.0)]), 1.0);
        assert_eq!(eval("A / B", &[("A", 1.0)]), 0.0);
        assert!(Expr::parse(&tokenize_meta("(A && B").unwrap()).is_err());
        assert!(Expr::parse(&tokenize_meta("A B").unwrap()).is_err());
        let deep = format!("{}A{}", "(".repeat(200), ")".repeat(200));
        assert!(Expr::parse(&tokenize_meta(&deep).unwrap()).is_err());
    }
}
