#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    auction_server::fuzz::commands(data);
});
