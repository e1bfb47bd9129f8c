//! Money in the league's unit: whole lakh (₹1 Cr = 100 L).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An amount of money in lakh. Integer arithmetic only: no rounding anywhere.
///
/// On the wire it is a number of lakh; it is also read from a string such
/// as `"1.25cr"` or `"75L"`, which keeps hand-written JSON and TOML readable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Money(pub u64);

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Money, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Money;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount in lakh (75) or a string such as \"75L\" or \"1.25cr\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Money, E> {
                Ok(Money(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Money, E> {
                u64::try_from(v)
                    .map(Money)
                    .map_err(|_| E::custom("an amount cannot be negative"))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Money, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Lakh in one crore.
pub const LAKH_PER_CRORE: u64 = 100;

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn lakh(n: u64) -> Money {
        Money(n)
    }

    /// The largest purse or price the auction deals in (₹1 crore crore).
    /// Far below `u64::MAX`, so that a purse at the ceiling plus any refund
    /// or raise still fits: amounts over it are refused where they come in
    /// (typed amounts, purse adjustments, leagues).
    pub const MAX: Money = Money(LAKH_PER_CRORE * 10_000_000);

    pub const fn crore(n: u64) -> Money {
        Money(n * LAKH_PER_CRORE)
    }

    pub const fn as_lakh(self) -> u64 {
        self.0
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    pub fn saturating_sub(self, other: Money) -> Money {
        Money(self.0.saturating_sub(other.0))
    }

    /// For the fold, which cannot refuse: the rules keep amounts far below
    /// the point where this would saturate (see [`Money::MAX`]).
    pub fn saturating_add(self, other: Money) -> Money {
        Money(self.0.saturating_add(other.0))
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// Applies a signed adjustment, refusing to go below zero or overflow.
    pub fn checked_add_signed(self, delta: i64) -> Option<Money> {
        self.0.checked_add_signed(delta).map(Money)
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        Money(iter.map(|m| m.0).sum())
    }
}

/// `₹75 L` below a crore, `₹1.25 Cr` / `₹2 Cr` from a crore up.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        if v < LAKH_PER_CRORE {
            return write!(f, "₹{v} L");
        }
        let (cr, rest) = (v / LAKH_PER_CRORE, v % LAKH_PER_CRORE);
        match rest {
            0 => write!(f, "₹{cr} Cr"),
            r if r % 10 == 0 => write!(f, "₹{cr}.{} Cr", r / 10),
            r => write!(f, "₹{cr}.{r:02} Cr"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("empty amount")]
    Empty,
    #[error("`{0}` is not an amount: use lakh (`75`, `75L`) or crore (`1.25cr`)")]
    Invalid(String),
    #[error("`{0}` has more precision than one lakh")]
    TooPrecise(String),
    #[error("`{0}` is too large")]
    TooLarge(String),
}

/// Parses `75`, `75L`, `75 lakh`, `1.25cr`, `₹2 Cr`. A bare number is lakh.
impl FromStr for Money {
    type Err = MoneyError;

    fn from_str(input: &str) -> Result<Money, MoneyError> {
        let s: String = input
            .trim()
            .trim_start_matches('₹')
            .chars()
            .filter(|c| !c.is_whitespace() && *c != ',')
            .collect::<String>()
            .to_ascii_lowercase();
        if s.is_empty() {
            return Err(MoneyError::Empty);
        }
        let invalid = || MoneyError::Invalid(input.trim().to_string());
        let digits_end = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let (number, unit) = s.split_at(digits_end);
        let scale: u32 = match unit {
            "" | "l" | "lakh" | "lakhs" | "lac" | "lacs" => 0,
            "cr" | "crore" | "crores" => 2,
            _ => return Err(invalid()),
        };
        let (whole, frac) = match number.split_once('.') {
            Some((w, f)) => (w, f),
            None => (number, ""),
        };
        if whole.is_empty() && frac.is_empty() || frac.contains('.') {
            return Err(invalid());
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > scale as usize {
            return Err(MoneyError::TooPrecise(input.trim().to_string()));
        }
        let too_large = || MoneyError::TooLarge(input.trim().to_string());
        let whole: u64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| too_large())?
        };
        let mut frac_value: u64 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| invalid())?
        };
        for _ in frac.len()..scale as usize {
            frac_value *= 10;
        }
        whole
            .checked_mul(10u64.pow(scale))
            .and_then(|w| w.checked_add(frac_value))
            .map(Money)
            .filter(|m| *m <= Money::MAX)
            .ok_or_else(too_large)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_lakh_and_crore() {
        assert_eq!(Money(75).to_string(), "₹75 L");
        assert_eq!(Money(5).to_string(), "₹5 L");
        assert_eq!(Money(100).to_string(), "₹1 Cr");
        assert_eq!(Money(125).to_string(), "₹1.25 Cr");
        assert_eq!(Money(150).to_string(), "₹1.5 Cr");
        assert_eq!(Money(205).to_string(), "₹2.05 Cr");
        assert_eq!(Money(12000).to_string(), "₹120 Cr");
    }

    #[test]
    fn parses_every_documented_form() {
        for (text, lakh) in [
            ("75", 75),
            ("75L", 75),
            ("75 l", 75),
            ("75 lakh", 75),
            ("1.25cr", 125),
            ("1.25 Cr", 125),
            ("₹2 Cr", 200),
            ("₹75 L", 75),
            ("0.5cr", 50),
            ("2.50cr", 250),
            ("120cr", 12000),
            ("1,000", 1000),
        ] {
            assert_eq!(text.parse::<Money>(), Ok(Money(lakh)), "{text}");
        }
    }

    #[test]
    fn refuses_nonsense() {
        assert_eq!("".parse::<Money>(), Err(MoneyError::Empty));
        assert!(matches!(
            "abc".parse::<Money>(),
            Err(MoneyError::Invalid(_))
        ));
        assert!(matches!(
            "12usd".parse::<Money>(),
            Err(MoneyError::Invalid(_))
        ));
        assert!(matches!(
            "1.2.3".parse::<Money>(),
            Err(MoneyError::Invalid(_))
        ));
        assert!(matches!("-5".parse::<Money>(), Err(MoneyError::Invalid(_))));
        assert!(matches!(
            "7.5".parse::<Money>(),
            Err(MoneyError::TooPrecise(_))
        ));
        assert!(matches!(
            "1.255cr".parse::<Money>(),
            Err(MoneyError::TooPrecise(_))
        ));
        assert!(matches!(
            "99999999999999999999999".parse::<Money>(),
            Err(MoneyError::TooLarge(_))
        ));
        assert_eq!("10000000cr".parse::<Money>(), Ok(Money::MAX));
        assert!(matches!(
            "10000000.01cr".parse::<Money>(),
            Err(MoneyError::TooLarge(_))
        ));
    }

    #[test]
    fn deserializes_numbers_and_strings() {
        let v: Vec<Money> = serde_json::from_str(r#"[75, "1.25cr", "75L"]"#).unwrap();
        assert_eq!(v, vec![Money(75), Money(125), Money(75)]);
        assert!(serde_json::from_str::<Money>("-5").is_err());
        assert!(serde_json::from_str::<Money>("\"lots\"").is_err());
        assert_eq!(serde_json::to_string(&Money(125)).unwrap(), "125");
    }

    #[test]
    fn display_round_trips_through_parse() {
        for v in [0, 1, 5, 30, 99, 100, 101, 110, 125, 999, 12000] {
            assert_eq!(Money(v).to_string().parse::<Money>(), Ok(Money(v)));
        }
    }
}
