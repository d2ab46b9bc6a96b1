//! `st2-oslc`: the StackStorm OSLC adapter binary. All logic lives in the library.

fn main() {
    adapter_stackstorm::run();
}
