//! mimalloc, a C allocator, as the global allocator: every allocation of the runtime and the
//! handler goes through it.
use lambda_blocking_rt::{Context, Error};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn allocate(event: &[u8], _ctx: &Context) -> Result<String, Error> {
    // Many small allocations and one large one, freed again.
    let words: Vec<String> = (0..10_000).map(|n| format!("word{n}")).collect();
    let large = vec![7u8; 8 << 20];
    let sum: usize = large.iter().step_by(4096).map(|b| usize::from(*b)).sum();
    Ok(format!(
        "mimalloc={} words={} sum={sum} event={}",
        // SAFETY: mi_version takes nothing and returns an int.
        unsafe { libmimalloc_sys::mi_version() },
        words.len(),
        event.len()
    ))
}

fn main() -> std::process::ExitCode {
    lambda_blocking_rt::run(allocate)
}
