//! Parsing option values: booleans, integers, byte counts and durations.
//! Each parser returns `None` for a value of the wrong kind; the caller
//! says which key expected what.

use std::time::Duration;

/// `y`, `yes`, `true` or nothing (the key alone) is true; `n`, `no`,
/// `false` is false.
pub fn boolean(value: Option<&str>) -> Option<bool> {
    match value {
        None | Some("y" | "yes" | "true") => Some(true),
        Some("n" | "no" | "false") => Some(false),
        Some(_) => None,
    }
}

/// A non-negative integer: decimal or `0x` hexadecimal, with `_`
/// separators allowed.
pub fn integer(value: &str) -> Option<u64> {
    let cleaned = value.replace('_', "");
    match cleaned
        .strip_prefix("0x")
        .or_else(|| cleaned.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => cleaned.parse().ok(),
    }
}

/// A byte count: an [`integer`] with an optional K, M or G suffix (powers
/// of 1024).
pub fn bytes(value: &str) -> Option<u64> {
    let (digits, scale) = match value.chars().last()? {
        'K' | 'k' => (&value[..value.len() - 1], 1u64 << 10),
        'M' | 'm' => (&value[..value.len() - 1], 1 << 20),
        'G' | 'g' => (&value[..value.len() - 1], 1 << 30),
        _ => (value, 1),
    };
    integer(digits)?.checked_mul(scale)
}

/// A duration: a number with a unit (`ns`, `us`, `ms`, `s`, `m`, `h`), or
/// a bare number of seconds; fractions are allowed (`1.5s`).
pub fn duration(value: &str) -> Option<Duration> {
    let value = value.trim();
    let split = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds_per_unit = match unit.trim() {
        "" | "s" | "sec" | "secs" => 1.0,
        "ms" => 1e-3,
        "us" | "µs" => 1e-6,
        "ns" => 1e-9,
        "m" | "min" | "mins" => 60.0,
        "h" | "hr" | "hrs" => 3600.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(number * seconds_per_unit).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans() {
        assert_eq!(boolean(None), Some(true));
        assert_eq!(boolean(Some("yes")), Some(true));
        assert_eq!(boolean(Some("n")), Some(false));
        assert_eq!(boolean(Some("maybe")), None);
    }

    #[test]
    fn integers_and_byte_counts() {
        assert_eq!(integer("1_000"), Some(1000));
        assert_eq!(integer("0x10"), Some(16));
        assert_eq!(integer("-1"), None);
        assert_eq!(bytes("4G"), Some(4 << 30));
        assert_eq!(bytes("64k"), Some(64 << 10));
        assert_eq!(bytes("0x10"), Some(16));
        assert_eq!(bytes("x"), None);
        assert_eq!(bytes(""), None);
        assert_eq!(bytes("99999999999G"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(duration("3"), Some(Duration::from_secs(3)));
        assert_eq!(duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(duration("ten"), None);
        assert_eq!(duration("5 fortnights"), None);
        assert_eq!(duration("-1s"), None);
    }
}
