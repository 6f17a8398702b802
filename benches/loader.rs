//! Loading scenario files: 2,000 and 20,000 scenarios in one file, so that the cost per
//! scenario shows whether loading stays linear in the file's size (it was quadratic: 20,000
//! scenarios took 74 s, as issue 12 measured, and over 120 s on this machine).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn scenarios(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "- id: s{i}\n  title: t\n  area: metadata\n  severity: SHOULD\n  source: x\n  steps:\n    - request: {{ op: register, body_file: metadata/minimal.json }}\n"
            )
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut group = c.benchmark_group("load_scenarios");
    group.sample_size(10);
    for n in [2_000, 20_000] {
        let path = dir.path().join(format!("s{n}.yaml"));
        std::fs::write(&path, scenarios(n)).expect("write");
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &path, |b, path| {
            b.iter(|| dcr_harness::scenario::load_files(std::slice::from_ref(path)).expect("loads"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
