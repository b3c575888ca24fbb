//! A [`Reply`] in registers: one status word, then [`RESULT_WORDS`] words of results or error
//! detail. The PPC return path moves these words; the client side decodes them back.
//!
//! Status 0 is success so a transport can test one register; each refusal has its own status so
//! the client learns which branch of the check failed without a second call.

use super::{DispatchError, RESULT_WORDS, Reply};
use crate::{Rights, RightsError, XHandle};

/// Words a reply occupies: the status word and the result (or detail) words.
pub const REPLY_WORDS: usize = 1 + RESULT_WORDS;

/// Status words. Details are in word 1 (and 2), named per status below.
mod status {
    /// Success; words 1.. are the results.
    pub const OK: u64 = 0;
    /// [`RightsError::NoSuchHandle`](crate::RightsError); word 1: the handle.
    pub const NO_SUCH_HANDLE: u64 = 1;
    /// [`RightsError::Stale`](crate::RightsError); word 1: the handle.
    pub const STALE: u64 = 2;
    /// [`RightsError::Lacking`](crate::RightsError); word 1: missing rights, word 2: badge matched.
    pub const LACKING: u64 = 3;
    /// [`RightsError::NotHolder`](crate::RightsError).
    pub const NOT_HOLDER: u64 = 4;
    /// [`RightsError::TableFull`](crate::RightsError).
    pub const TABLE_FULL: u64 = 5;
    /// Unknown method; word 1: the method word.
    pub const UNKNOWN_METHOD: u64 = 6;
    /// Bad argument; word 1: its index.
    pub const BAD_ARGUMENT: u64 = 7;
    /// The method's own error; word 1: the error word.
    pub const METHOD: u64 = 8;
    /// Transport failure; word 1: the transport's code.
    pub const TRANSPORT: u64 = 9;
}

/// Index of the status word.
const STATUS: usize = 0;
/// Index of the first detail word.
const DETAIL: usize = 1;
/// Index of the second detail word.
const DETAIL2: usize = 2;

/// `reply` as registers. Inline for a success (the common case: a server's every call); an
/// error is encoded out of line.
#[inline(always)]
pub fn encode_reply(reply: &Reply) -> [u64; REPLY_WORDS] {
    match reply {
        // Word by word, not a slice copy: the words can then go straight from the results
        // into the registers that carry them (a copy is lowered to `memcpy` through memory).
        Ok(results) => core::array::from_fn(|i| match i {
            STATUS => status::OK,
            _ => results[i - DETAIL],
        }),
        Err(e) => encode_error(*e),
    }
}

/// `encode_reply` of an error.
#[inline(never)]
fn encode_error(e: DispatchError) -> [u64; REPLY_WORDS] {
    let mut words = [0; REPLY_WORDS];
    let (code, detail, detail2) = match e {
        DispatchError::Rights(e) => match e {
            RightsError::NoSuchHandle(h) => (status::NO_SUCH_HANDLE, h.to_word(), 0),
            RightsError::Stale(h) => (status::STALE, h.to_word(), 0),
            RightsError::Lacking {
                missing,
                badge_matched,
            } => (status::LACKING, missing.bits(), u64::from(badge_matched)),
            RightsError::NotHolder => (status::NOT_HOLDER, 0, 0),
            RightsError::TableFull => (status::TABLE_FULL, 0, 0),
        },
        DispatchError::UnknownMethod { method } => (status::UNKNOWN_METHOD, method, 0),
        // Argument indices are below ARG_WORDS, so the widening is lossless.
        DispatchError::BadArgument { index } => (status::BAD_ARGUMENT, index as u64, 0),
        DispatchError::Method(word) => (status::METHOD, word, 0),
        DispatchError::Transport(code) => (status::TRANSPORT, code, 0),
    };
    words[STATUS] = code;
    words[DETAIL] = detail;
    words[DETAIL2] = detail2;
    words
}

/// The reply registers carry, or `None` if the status word is unknown (a server and client built
/// from different interface versions, or a corrupted reply). Inline for a success (a client's
/// every call that works); an error is decoded out of line.
#[inline]
pub fn decode_reply(words: [u64; REPLY_WORDS]) -> Option<Reply> {
    // By destructuring, and an error decoded apart from the reply: neither the words' nor the
    // reply's address is taken, so on success the words stay in the registers the call left
    // them in instead of going through stack copies.
    match words {
        [status::OK, results @ ..] => Some(Ok(results)),
        [code, detail, detail2, ..] => decode_error(code, detail, detail2).map(Err),
    }
}

/// The error of status word `code` (not OK) with its detail words, `None` if the word is unknown.
#[inline(never)]
fn decode_error(code: u64, detail: u64, detail2: u64) -> Option<DispatchError> {
    let rights = |e| Some(DispatchError::Rights(e));
    match code {
        status::NO_SUCH_HANDLE => rights(RightsError::NoSuchHandle(XHandle::from_word(detail))),
        status::STALE => rights(RightsError::Stale(XHandle::from_word(detail))),
        status::LACKING => rights(RightsError::Lacking {
            missing: Rights::from_bits_retain(detail),
            badge_matched: detail2 != 0,
        }),
        status::NOT_HOLDER => rights(RightsError::NotHolder),
        status::TABLE_FULL => rights(RightsError::TableFull),
        status::UNKNOWN_METHOD => Some(DispatchError::UnknownMethod { method: detail }),
        status::BAD_ARGUMENT => Some(DispatchError::BadArgument {
            index: usize::try_from(detail).ok()?,
        }),
        status::METHOD => Some(DispatchError::Method(detail)),
        status::TRANSPORT => Some(DispatchError::Transport(detail)),
        _ => None,
    }
}
