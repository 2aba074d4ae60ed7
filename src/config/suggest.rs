//! "Did you mean" for unknown words in a configuration (keywords, options,
//! actions, fetches, converters): the known word closest to the typo, when
//! it is close enough to be one, in HAProxy's phrasing (`; did you mean 'X'
//! maybe ?`). Closeness is the number of single-character edits (insert,
//! delete, replace, swap two neighbours) between the two words, allowed to
//! grow with the word's length.

/// Edits between `a` and `b` (optimal string alignment distance).
fn distance(a: &[u8], b: &[u8]) -> usize {
    let (n, m) = (a.len(), b.len());
    // Three rows: the one before the previous, the previous, the current.
    let mut two: Vec<usize> = vec![0; m + 1];
    let mut prev: Vec<usize> = (0..=m).collect();
    let mut cur = vec![0; m + 1];
    for i in 1..=n {
        cur[0] = i;
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(two[j - 2] + 1);
            }
            cur[j] = d;
        }
        std::mem::swap(&mut two, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[m]
}

/// The candidate closest to `word`, if it is close enough to be a typo of
/// it: one edit for short words, up to three for long ones.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let allowed = ((word.len() + 2) / 4).clamp(1, 3);
    let w = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .filter(|c| !c.eq_ignore_ascii_case(word))
        .map(|c| (distance(w.as_bytes(), c.as_bytes()), c))
        .filter(|&(d, _)| d <= allowed)
        .min_by_key(|&(d, c)| (d, c.len()))
        .map(|(_, c)| c)
}

/// `; did you mean 'X' maybe ?` when a candidate is close, else nothing.
pub(crate) fn hint<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(word, candidates)
        .map(|c| format!("; did you mean '{c}' maybe ?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_word_and_others_nothing() {
        let words = [
            "balance",
            "bind",
            "maxconn",
            "timeout",
            "default_backend",
            "mode",
        ];
        assert_eq!(closest("balanse", words), Some("balance"));
        assert_eq!(closest("maxcon", words), Some("maxconn"));
        assert_eq!(closest("defualt_backend", words), Some("default_backend"));
        assert_eq!(closest("tmieout", words), Some("timeout"));
        assert_eq!(closest("frobnicate", words), None);
        assert_eq!(closest("x", words), None);
        assert_eq!(closest("", words), None);
        assert_eq!(hint("bnd", words), "; did you mean 'bind' maybe ?");
        assert_eq!(hint("zzzz", words), "");
    }

    #[test]
    fn distance_counts_single_edits() {
        assert_eq!(distance(b"", b"abc"), 3);
        assert_eq!(distance(b"abc", b"abc"), 0);
        assert_eq!(distance(b"abc", b"acb"), 1);
        assert_eq!(distance(b"kitten", b"sitting"), 3);
    }
}
