//! `str` predicates that CPython reads from the general category, and `repr()`, which depends
//! on one of them. RustPython 0.5 reads `isalpha()`/`isalnum()` from Unicode's Alphabetic
//! property (so combining marks such as U+0345 counted as letters), and `isprintable()` and
//! `repr()` from Unicode 10 tables (so `repr('\u0560')` escaped a letter). CPython: letters are
//! L*, numbers N*, and everything is printable but C* and Z* (bar the space). The categories come
//! from Unicode 16 data; CPython 3.11's are Unicode 14, so code points assigned since differ.
//!
//! The numeric predicates too: RustPython 0.5's `isdecimal()` reads Unicode 10 data, `isdigit()`
//! knows ASCII and superscripts only, and `isnumeric()` misses the CJK ideographs that have a
//! numeric value. CPython reads the Numeric_Type property: Decimal (category Nd), Digit (the
//! table below) or Numeric (the other N* characters and the ideographs below). Both tables are
//! CPython 3.11's `unicodedata` (Unicode 14); the per-code-point test checks them.
//!
//! `isidentifier()` read Unicode 10's XID properties; it now reads Unicode 16's.

use rustpython::vm::builtins::{PyStr, PyStrRef};
use rustpython::vm::common::wtf8::{Wtf8, Wtf8Buf};
use rustpython::vm::function::{PyMethodDef, PyMethodFlags};
use rustpython::vm::{PyObject, PyRef, PyResult, VirtualMachine};
use unicode_general_category::{GeneralCategory as Category, get_general_category as category};
use unicode_ident::{is_xid_continue, is_xid_start};

use super::replace_methods;

pub(super) fn apply(vm: &VirtualMachine) {
    let m = PyMethodFlags::METHOD;
    let methods = vec![
        PyMethodDef::new_const("isalpha", |s: PyStrRef| all_of(s.as_wtf8(), is_letter), m, None),
        PyMethodDef::new_const(
            "isalnum",
            |s: PyStrRef| all_of(s.as_wtf8(), |c| is_letter(c) || is_number(c)),
            m,
            None,
        ),
        PyMethodDef::new_const(
            "isprintable",
            |s: PyStrRef| s.as_wtf8().is_empty() || all_of(s.as_wtf8(), is_printable),
            m,
            None,
        ),
        PyMethodDef::new_const("isidentifier", |s: PyStrRef| is_identifier(s.as_wtf8()), m, None),
        PyMethodDef::new_const(
            "isdecimal",
            |s: PyStrRef| all_of(s.as_wtf8(), is_decimal),
            m,
            None,
        ),
        PyMethodDef::new_const("isdigit", |s: PyStrRef| all_of(s.as_wtf8(), is_digit), m, None),
        PyMethodDef::new_const(
            "isnumeric",
            |s: PyStrRef| all_of(s.as_wtf8(), is_numeric),
            m,
            None,
        ),
        PyMethodDef::new_const(
            "__repr__",
            |s: PyStrRef, vm: &VirtualMachine| vm.ctx.new_str(repr(s.as_wtf8())),
            m,
            None,
        ),
    ];
    vm.ctx.types.str_type.slots.repr.store(Some(repr_slot));
    replace_methods(vm, vm.ctx.types.str_type, methods);
}

/// Whether `text` is not empty and every code point in it (a lone surrogate is never) satisfies
/// `test`.
fn all_of(text: &Wtf8, test: impl Fn(char) -> bool) -> bool {
    !text.is_empty() && text.code_points().all(|c| c.to_char().is_some_and(&test))
}

/// CPython's `Py_UNICODE_ISALPHA`: general category Lu, Ll, Lt, Lm or Lo.
fn is_letter(c: char) -> bool {
    use Category::*;
    matches!(
        category(c),
        UppercaseLetter | LowercaseLetter | TitlecaseLetter | ModifierLetter | OtherLetter
    )
}

/// Category Nd, Nl or No: the characters with a numeric value, bar the CJK ideographs that are
/// letters anyway (so a letter or a number is CPython's `Py_UNICODE_ISALNUM`).
fn is_number(c: char) -> bool {
    use Category::*;
    matches!(category(c), DecimalNumber | LetterNumber | OtherNumber)
}

/// Numeric_Type=Digit: digits that are not decimal (superscripts, circled digits, ...).
const DIGITS: &[(char, char)] = &[
    ('\u{00b2}', '\u{00b3}'),
    ('\u{00b9}', '\u{00b9}'),
    ('\u{1369}', '\u{1371}'),
    ('\u{19da}', '\u{19da}'),
    ('\u{2070}', '\u{2070}'),
    ('\u{2074}', '\u{2079}'),
    ('\u{2080}', '\u{2089}'),
    ('\u{2460}', '\u{2468}'),
    ('\u{2474}', '\u{247c}'),
    ('\u{2488}', '\u{2490}'),
    ('\u{24ea}', '\u{24ea}'),
    ('\u{24f5}', '\u{24fd}'),
    ('\u{24ff}', '\u{24ff}'),
    ('\u{2776}', '\u{277e}'),
    ('\u{2780}', '\u{2788}'),
    ('\u{278a}', '\u{2792}'),
    ('\u{10a40}', '\u{10a43}'),
    ('\u{10e60}', '\u{10e68}'),
    ('\u{11052}', '\u{1105a}'),
    ('\u{1f100}', '\u{1f10a}'),
];

/// Numeric_Type=Numeric outside the N* categories: CJK ideographs (category Lo).
const NUMERIC_IDEOGRAPHS: &[char] = &[
    '\u{3405}',
    '\u{3483}',
    '\u{382a}',
    '\u{3b4d}',
    '\u{4e00}',
    '\u{4e03}',
    '\u{4e07}',
    '\u{4e09}',
    '\u{4e5d}',
    '\u{4e8c}',
    '\u{4e94}',
    '\u{4e96}',
    '\u{4ebf}',
    '\u{4ec0}',
    '\u{4edf}',
    '\u{4ee8}',
    '\u{4f0d}',
    '\u{4f70}',
    '\u{5104}',
    '\u{5146}',
    '\u{5169}',
    '\u{516b}',
    '\u{516d}',
    '\u{5341}',
    '\u{5343}',
    '\u{5344}',
    '\u{5345}',
    '\u{534c}',
    '\u{53c1}',
    '\u{53c2}',
    '\u{53c3}',
    '\u{53c4}',
    '\u{56db}',
    '\u{58f1}',
    '\u{58f9}',
    '\u{5e7a}',
    '\u{5efe}',
    '\u{5eff}',
    '\u{5f0c}',
    '\u{5f0d}',
    '\u{5f0e}',
    '\u{5f10}',
    '\u{62fe}',
    '\u{634c}',
    '\u{67d2}',
    '\u{6f06}',
    '\u{7396}',
    '\u{767e}',
    '\u{8086}',
    '\u{842c}',
    '\u{8cae}',
    '\u{8cb3}',
    '\u{8d30}',
    '\u{9621}',
    '\u{9646}',
    '\u{964c}',
    '\u{9678}',
    '\u{96f6}',
    '\u{f96b}',
    '\u{f973}',
    '\u{f978}',
    '\u{f9b2}',
    '\u{f9d1}',
    '\u{f9d3}',
    '\u{f9fd}',
    '\u{20001}',
    '\u{20064}',
    '\u{200e2}',
    '\u{20121}',
    '\u{2092a}',
    '\u{20983}',
    '\u{2098c}',
    '\u{2099c}',
    '\u{20aea}',
    '\u{20afd}',
    '\u{20b19}',
    '\u{22390}',
    '\u{22998}',
    '\u{23b1b}',
    '\u{2626d}',
    '\u{2f890}',
];

/// Numeric_Type=Decimal: category Nd.
fn is_decimal(c: char) -> bool {
    category(c) == Category::DecimalNumber
}

/// The value of a decimal digit. Unicode assigns decimal digits only in contiguous runs of ten,
/// from 0 to 9 (a stability policy), so the value is the digit's place in its run.
pub(super) fn decimal_value(c: char) -> Option<u8> {
    if !is_decimal(c) {
        return None;
    }
    let before = (1..)
        .map_while(|back| char::from_u32(u32::from(c) - back).filter(|&p| is_decimal(p)))
        .count();
    Some((before % 10) as u8)
}

fn is_digit(c: char) -> bool {
    is_decimal(c) || DIGITS.iter().any(|&(from, to)| (from..=to).contains(&c))
}

fn is_numeric(c: char) -> bool {
    is_number(c) || NUMERIC_IDEOGRAPHS.binary_search(&c).is_ok()
}

/// CPython's `str.isidentifier`: XID_Start or `_`, then XID_Continue. `unicode-ident` also
/// answers yes for unassigned code points of the ideograph planes (2 and 3); the category rules
/// them out, as CPython's tables do.
fn is_identifier(text: &Wtf8) -> bool {
    let assigned = |c: char| category(c) != Category::Unassigned;
    let mut chars = text.code_points().map(|c| c.to_char());
    matches!(chars.next(), Some(Some(c)) if c == '_' || (is_xid_start(c) && assigned(c)))
        && chars.all(|c| c.is_some_and(|c| is_xid_continue(c) && assigned(c)))
}

/// CPython's `Py_UNICODE_ISPRINTABLE`: the space, and everything outside categories C* and Z*.
fn is_printable(c: char) -> bool {
    use Category::*;
    c == ' '
        || !matches!(
            category(c),
            Control
                | Format
                | Surrogate
                | PrivateUse
                | Unassigned
                | LineSeparator
                | ParagraphSeparator
                | SpaceSeparator
        )
}

fn repr_slot(s: &PyObject, vm: &VirtualMachine) -> PyResult<PyRef<PyStr>> {
    let s = s
        .downcast_ref::<PyStr>()
        .ok_or_else(|| vm.new_type_error("descriptor '__repr__' requires a 'str' object"))?;
    Ok(vm.ctx.new_str(repr(s.as_wtf8())))
}

/// CPython's `unicode_repr`: single quotes unless the text holds one and no double quote;
/// backslash escapes for the quote, the backslash, tab, newline and return; `\xNN` for other
/// control characters; non-ASCII as it is when printable, else `\xNN`, `\uNNNN` or `\UNNNNNNNN`.
fn repr(text: &Wtf8) -> Wtf8Buf {
    let has = |c: char| text.code_points().any(|p| p.to_u32() == u32::from(c));
    let quote = if has('\'') && !has('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for point in text.code_points() {
        let code = point.to_u32();
        match point.to_char() {
            Some(c) if c == quote || c == '\\' => {
                out.push('\\');
                out.push(c);
            }
            Some('\t') => out.push_str("\\t"),
            Some('\n') => out.push_str("\\n"),
            Some('\r') => out.push_str("\\r"),
            Some(c) if c < ' ' || c == '\x7f' => out.push_str(&format!("\\x{code:02x}")),
            Some(c) if c.is_ascii() || is_printable(c) => out.push(c),
            _ if code <= 0xff => out.push_str(&format!("\\x{code:02x}")),
            _ if code <= 0xffff => out.push_str(&format!("\\u{code:04x}")),
            _ => out.push_str(&format!("\\U{code:08x}")),
        }
    }
    out.push(quote);
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> &Wtf8 {
        s.into()
    }

    #[test]
    fn letters_numbers_and_printables_by_general_category() {
        assert!(all_of(w("aǅ\u{02b0}ª"), is_letter));
        assert!(!all_of(w("a\u{0345}"), is_letter));
        assert!(all_of(w("٣Ⅻ½"), is_number));
        assert!(all_of(w("\u{0560} à"), is_printable));
        assert!(!all_of(w("\u{a0}"), is_printable));
        assert!(!all_of(w(""), is_letter));
    }

    #[test]
    fn numeric_types() {
        assert_eq!(decimal_value('٣'), Some(3));
        assert_eq!(decimal_value('\u{1d7ff}'), Some(9));
        assert_eq!(decimal_value('\u{1d7ce}'), Some(0));
        assert_eq!(decimal_value('²'), None);
        assert!(all_of(w("١²①"), is_digit));
        assert!(!all_of(w("½"), is_digit));
        assert!(all_of(w("½一Ⅻ٣"), is_numeric));
        assert!(!all_of(w("a"), is_numeric));
    }

    #[test]
    fn identifiers() {
        assert!(is_identifier(w("_ab1")));
        assert!(is_identifier(w("\u{0560}x")));
        assert!(!is_identifier(w("1a")));
        assert!(!is_identifier(w("")));
        assert!(!is_identifier(w("a-b")));
        assert!(!is_identifier(w("\u{3fffd}")));
    }

    #[test]
    fn repr_escapes_what_is_not_printable() {
        assert_eq!(repr(w("a'b")).to_string_lossy(), "\"a'b\"");
        assert_eq!(repr(w("a'\"\\")).to_string_lossy(), "'a\\'\"\\\\'");
        assert_eq!(
            repr(w("\t\x00\x7f\u{a0}\u{0560}\u{e000}\u{10ffff}")).to_string_lossy(),
            "'\\t\\x00\\x7f\\xa0\u{0560}\\ue000\\U0010ffff'"
        );
    }
}
