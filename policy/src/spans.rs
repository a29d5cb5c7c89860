//! Where each value of a JSON document starts, by path (`rules[2].syscalls[0]`),
//! so validation errors found after parsing can name line and column.

use std::collections::HashMap;

/// Line and column (1-based) of every value in `src`, keyed by path. The
/// root is `""`. `src` must be valid JSON.
pub fn spans(src: &str) -> HashMap<String, (usize, usize)> {
    let mut w = Walker { s: src.as_bytes(), i: 0, out: HashMap::new() };
    w.value(String::new());
    w.out
}

struct Walker<'a> {
    s: &'a [u8],
    i: usize,
    out: HashMap<String, (usize, usize)>,
}

impl Walker<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn position(&self) -> (usize, usize) {
        let before = &self.s[..self.i];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let start = before.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        (line, String::from_utf8_lossy(&before[start..]).chars().count() + 1)
    }

    fn value(&mut self, path: String) {
        self.ws();
        let pos = self.position();
        self.out.insert(path.clone(), pos);
        match self.s.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                loop {
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b'}') | None => break,
                        Some(b',') => self.i += 1,
                        _ => {
                            let key = self.string();
                            self.ws();
                            self.i += 1; // ':'
                            let child = if path.is_empty() { key } else { format!("{path}.{key}") };
                            self.value(child);
                        }
                    }
                }
                self.i += 1;
            }
            Some(b'[') => {
                self.i += 1;
                let mut n = 0;
                loop {
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b']') | None => break,
                        Some(b',') => self.i += 1,
                        _ => {
                            self.value(format!("{path}[{n}]"));
                            n += 1;
                        }
                    }
                }
                self.i += 1;
            }
            Some(b'"') => {
                self.string();
            }
            _ => {
                while self.i < self.s.len()
                    && !matches!(self.s[self.i], b',' | b'}' | b']')
                    && !self.s[self.i].is_ascii_whitespace()
                {
                    self.i += 1;
                }
            }
        }
    }

    /// Reads a string literal and returns its contents, escapes decoded as
    /// serde decodes them (a key may be spelled `"rul\u0065s"`).
    fn string(&mut self) -> String {
        let start = self.i;
        self.i += 1;
        while self.i < self.s.len() && self.s[self.i] != b'"' {
            self.i += if self.s[self.i] == b'\\' { 2 } else { 1 };
        }
        self.i += 1;
        let literal = &self.s[start..self.i.min(self.s.len())];
        serde_json::from_slice(literal).unwrap_or_else(|_| String::from_utf8_lossy(literal).into_owned())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_and_positions() {
        let s = super::spans("{\n  \"a\": [1, {\"b\": \"x\"}],\n  \"c\": true\n}");
        assert_eq!(s[""], (1, 1));
        assert_eq!(s["a"], (2, 8));
        assert_eq!(s["a[1].b"], (2, 18));
        assert_eq!(s["c"], (3, 8));
        let s = super::spans("{\"rul\\u0065s\": [{\"id\\\"\": 1}]}");
        assert_eq!(s["rules[0]"], (1, 17));
        assert_eq!(s["rules[0].id\""], (1, 26));
    }
}
