//! `str` methods where RustPython 0.5 departs from CPython on non-ASCII text. Each replacement
//! follows CPython's `unicodeobject.c` algorithm, with Rust's Unicode tables (as RustPython's
//! other methods use), so what remains is the Unicode version (docs/python-compatibility.md).
//!
//! - `split()`/`rsplit()` without a separator split on ASCII whitespace only, and
//!   `strip()`/`lstrip()`/`rstrip()` without characters miss U+001C..U+001F: both now use
//!   CPython's whitespace, the code points where `str.isspace()` is true.
//! - `islower()`/`isupper()` ignore titlecase letters (`'ǅa'.islower()` was true).
//! - `title()` keeps an uppercase letter that starts a word instead of titlecasing it (`'Ǆ'`), and
//!   neither it nor `capitalize()` applies the final sigma (`'AΣ'.title()` is `'Aς'`).
//! - `swapcase()` swapped ASCII letters only.
//! - `zfill()` counted UTF-8 bytes instead of characters.

use rustpython::vm::builtins::{PyStr, PyStrRef};
use rustpython::vm::common::wtf8::{CodePoint, Wtf8, Wtf8Buf};
use rustpython::vm::function::{FuncArgs, PyMethodDef, PyMethodFlags};
use rustpython::vm::{AsObject, PyObjectRef, PyResult, VirtualMachine};
use unicode_casing::CharExt;

use super::replace_methods;

pub(super) fn apply(vm: &VirtualMachine) {
    let m = PyMethodFlags::METHOD;
    let methods = vec![
        PyMethodDef::new_const(
            "split",
            |s: PyStrRef, a: FuncArgs, vm: &VirtualMachine| split(&s, a, false, vm),
            m,
            None,
        ),
        PyMethodDef::new_const(
            "rsplit",
            |s: PyStrRef, a: FuncArgs, vm: &VirtualMachine| split(&s, a, true, vm),
            m,
            None,
        ),
        PyMethodDef::new_const(
            "strip",
            |s: PyStrRef, a: FuncArgs, vm: &VirtualMachine| strip(s, a, Ends::Both, vm),
            m,
            None,
        ),
        PyMethodDef::new_const(
            "lstrip",
            |s: PyStrRef, a: FuncArgs, vm: &VirtualMachine| strip(s, a, Ends::Start, vm),
            m,
            None,
        ),
        PyMethodDef::new_const(
            "rstrip",
            |s: PyStrRef, a: FuncArgs, vm: &VirtualMachine| strip(s, a, Ends::End, vm),
            m,
            None,
        ),
        PyMethodDef::new_const(
            "islower",
            |s: PyStrRef| is_cased_as(s.as_wtf8(), Case::Lower),
            m,
            None,
        ),
        PyMethodDef::new_const(
            "isupper",
            |s: PyStrRef| is_cased_as(s.as_wtf8(), Case::Upper),
            m,
            None,
        ),
        PyMethodDef::new_const("title", |s: PyStrRef| title(s.as_wtf8()), m, None),
        PyMethodDef::new_const("capitalize", |s: PyStrRef| capitalize(s.as_wtf8()), m, None),
        PyMethodDef::new_const("swapcase", |s: PyStrRef| swapcase(s.as_wtf8()), m, None),
        PyMethodDef::new_const("zfill", zfill, m, None),
    ];
    replace_methods(vm, vm.ctx.types.str_type, methods);
}

/// CPython's `Py_UNICODE_ISSPACE`: bidirectional class WS, B or S, or category Zs. The set has
/// been stable since Unicode 6.3 (which took U+180E out).
pub(super) fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t'..='\r'
            | '\u{1c}'..=' '
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

fn is_space_point(c: CodePoint) -> bool {
    c.to_char().is_some_and(is_space)
}

/// The arguments of `split`/`rsplit` (`sep=None, maxsplit=-1`).
fn split_args(mut args: FuncArgs, name: &str, vm: &VirtualMachine) -> PyResult<(Option<PyStrRef>, isize)> {
    let sep = args.take_positional_keyword("sep");
    let maxsplit = args.take_positional_keyword("maxsplit");
    no_more_args(&args, name, 2, vm)?;
    let sep =
        match sep {
            Some(sep) if !vm.is_none(&sep) => Some(sep.downcast::<PyStr>().map_err(|sep| {
                vm.new_type_error(format!("must be str or None, not {}", sep.class().name()))
            })?),
            _ => None,
        };
    let maxsplit = match maxsplit {
        Some(n) => n
            .try_index(vm)?
            .try_to_primitive::<isize>(vm)
            .map_err(|_| vm.new_overflow_error("Python int too large to convert to C ssize_t"))?,
        None => -1,
    };
    Ok((sep, maxsplit))
}

fn no_more_args(args: &FuncArgs, name: &str, at_most: usize, vm: &VirtualMachine) -> PyResult<()> {
    if let Some(keyword) = args.kwargs.keys().next() {
        return Err(vm.new_type_error(format!("'{keyword}' is an invalid keyword argument for {name}()")));
    }
    if !args.args.is_empty() {
        return Err(vm.new_type_error(format!(
            "{name}() takes at most {at_most} arguments ({} given)",
            at_most + args.args.len()
        )));
    }
    Ok(())
}

fn split(s: &PyStr, args: FuncArgs, from_end: bool, vm: &VirtualMachine) -> PyResult<Vec<PyObjectRef>> {
    let (sep, maxsplit) = split_args(args, if from_end { "rsplit" } else { "split" }, vm)?;
    let text = s.as_wtf8();
    let new = |part: &Wtf8| -> PyObjectRef { vm.ctx.new_str(part.to_owned()).into() };
    let Some(sep) = sep else {
        let parts = split_whitespace(text, maxsplit, from_end);
        return Ok(parts.into_iter().map(new).collect());
    };
    let sep = sep.as_wtf8();
    if sep.is_empty() {
        return Err(vm.new_value_error("empty separator"));
    }
    let limit = usize::try_from(maxsplit).ok().map(|n| n.saturating_add(1));
    let mut parts: Vec<PyObjectRef> = match (limit, from_end) {
        (None, false) => text.split(sep).map(new).collect(),
        (None, true) => text.rsplit(sep).map(new).collect(),
        (Some(n), false) => text.splitn(n, sep).map(new).collect(),
        (Some(n), true) => text.rsplitn(n, sep).map(new).collect(),
    };
    if from_end {
        parts.reverse();
    }
    Ok(parts)
}

/// CPython's `split_whitespace`/`rsplit_whitespace`: runs of whitespace separate the parts,
/// none is empty, and after `maxsplit` splits (when it is not negative) the rest is one part
/// with its leading (trailing, from the end) whitespace removed.
fn split_whitespace(text: &Wtf8, maxsplit: isize, from_end: bool) -> Vec<&Wtf8> {
    let mut bounds: Vec<(usize, bool)> = text
        .code_point_indices()
        .map(|(at, c)| (at, is_space_point(c)))
        .collect();
    if from_end {
        bounds.reverse();
    }
    let end = text.len();
    // The byte range of the code points `from..to` (in walking order).
    let span = |from: usize, to: usize| -> &Wtf8 {
        if from_end {
            let start = bounds[to - 1].0;
            let stop = if from == 0 { end } else { bounds[from - 1].0 };
            &text[start..stop]
        } else {
            let stop = bounds.get(to).map_or(end, |b| b.0);
            &text[bounds[from].0..stop]
        }
    };
    let (n, mut i) = (bounds.len(), 0);
    let mut parts = Vec::new();
    let mut splits_left = if maxsplit < 0 {
        usize::MAX
    } else {
        maxsplit.unsigned_abs()
    };
    while splits_left > 0 {
        splits_left -= 1;
        while i < n && bounds[i].1 {
            i += 1;
        }
        if i == n {
            break;
        }
        let j = i;
        while i < n && !bounds[i].1 {
            i += 1;
        }
        parts.push(span(j, i));
    }
    while i < n && bounds[i].1 {
        i += 1;
    }
    if i < n {
        parts.push(span(i, n));
    }
    if from_end {
        parts.reverse();
    }
    parts
}

#[derive(Clone, Copy)]
enum Ends {
    Both,
    Start,
    End,
}

fn strip(s: PyStrRef, mut args: FuncArgs, ends: Ends, vm: &VirtualMachine) -> PyResult<PyStrRef> {
    let name = match ends {
        Ends::Both => "strip",
        Ends::Start => "lstrip",
        Ends::End => "rstrip",
    };
    if !args.kwargs.is_empty() {
        return Err(vm.new_type_error(format!("str.{name}() takes no keyword arguments")));
    }
    if args.args.len() > 1 {
        return Err(vm.new_type_error(format!(
            "{name} expected at most 1 argument, got {}",
            args.args.len()
        )));
    }
    let chars = args.take_positional();
    let chars = match chars {
        Some(chars) if !vm.is_none(&chars) => Some(
            chars
                .downcast::<PyStr>()
                .map_err(|_| vm.new_type_error(format!("{name} arg must be None or str")))?,
        ),
        _ => None,
    };
    let text = s.as_wtf8();
    let stripped = match &chars {
        None => trim(text, ends, is_space_point),
        Some(chars) => trim(text, ends, |c| chars.as_wtf8().contains_code_point(c)),
    };
    if stripped.len() == text.len() && s.class().is(vm.ctx.types.str_type) {
        return Ok(s);
    }
    Ok(vm.ctx.new_str(stripped.to_owned()))
}

fn trim(text: &Wtf8, ends: Ends, strip: impl Fn(CodePoint) -> bool) -> &Wtf8 {
    match ends {
        Ends::Both => text.trim_matches(strip),
        Ends::Start => text.trim_start_matches(strip),
        Ends::End => text.trim_end_matches(strip),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Case {
    Lower,
    Upper,
}

/// CPython's `islower`/`isupper`: no letter of the other case and no titlecase letter, and at
/// least one of the case asked for.
fn is_cased_as(text: &Wtf8, case: Case) -> bool {
    let mut cased = false;
    for c in text.code_points().filter_map(CodePoint::to_char) {
        let (this, other) = match case {
            Case::Lower => (c.is_lowercase(), c.is_uppercase()),
            Case::Upper => (c.is_uppercase(), c.is_lowercase()),
        };
        if other || c.is_titlecase() {
            return false;
        }
        cased |= this;
    }
    cased
}

/// Unicode's `Cased` property, as CPython's `_PyUnicode_IsCased` reads it.
fn is_cased(c: char) -> bool {
    c.is_lowercase() || c.is_uppercase() || c.is_titlecase()
}

/// Full lowercase mappings with the final sigma: a capital sigma lowercases to `ς` where it ends
/// a word, by the `Final_Sigma` context of Unicode's chapter 3 (CPython's `handle_capital_sigma`).
struct Lowercaser {
    /// For each capital sigma of the text, in order, whether it is final.
    sigmas: std::vec::IntoIter<bool>,
}

impl Lowercaser {
    fn new(text: &Wtf8) -> Self {
        Self {
            sigmas: final_sigmas(&text.to_string_lossy()).into_iter(),
        }
    }

    /// Pushes the lowercase of `c`; call it, or [`Self::skip`], for every code point in order.
    fn push(&mut self, out: &mut Wtf8Buf, c: char) {
        if c == 'Σ' {
            out.push_char(if self.sigmas.next().unwrap_or(false) {
                'ς'
            } else {
                'σ'
            });
        } else {
            out.extend(c.to_lowercase());
        }
    }

    fn skip(&mut self, c: char) {
        if c == 'Σ' {
            self.sigmas.next();
        }
    }
}

/// Whether each capital sigma of `text` is final. Rust's `str::to_lowercase` implements the
/// `Final_Sigma` context over the whole string (Cased and Case_Ignorable); every other code point
/// lowercases alone, so the sigma's place in the lowercased text follows from its predecessors'.
/// A lone surrogate (read here as U+FFFD) is neither cased nor case-ignorable, as in CPython.
fn final_sigmas(text: &str) -> Vec<bool> {
    if !text.contains('Σ') {
        return Vec::new();
    }
    let lower = text.to_lowercase();
    let mut at = 0;
    let mut sigmas = Vec::new();
    for c in text.chars() {
        if c == 'Σ' {
            sigmas.push(lower[at..].starts_with('ς'));
            at += 'σ'.len_utf8();
        } else {
            at += c.to_lowercase().map(char::len_utf8).sum::<usize>();
        }
    }
    sigmas
}

/// Applies `map` to every code point that is a character; lone surrogates stay as they are.
fn map_chars(text: &Wtf8, mut map: impl FnMut(&mut Wtf8Buf, char)) -> Wtf8Buf {
    let mut out = Wtf8Buf::with_capacity(text.len());
    for point in text.code_points() {
        match point.to_char() {
            Some(c) => map(&mut out, c),
            None => out.push(point),
        }
    }
    out
}

/// CPython's `title`: a character after a cased one is lowercased, any other titlecased.
fn title(text: &Wtf8) -> Wtf8Buf {
    let mut lower = Lowercaser::new(text);
    let mut previous_cased = false;
    map_chars(text, |out, c| {
        if previous_cased {
            lower.push(out, c);
        } else {
            lower.skip(c);
            out.extend(c.to_titlecase());
        }
        previous_cased = is_cased(c);
    })
}

/// CPython's `capitalize` (3.8 on): the first character titlecased, the rest lowercased.
fn capitalize(text: &Wtf8) -> Wtf8Buf {
    let mut lower = Lowercaser::new(text);
    let mut first = true;
    map_chars(text, |out, c| {
        if std::mem::take(&mut first) {
            lower.skip(c);
            out.extend(c.to_titlecase());
        } else {
            lower.push(out, c);
        }
    })
}

/// CPython's `swapcase`: uppercase letters lowercased, lowercase ones uppercased (full mappings).
fn swapcase(text: &Wtf8) -> Wtf8Buf {
    let mut lower = Lowercaser::new(text);
    map_chars(text, |out, c| {
        if c.is_uppercase() {
            lower.push(out, c);
        } else {
            lower.skip(c);
            if c.is_lowercase() {
                out.extend(c.to_uppercase());
            } else {
                out.push_char(c);
            }
        }
    })
}

/// CPython's `zfill`: zeros on the left to `width` characters, after a leading sign.
fn zfill(s: PyStrRef, width: isize, vm: &VirtualMachine) -> PyStrRef {
    let text = s.as_wtf8();
    let length = text.code_points().count();
    let Some(fill) = usize::try_from(width)
        .ok()
        .and_then(|w| w.checked_sub(length))
        .filter(|&f| f > 0)
    else {
        return if s.class().is(vm.ctx.types.str_type) {
            s
        } else {
            vm.ctx.new_str(text.to_owned())
        };
    };
    let mut out = Wtf8Buf::with_capacity(text.len() + fill);
    let rest = match text.code_points().next().and_then(CodePoint::to_char) {
        Some(sign @ ('+' | '-')) => {
            out.push_char(sign);
            &text[1..]
        }
        _ => text,
    };
    out.push_str(&"0".repeat(fill));
    out.push_wtf8(rest);
    vm.ctx.new_str(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> &Wtf8 {
        s.into()
    }

    fn parts(text: &str, maxsplit: isize, from_end: bool) -> Vec<String> {
        split_whitespace(w(text), maxsplit, from_end)
            .into_iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn whitespace_splits_as_on_cpython() {
        assert_eq!(parts(" a\u{85}b\u{3000}\u{a0}c ", -1, false), ["a", "b", "c"]);
        assert_eq!(parts("  a b  c  ", 1, false), ["a", "b  c  "]);
        assert_eq!(parts("  a b  c  ", 1, true), ["  a b", "c"]);
        assert_eq!(parts("  a b  c  ", 0, false), ["a b  c  "]);
        assert_eq!(parts("  a b  c  ", 0, true), ["  a b  c"]);
        assert_eq!(parts("\u{1c}\u{1f}", -1, false), Vec::<String>::new());
        assert_eq!(parts("é", -1, true), ["é"]);
    }

    #[test]
    fn the_final_sigma_depends_on_both_neighbours() {
        assert_eq!(final_sigmas("AΣ"), [true]);
        assert_eq!(final_sigmas("Σ"), [false]);
        assert_eq!(final_sigmas("AΣB"), [false]);
        assert_eq!(final_sigmas("A'Σ'"), [true]);
        assert_eq!(final_sigmas("ΣΣ ΣİΣ"), [false, true, false, true]);
        assert_eq!(title(w("ΣΑΣ ΣΑΣ")).to_string_lossy(), "Σας Σας");
        assert_eq!(capitalize(w("ΑΣ")).to_string_lossy(), "Ας");
        assert_eq!(swapcase(w("aΣ àß")).to_string_lossy(), "Aς ÀSS");
    }

    #[test]
    fn titlecase_letters_are_neither_lower_nor_upper() {
        assert!(!is_cased_as(w("ǅa"), Case::Lower));
        assert!(!is_cased_as(w("ǅA"), Case::Upper));
        assert!(is_cased_as(w("a1"), Case::Lower));
        assert!(!is_cased_as(w("1"), Case::Upper));
        assert_eq!(title(w("ǆa Ǆ")).to_string_lossy(), "ǅa ǅ");
    }
}
