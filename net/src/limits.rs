//! The documented bounds on sizes that come from flags and files, and the one way error
//! messages quote text taken from a file.
//!
//! Every size a user or a file gives is checked against these before anything of that size is
//! allocated:
//!
//! | bound | value | applies to |
//! |---|---|---|
//! | [`MAX_CLASSES`] | 65,536 | class labels of every data set, the class count of a model |
//! | [`MAX_LAYERS`] | 64 | layers of a model (`--hidden` sizes + 1, a model file's `W1, W2, ...`) |
//! | [`MAX_DATA_FILE_BYTES`] | 4 GiB | bytes read from one data file (after gunzipping) |
//! | [`MAX_CSV_LINE_BYTES`] | 16 MiB | one CSV line |
//! | [`MAX_MODEL_DATA_BYTES`] | 16 GiB | the tensor data a model or state file announces |
//! | [`CIFAR10_MAX_RECORDS`](crate::data::CIFAR10_MAX_RECORDS) | 100,000 | records in one CIFAR-10 file |
//! | [`SPIRAL_MAX_POINTS`](crate::data::SPIRAL_MAX_POINTS) | 1,000,000 | points of a generated spiral |
//! | an IDX header's announced size | at most [`MAX_DATA_FILE_BYTES`] | bytes read (and inflated) from an IDX file |
//! | [`MAX_PICTURE_FILE_BYTES`] | 64 MiB | one PNG or JPEG file given to `tapegrad predict` |
//! | [`MAX_PICTURE_SIDE`] | 16,384 | a picture's width and height, from its header, before decoding |
//! | [`MAX_PICTURE_DECODED_BYTES`] | 512 MiB | the memory a picture's decoder may allocate |
//! | the machine's memory | see [`crate::memory`] | the memory a net needs to train |

/// The largest class count a data set or a model may have: labels are `0..MAX_CLASSES`.
/// Larger counts are refused as absurd (no data set this crate reads comes close).
pub const MAX_CLASSES: usize = 65_536;

/// The most layers a model may have (hidden layers + 1): far deeper than a plain MLP trains
/// well, and a bound on the tensors looked for in a model file.
pub const MAX_LAYERS: usize = 64;

/// The most bytes read from one data file, counted after gunzipping; a larger (or endless)
/// file is refused once this many bytes have been read.
pub const MAX_DATA_FILE_BYTES: u64 = 4 << 30;

/// The longest CSV line, in bytes (about a million features); longer lines are refused
/// before the rest of the line is read, so an endless line (`/dev/zero`) stops here.
pub const MAX_CSV_LINE_BYTES: u64 = 16 << 20;

/// The most tensor data a model or run-state file may announce in its header. Only this
/// much (plus the header) is ever read from such a file.
pub const MAX_MODEL_DATA_BYTES: u64 = 16 << 30;

/// The most bytes read from one picture (PNG or JPEG) that `tapegrad predict` scores; a
/// larger file is refused once this many bytes have been read.
pub const MAX_PICTURE_FILE_BYTES: u64 = 64 << 20;

/// The widest and tallest picture decoded, in pixels: the decoder checks the header's size
/// against it before it allocates the image.
pub const MAX_PICTURE_SIDE: u32 = 16_384;

/// The most memory a picture's decoder may allocate (a 16,384 x 8,192 RGBA image).
pub const MAX_PICTURE_DECODED_BYTES: u64 = 512 << 20;

/// The most characters of a file's text that an error message quotes.
const QUOTE_CHARS: usize = 80;

/// `text` as error messages quote it: control characters (newline, ESC, NUL, ...) escaped as
/// `\n`, `\u{1b}`, ..., so that a message shows them instead of acting on the terminal, and
/// cut after 80 characters with `…`.
///
/// ```
/// use tapegrad_net::limits::quote;
/// assert_eq!(quote("ab\u{1b}[31m\n"), "ab\\u{1b}[31m\\n");
/// assert_eq!(quote(&"x".repeat(100)).chars().count(), 81);
/// ```
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4 * QUOTE_CHARS));
    for (i, c) in text.chars().enumerate() {
        if i == QUOTE_CHARS {
            out.push('…');
            break;
        }
        push_escaped(&mut out, c);
    }
    out
}

/// `text` with control characters (C0, DEL, C1) and the invisible characters that reorder
/// text (bidirectional marks, overrides and isolates) written as escapes: `\n`, `\t`, `\r`,
/// or `\u{1b}`. What a message shows of a file's text or a path goes through this (or
/// [`quote`], which also shortens), so that nothing from a file acts on the terminal.
pub fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    out
}

/// Appends `c`, as an escape if it is a control or text-reordering character.
fn push_escaped(out: &mut String, c: char) {
    let reorders =
        matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if c.is_control() || reorders {
        out.extend(c.escape_default());
    } else {
        out.push(c);
    }
}

/// Checks a class count: `Err` says why it is not in `1..=MAX_CLASSES`.
pub(crate) fn check_classes(classes: usize) -> Result<(), String> {
    if classes == 0 {
        Err("zero classes".to_owned())
    } else if classes > MAX_CLASSES {
        Err(format!(
            "{classes} classes, more than the limit of {MAX_CLASSES}"
        ))
    } else {
        Ok(())
    }
}
