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
    Bin(Op, Box<Expr>, Box<Expr>),
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `&&`: the left operand when it is 0, else the right.
    And,
    /// `||`: the left operand when it is not 0, else the right.
    Or,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/` (division by zero yields 0).
    Div,
    /// `<`.
    Lt,
    /// `>`.
    Gt,
    /// `<=`.
    Le,
    /// `>=`.
    Ge,
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
}

/// One instruction of a compiled expression ([`Program`]).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ins {
    Num(f64),
    Slot(usize),
    Not,
    Neg,
    Bin(Op),
    /// `&&`: when the top is 0 it is the result, jump to the index; else drop it.
    AndJump(usize),
    /// `||`: when the top is not 0 it is the result, jump to the index; else drop it.
    OrJump(usize),
}

/// A resolved expression compiled to a stack program: evaluation is one loop over a
/// flat array instead of a walk over boxed nodes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Program {
    code: Vec<Ins>,
}

impl Program {
    /// Evaluates with `slot` giving each slot's value; `stack` is scratch space.
    pub fn eval(&self, mut slot: impl FnMut(usize) -> f64, stack: &mut Vec<f64>) -> f64 {
        stack.clear();
        let mut pc = 0;
        while let Some(ins) = self.code.get(pc) {
            pc += 1;
            match *ins {
                Ins::Num(v) => stack.push(v),
                Ins::Slot(i) => stack.push(slot(i)),
                Ins::Not => {
                    if let Some(t) = stack.last_mut() {
                        *t = f64::from(*t == 0.0);
                    }
                }
                Ins::Neg => {
                    if let Some(t) = stack.last_mut() {
                        *t = -*t;
                    }
                }
                Ins::AndJump(to) | Ins::OrJump(to) => {
                    let top = stack.last().copied().unwrap_or(0.0);
                    if (top == 0.0) == matches!(ins, Ins::AndJump(_)) {
                        pc = to;
                    } else {
                        stack.pop();
                    }
                }
                Ins::Bin(op) => {
                    let r = stack.pop().unwrap_or(0.0);
                    let l = stack.pop().unwrap_or(0.0);
                    stack.push(arith(op, l, r));
                }
            }
        }
        stack.pop().unwrap_or(0.0)
    }
}

/// A non-short-circuit binary operator applied to its operands.
fn arith(op: Op, l: f64, r: f64) -> f64 {
    match op {
        Op::Add => l + r,
        Op::Sub => l - r,
        Op::Mul => l * r,
        // Perl dies on division by zero; SpamAssassin then counts the meta as not hit.
        Op::Div if r == 0.0 => 0.0,
        Op::Div => l / r,
        Op::Lt => f64::from(l < r),
        Op::Gt => f64::from(l > r),
        Op::Le => f64::from(l <= r),
        Op::Ge => f64::from(l >= r),
        Op::Eq => f64::from(l == r),
        // `&&` and `||` never get here (see `Expr::emit`).
        Op::Ne | Op::And | Op::Or => f64::from(l != r),
    }
}

impl Op {
    fn from_token(t: &str) -> Option<Op> {
        Some(match t {
            "&&" => Op::And,
            "||" => Op::Or,
            "+" => Op::Add,
            "-" => Op::Sub,
            "*" => Op::Mul,
            "/" => Op::Div,
            "<" => Op::Lt,
            ">" => Op::Gt,
            "<=" => Op::Le,
            ">=" => Op::Ge,
            "==" => Op::Eq,
            "!=" => Op::Ne,
            _ => return None,
        })
    }
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

    /// Compiles a (resolved) expression; a rule name left unresolved reads 0.
    pub fn compile(&self) -> Program {
        let mut p = Program::default();
        self.emit(&mut p.code);
        p
    }

    fn emit(&self, code: &mut Vec<Ins>) {
        match self {
            Expr::Num(v) => code.push(Ins::Num(*v)),
            Expr::Rule(_) => code.push(Ins::Num(0.0)),
            Expr::Slot(i) => code.push(Ins::Slot(*i)),
            Expr::Not(e) => {
                e.emit(code);
                code.push(Ins::Not);
            }
            Expr::Neg(e) => {
                e.emit(code);
                code.push(Ins::Neg);
            }
            Expr::Bin(op @ (Op::And | Op::Or), a, b) => {
                a.emit(code);
                let jump = code.len();
                code.push(Ins::AndJump(0));
                b.emit(code);
                let to = code.len();
                code[jump] = if *op == Op::And {
                    Ins::AndJump(to)
                } else {
                    Ins::OrJump(to)
                };
            }
            Expr::Bin(op, a, b) => {
                a.emit(code);
                b.emit(code);
                code.push(Ins::Bin(*op));
            }
        }
    }

    /// Evaluates with `value` giving each rule's value (0 when it did not hit).
    pub fn eval(&self, value: &dyn Fn(&str) -> f64) -> f64 {
        self.eval_by(value, &|_| 0.0)
    }

    fn eval_by<R, S>(&self, rule: &R, slot: &S) -> f64
    where
        R: Fn(&str) -> f64 + ?Sized,
        S: Fn(usize) -> f64 + ?Sized,
    {
        let value = |e: &Expr| e.eval_by(rule, slot);
        match self {
            Expr::Num(v) => *v,
            Expr::Rule(n) => rule(n),
            Expr::Slot(i) => slot(*i),
            Expr::Not(e) => f64::from(value(e) == 0.0),
            Expr::Neg(e) => -value(e),
            Expr::Bin(op, a, b) => {
                let l = value(a);
                match op {
                    Op::And if l == 0.0 => l,
                    Op::Or if l != 0.0 => l,
                    Op::And | Op::Or => value(b),
                    _ => arith(*op, l, value(b)),
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
            let op = Op::from_token(op).ok_or_else(|| format!("unknown operator {op}"))?;
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
        // The compiled program gives what the tree gives.
        for (expr, vals) in [
            ("A && !B", &[("A", 1.0)][..]),
            ("(A || B) + C > 2", &[("A", 2.0), ("C", 1.0)][..]),
            ("A || B && C", &[("B", 3.0), ("C", 2.0)][..]),
            ("!(A && B) * -C / (D - 1)", &[("A", 1.0), ("C", 4.0)][..]),
            (
                "A + B * 2 >= 3 && (C == 0 || D != 1)",
                &[("A", 1.0), ("B", 1.0)][..],
            ),
        ] {
            let mut e = Expr::parse(&tokenize_meta(expr).unwrap()).unwrap();
            let want = eval(expr, vals);
            let names = ["A", "B", "C", "D"];
            e.resolve(&|n| names.iter().position(|x| *x == n));
            let got = e.compile().eval(
                |i| {
                    vals.iter()
                        .find(|(k, _)| *k == names[i])
                        .map_or(0.0, |(_, v)| *v)
                },
                &mut Vec::new(),
            );
            assert_eq!(got, want, "{expr}");
        }
        let deep = format!("{}A{}", "(".repeat(200), ")".repeat(200));
        assert!(Expr::parse(&tokenize_meta(&deep).unwrap()).is_err());
    }
}
