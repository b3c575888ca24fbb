//! The shapes of one object call on either side: the server's [`Interface`] (what a generated
//! dispatch implements), the client's [`Transport`] (what a generated client stub calls through),
//! and the errors between them. Encoding into registers is in `reply.rs`.

use core::fmt;

use super::{ARG_WORDS, RESULT_WORDS, Results, Word};
use crate::{Badge, RightsError, XHandle, XObjectTable};

/// Why a call produced no results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DispatchError {
    /// The handle lookup or the rights check refused the call; the method never ran.
    Rights(RightsError),
    /// The method word names no method of the handle's interface.
    UnknownMethod {
        /// The method word as received.
        method: u64,
    },
    /// Argument word `index` is not a valid value of the declared type; the method never ran.
    BadArgument {
        /// Position among the argument words.
        index: usize,
    },
    /// The method ran and returned its own error, as a word.
    Method(u64),
    /// The call never reached a dispatcher; the code is the transport's (e.g. no such server).
    Transport(u64),
}

impl fmt::Display for DispatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rights(e) => write!(f, "{e}"),
            Self::UnknownMethod { method } => write!(f, "unknown method {method:#x}"),
            Self::BadArgument { index } => write!(f, "bad argument word {index}"),
            Self::Method(word) => write!(f, "method error {word:#x}"),
            Self::Transport(code) => write!(f, "transport error {code:#x}"),
        }
    }
}

impl core::error::Error for DispatchError {}

/// A server's answer to one call.
pub type Reply = Result<[u64; RESULT_WORDS], DispatchError>;

/// A server-side interface: the generated `<Trait>Server<S>` implements it, so a server loop can be
/// generic over the interfaces it serves.
pub trait Interface {
    /// The interface id, the high half of every method word of the interface.
    const ID: u32;
    /// The interface's name, for logs.
    const NAME: &'static str;
    /// The object type the server keeps in its table.
    type Target;
    /// Looks `handle` up with the method's rights, demarshals `args`, runs the method and
    /// marshals its result.
    fn dispatch(
        table: &mut XObjectTable<Self::Target>,
        badge: Badge,
        handle: XHandle,
        method: u64,
        args: &[u64; ARG_WORDS],
    ) -> Reply;
}

/// How a client stub reaches a server: a PPC in the OS, a direct call into a dispatch in tests.
/// The transport, not the client, supplies the badge.
pub trait Transport {
    /// Makes one call and returns the server's reply.
    fn call(&mut self, handle: XHandle, method: u64, args: &[u64; ARG_WORDS]) -> Reply;
}

impl<T: Transport + ?Sized> Transport for &mut T {
    fn call(&mut self, handle: XHandle, method: u64, args: &[u64; ARG_WORDS]) -> Reply {
        (**self).call(handle, method, args)
    }
}

/// Why a client stub call failed, with the method's own error typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallError<E> {
    /// The method ran and returned this error.
    Method(E),
    /// The call was refused before the method ran (or never arrived); never
    /// [`DispatchError::Method`], which becomes [`CallError::Method`] or [`CallError::BadReply`].
    Failed(DispatchError),
    /// The reply's words are not valid values of the declared result or error type: client and
    /// server disagree on the interface.
    BadReply,
}

impl<E: fmt::Debug> fmt::Display for CallError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Method(e) => write!(f, "method failed: {e:?}"),
            Self::Failed(e) => write!(f, "call failed: {e}"),
            Self::BadReply => f.write_str("reply does not match the interface"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for CallError<E> {}

/// Turns a reply into a client stub's typed result: what every generated client method ends with.
pub fn finish<R: Results, E: Word>(reply: Reply) -> Result<R, CallError<E>> {
    match reply {
        Ok(words) => R::from_words(words).ok_or(CallError::BadReply),
        Err(DispatchError::Method(word)) => {
            Err(E::from_word(word).map_or(CallError::BadReply, CallError::Method))
        }
        Err(other) => Err(CallError::Failed(other)),
    }
}

/// The argument words of a call: `words` first, then zeros. More than [`ARG_WORDS`] words is a
/// compile error at the generated call site.
pub const fn pack_args<const N: usize>(words: [u64; N]) -> [u64; ARG_WORDS] {
    const {
        assert!(
            N <= ARG_WORDS,
            "a method takes at most ARG_WORDS argument words"
        )
    };
    let mut args = [0; ARG_WORDS];
    let mut i = 0;
    while i < N {
        args[i] = words[i];
        i += 1;
    }
    args
}
