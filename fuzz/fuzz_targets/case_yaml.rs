//! A case read as YAML (a case file, or an HTTP body sent as application/yaml), then
//! evaluated: no input may panic or take long.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yakkan_fuzz_common::check_case;

#[path = "common.rs"]
mod yakkan_fuzz_common;

fuzz_target!(|data: &[u8]| check_case(data, yakkan::yaml::Syntax::Yaml));
