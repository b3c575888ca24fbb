//! The register-level pieces the generated stubs rely on (`src/wire/`): scalar words, result
//! tuples, reply encoding, method words, argument packing, and the generic give-access/release
//! calls through a transport.

use core::convert::Infallible;

use k42_rights::wire::{
    self, ARG_WORDS, CallError, DispatchError, REPLY_WORDS, Reply, Results, Transport, Word,
    decode_reply, encode_reply, finish, meta, method_word, pack_args, split_method_word,
};
use k42_rights::{Badge, Rights, RightsError, XHandle, XObjectTable};

#[test]
fn scalars_round_trip_and_out_of_range_words_are_refused() {
    assert_eq!(u8::from_word(255u8.to_word()), Some(255));
    assert_eq!(u8::from_word(256), None);
    assert_eq!(u32::from_word(u64::from(u32::MAX) + 1), None);
    assert_eq!(i32::from_word((-5i32).to_word()), Some(-5));
    assert_eq!((-1i8).to_word(), u64::MAX, "sign-extended");
    assert_eq!(i8::from_word(128), None);
    assert_eq!(i64::from_word(i64::MIN.to_word()), Some(i64::MIN));
    assert_eq!(usize::from_word(7), Some(7));
    assert_eq!(bool::from_word(1), Some(true));
    assert_eq!(bool::from_word(2), None);
    let h = XHandle { index: 3, seq: 9 };
    assert_eq!(<XHandle as Word>::from_word(Word::to_word(h)), Some(h));
    assert_eq!(Rights::from_word(u64::MAX), Some(Rights::all()));
    assert_eq!(Infallible::from_word(0), None);
}

#[test]
fn results_fill_words_in_order_and_zero_the_rest() {
    assert_eq!(().into_words(), [0; wire::RESULT_WORDS]);
    assert_eq!(7u64.into_words(), [7, 0, 0, 0]);
    assert_eq!((1u8, true, -1i64).into_words(), [1, 1, u64::MAX, 0]);
    assert_eq!(<(u8, bool)>::from_words([1, 0, 9, 9]), Some((1, false)));
    assert_eq!(<(u8, bool)>::from_words([1, 2, 0, 0]), None);
    assert_eq!(
        <(u8, u8, u8, u8)>::from_words([1, 2, 3, 4]),
        Some((1, 2, 3, 4))
    );
}

#[test]
fn every_reply_survives_the_registers() {
    let h = XHandle { index: 1, seq: 2 };
    let replies: [Reply; 10] = [
        Ok([1, 2, 3, u64::MAX]),
        Err(DispatchError::Rights(RightsError::NoSuchHandle(h))),
        Err(DispatchError::Rights(RightsError::Stale(h))),
        Err(DispatchError::Rights(RightsError::Lacking {
            missing: Rights::WRITE | Rights::object(3),
            badge_matched: true,
        })),
        Err(DispatchError::Rights(RightsError::NotHolder)),
        Err(DispatchError::Rights(RightsError::TableFull)),
        Err(DispatchError::UnknownMethod { method: u64::MAX }),
        Err(DispatchError::BadArgument { index: 5 }),
        Err(DispatchError::Method(42)),
        Err(DispatchError::Transport(3)),
    ];
    for reply in replies {
        let words: [u64; REPLY_WORDS] = encode_reply(&reply);
        assert_eq!(decode_reply(words), Some(reply));
    }
    assert_eq!(
        encode_reply(&Ok([9; wire::RESULT_WORDS]))[0],
        0,
        "status 0 is success"
    );
    assert_eq!(decode_reply([u64::MAX, 0, 0, 0, 0]), None);
}

#[test]
fn method_words_carry_the_interface_and_the_index() {
    assert_eq!(method_word(7, 2), 0x0000_0007_0000_0002);
    assert_eq!(split_method_word(method_word(u32::MAX, 1)), (u32::MAX, 1));
}

#[test]
fn packed_arguments_are_zero_padded() {
    assert_eq!(pack_args([4, 5]), [4, 5, 0, 0, 0, 0]);
    assert_eq!(pack_args([]), [0; ARG_WORDS]);
}

#[test]
fn finish_types_the_reply() {
    assert_eq!(finish::<u32, u8>(Ok([5, 0, 0, 0])), Ok(5));
    assert_eq!(
        finish::<u32, u8>(Ok([u64::MAX, 0, 0, 0])),
        Err(CallError::BadReply)
    );
    assert_eq!(
        finish::<(), u8>(Err(DispatchError::Method(3))),
        Err(CallError::Method(3))
    );
    assert_eq!(
        finish::<(), u8>(Err(DispatchError::Method(300))),
        Err(CallError::BadReply)
    );
    let refused = DispatchError::UnknownMethod { method: 1 };
    assert_eq!(
        finish::<(), u8>(Err(refused)),
        Err(CallError::Failed(refused))
    );
}

/// A transport straight into `meta::dispatch`, stamping a badge the client cannot choose.
struct Direct<'t> {
    table: &'t mut XObjectTable<&'static str>,
    badge: Badge,
}

impl Transport for Direct<'_> {
    fn call(&mut self, handle: XHandle, method: u64, args: &[u64; ARG_WORDS]) -> Reply {
        // Through the registers and back, as a PPC would carry it.
        let reply = meta::dispatch(self.table, self.badge, handle, method, args);
        decode_reply(encode_reply(&reply)).expect("valid reply")
    }
}

#[test]
fn generic_give_access_and_release_through_a_transport() {
    const OWNER: Badge = Badge(1);
    const FRIEND: Badge = Badge(2);
    let mut table = XObjectTable::new();
    let h = table
        .insert("obj", OWNER, Rights::all(), Rights::empty())
        .unwrap();
    let mut owner = Direct {
        table: &mut table,
        badge: OWNER,
    };
    let given = meta::give_access(&mut owner, h, FRIEND, Rights::READ).unwrap();
    let mut friend = Direct {
        table: &mut table,
        badge: FRIEND,
    };
    assert_eq!(
        meta::give_access(&mut friend, given, OWNER, Rights::READ),
        Err(CallError::Failed(DispatchError::Rights(
            RightsError::Lacking {
                missing: Rights::CONTROL,
                badge_matched: true
            }
        )))
    );
    meta::release(&mut friend, given).unwrap();
    assert_eq!(
        meta::release(&mut friend, given),
        Err(CallError::<Infallible>::Failed(DispatchError::Rights(
            RightsError::Stale(given)
        )))
    );
    let unknown = method_word(meta::META_INTERFACE, 99);
    assert_eq!(
        friend.call(h, unknown, &[0; ARG_WORDS]),
        Err(DispatchError::UnknownMethod { method: unknown })
    );
}
