//! The same cases timed by criterion: `cargo bench` (compare medians within one run).

use criterion::{Criterion, criterion_group, criterion_main};

fn all(c: &mut Criterion) {
    for mut case in mlsframe_backends::cases() {
        c.bench_function(&case.name, |b| b.iter(&mut case.run));
    }
}

criterion_group!(benches, all);
criterion_main!(benches);
