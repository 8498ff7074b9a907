//! A case read as JSON (an HTTP body sent as application/json), then evaluated: no input
//! may panic, and none may take long (libFuzzer's -timeout reports one that does).
#![no_main]

use libfuzzer_sys::fuzz_target;
use yakkan_fuzz_common::check_case;

#[path = "common.rs"]
mod yakkan_fuzz_common;

fuzz_target!(|data: &[u8]| check_case(data, yakkan::yaml::Syntax::Json));
