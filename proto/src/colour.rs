//! A team's colour, `#rrggbb` on the wire and in league files, parsed once.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Colour {
    pub r: u8,
    pub g: u8,
    pub b: u8,
}

impl Colour {
    pub const fn rgb(r: u8, g: u8, b: u8) -> Colour {
        Colour { r, g, b }
    }
}

impl fmt::Display for Colour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:02X}{:02X}{:02X}", self.r, self.g, self.b)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a #rrggbb colour")]
pub struct NotAColour(String);

impl FromStr for Colour {
    type Err = NotAColour;

    fn from_str(s: &str) -> Result<Colour, NotAColour> {
        let bad = || NotAColour(s.chars().take(40).collect());
        let hex = s
            .strip_prefix('#')
            .filter(|h| h.len() == 6)
            .ok_or_else(bad)?;
        let mut rgb = [0u8; 3];
        hex::decode_to_slice(hex, &mut rgb).map_err(|_| bad())?;
        Ok(Colour::rgb(rgb[0], rgb[1], rgb[2]))
    }
}

impl Serialize for Colour {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Colour {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Colour, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsed_once_written_back_the_same() {
        let c: Colour = "#004ba0".parse().unwrap();
        assert_eq!(c, Colour::rgb(0x00, 0x4b, 0xa0));
        assert_eq!(c.to_string(), "#004BA0");
        for bad in ["blue", "#12345", "#1234567", "#12345g", "004BA0", ""] {
            assert!(bad.parse::<Colour>().is_err(), "{bad}");
        }
    }
}
